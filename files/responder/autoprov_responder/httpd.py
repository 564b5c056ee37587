# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The config host: HTTP and HTTPS on asyncio Protocols (no streams: fewer allocations per request).

ConfigHost decides (pure policy, transport-agnostic); HttpConnection moves bytes.
"""

from __future__ import annotations

import asyncio
import time
from email.utils import formatdate, parsedate_to_datetime

from . import SERVER_NAME
from .access import Fetch, Refused
from .files import ContentChanged, http_target
from .http_parse import HttpError, Limits, head_incomplete, parse_head

_REASONS = {
    200: "OK",
    304: "Not Modified",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    414: "URI Too Long",
    431: "Request Header Fields Too Large",
    503: "Service Unavailable",
    505: "HTTP Version Not Supported",
}
_MAX_REQUESTS_PER_CONNECTION = 1000
# A body is written in chunks, the next only once the transport's buffer is below its high-water
# mark: what a client that stops reading costs us is bounded (about 48 KiB), whatever the file size.
_STREAM_CHUNK = 16 * 1024
_WRITE_HIGH, _WRITE_LOW = 32 * 1024, 16 * 1024


class _Clock:
    """The Date header, formatted once per second."""

    def __init__(self):
        self._second = None
        self._text = ""

    def date(self, now):
        second = int(now)
        if second != self._second:
            self._second = second
            self._text = formatdate(second, usegmt=True)
        return self._text


class Response:
    __slots__ = ("status", "headers", "body", "entry", "close")

    def __init__(self, status, headers=(), body=b"", entry=None, close=False):
        self.status, self.headers, self.body, self.entry, self.close = status, list(headers), body, entry, close


def _error(status, extra=(), close=False):
    return Response(
        status, list(extra) + [("Content-Type", "text/plain; charset=utf-8")], b"%d %s\n" % (status, _REASONS[status].encode()), close=close
    )


def _refused(reason):
    """bad_path 400; no valid manifest, or a file between its write and its manifest's: 503 (try again); else 404."""
    if reason == "bad_path":
        return _error(400)
    if reason in ("no_manifest", "updating"):
        return _error(503, [("Retry-After", "10")])
    return _error(404)


def _not_modified(request, entry):
    """RFC 9110 13.2.2: If-None-Match wins; If-Modified-Since only without it."""
    inm = request.headers.get("if-none-match")
    if inm is not None:
        for tag in inm.split(","):
            tag = tag.strip()
            if tag == "*" or (tag[2:] if tag.startswith("W/") else tag) == entry.etag:
                return True
        return False
    ims = request.headers.get("if-modified-since")
    if ims:
        try:
            since = parsedate_to_datetime(ims).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            return False
        return int(entry.mtime) <= since
    return False


class ConfigHost:
    """Answers one parsed request: policy only, no sockets."""

    def __init__(self, config, access, log):
        self.config = config
        self.access = access
        self.log = log
        self.limits = Limits(config.http_limits["request_line"], config.http_limits["header_bytes"], config.http_limits["headers"])
        self.clock = _Clock()

    def handle(self, request, source, proto):
        now = time.time()
        fetch = Fetch(now, proto, request.method, source, request.target, request.headers.get("user-agent"))
        response, reason, sha256 = self._decide(request, fetch, now)
        sent = 0
        if response.status == 200 and request.method == "GET":
            sent = response.entry.size
        self.access.record(fetch, response.status, reason, sent, sha256)
        return response

    def _decide(self, request, fetch, now):
        """(Response, refusal reason or None, sha256 of what the device has). The policy is access.py's."""
        access = self.access
        if request.method not in ("GET", "HEAD"):
            return _error(405, [("Allow", "GET, HEAD")]), "method", None
        refusal = access.source_refusal(fetch.source, now)
        if refusal:
            return _error(403), refusal, None
        try:
            rel = http_target(request.target, self.config.url_path)
        except Refused as refused:
            access.miss(fetch.source, request.target, now)
            return _refused(refused.reason), refused.reason, None
        manifest = access.manifests.get()
        entry = access.describe(fetch, rel, manifest, manifest.user_agent(fetch.user_agent))
        try:
            entry, found = access.resolve(rel, manifest)
        except Refused as refused:
            access.miss(fetch.source, rel, now)
            return _refused(refused.reason), refused.reason, None
        denied = access.http_gate(request.headers, request.method, request.target, entry, fetch, now, fetch.proto == "https")
        if denied is not None:
            status, reason, extra = denied
            return _error(status, extra), reason, None
        secret = entry is not None and entry.secret
        if secret and self.config.ua_check and not access.ua_matches_file(manifest, entry, fetch.user_agent):
            access.auth_failure(fetch.source, entry.mac, now)  # credentials, but another device's identity
            return _error(403), "ua_mismatch", None
        access.admit(entry, fetch.source, now)
        cache = "private, no-cache" if secret else "no-cache"
        headers = [("ETag", found.etag), ("Last-Modified", formatdate(found.mtime, usegmt=True)), ("Cache-Control", cache)]
        if _not_modified(request, found):
            return Response(304, headers), None, found.sha256
        headers.append(("Content-Type", found.content_type))
        return Response(200, headers, found.data, entry=found), None, found.sha256

    def serialise(self, response, keep_alive, now):
        """Status line and headers (bytes); the body follows unless HEAD or streaming."""
        lines = [
            "HTTP/1.1 %d %s" % (response.status, _REASONS[response.status]),
            "Date: " + self.clock.date(now),
            "Server: " + SERVER_NAME,
        ]
        lines.extend("%s: %s" % pair for pair in response.headers)
        if response.status != 304:
            length = response.entry.size if response.entry is not None else len(response.body)
            lines.append("Content-Length: %d" % length)
        lines.append("Connection: keep-alive" if keep_alive else "Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class HttpConnection(asyncio.Protocol):
    """One client connection: read heads, answer in order (pipelining), keep-alive, timeouts.

    `table` (listen.ConnectionTable) admitted it before it was made; it is released when lost, and
    the table may evict() it while it is idle to make room for another source.
    """

    def __init__(self, host, proto, source="?", table=None):
        self.host = host
        self.proto = proto
        self.loop = asyncio.get_event_loop()
        self.transport = None
        self.source = source
        self.table = table
        self.buffer = b""
        self.timer = None
        self.requests = 0
        self.busy = False  # a body is being streamed
        self.closing = False
        self._drained = None

    @property
    def idle(self):
        """Between requests (or before the first): evicting it loses no answer."""
        return not self.busy and not self.buffer

    def evict(self):
        self.closing = True
        if self.transport is not None:
            self.transport.abort()

    # --- asyncio callbacks -------------------------------------------------------------------
    def connection_made(self, transport):
        self.transport = transport
        if self.closing:  # evicted while its TLS handshake was under way
            transport.abort()
            return
        transport.set_write_buffer_limits(high=_WRITE_HIGH, low=_WRITE_LOW)
        self._arm(self.host.config.http_limits["header_timeout"])

    def connection_lost(self, exc):
        if self.table is not None:
            self.table.release(self.source, self)
        self.closing = True
        if self.timer is not None:
            self.timer.cancel()
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)

    def data_received(self, data):
        if self.closing:
            return
        self.buffer += data
        if not self.busy:
            self._process()
        elif len(self.buffer) > self.host.limits.request_line + self.host.limits.header_bytes:
            self.closing = True  # pipelining far ahead of a large download: not a phone
            self.transport.abort()

    def eof_received(self):
        return False

    def pause_writing(self):
        self._drained = self.loop.create_future()

    def resume_writing(self):
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)
        self._drained = None

    # --- requests ----------------------------------------------------------------------------
    def _arm(self, seconds):
        if self.timer is not None:
            self.timer.cancel()
        self.timer = self.loop.call_later(seconds, self._timed_out)

    def _timed_out(self):
        if self.closing or self.transport is None:
            return
        if self.buffer:  # a request was started but not finished in time (slowloris)
            self._send_error(408)
        else:
            self.closing = True
            self.transport.close()

    def _send_error(self, status):
        host = self.host
        response = _error(status, close=True)
        now = time.time()
        self.transport.write(host.serialise(response, False, now) + response.body)
        fetch = Fetch(now, self.proto, "-", self.source, self.buffer[:80].decode("latin-1", "replace"))
        host.access.record(fetch, status, "timeout" if status == 408 else "bad_request")
        self.closing = True
        self.buffer = b""
        self.transport.close()

    def _process(self):
        host = self.host
        while self.buffer and not self.closing and not self.busy:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                try:
                    head_incomplete(self.buffer, host.limits)
                except HttpError as exc:
                    self._send_error(exc.status)
                return
            head, self.buffer = self.buffer[:end], self.buffer[end + 4 :]
            try:
                request = parse_head(head, host.limits)
            except HttpError as exc:
                self._send_error(exc.status)
                return
            self.requests += 1
            keep_alive = request.keep_alive and self.requests < _MAX_REQUESTS_PER_CONNECTION
            response = host.handle(request, self.source, self.proto)
            keep_alive = keep_alive and not response.close
            now = time.time()
            head_bytes = host.serialise(response, keep_alive, now)
            if request.method == "HEAD" or response.status == 304:
                self.transport.write(head_bytes)
            elif response.entry is not None and (response.body is None or len(response.body) > _STREAM_CHUNK):
                self.busy = True
                if self.timer is not None:
                    self.timer.cancel()  # _stream has its own stall timeout
                self.transport.write(head_bytes)
                asyncio.ensure_future(self._stream(response.entry, keep_alive))
                return
            else:
                self.transport.write(head_bytes + response.body)
            if not keep_alive:
                self.closing = True
                self.transport.close()
                return
            self._arm(host.config.http_limits["idle_timeout"] if not self.buffer else host.config.http_limits["header_timeout"])

    async def _stream(self, entry, keep_alive):
        """Send a body chunk by chunk, obeying the transport's flow control; a client that takes
        longer than `stall_timeout` to take one chunk is disconnected (a slow reader holds no slot)."""
        stall = self.host.config.http_limits["stall_timeout"]
        body = None
        try:
            body = entry.body()
            while not self.closing and not body.done:
                self.transport.write(body.read(_STREAM_CHUNK))
                if self._drained is not None:
                    await asyncio.wait_for(self._drained, stall)
        except ContentChanged:
            self.host.access.files.forget(entry.rel)  # rewritten in place: read again next time
            self.host.log.event("warning", "http_file_changed", src=self.source, path=entry.rel)
            self._abort()
            return
        except (OSError, asyncio.TimeoutError):
            self._abort()
            return
        finally:
            if body is not None:
                body.close()
        self.busy = False
        if not keep_alive or self.closing:
            self.closing = True
            self.transport.close()
            return
        self._arm(self.host.config.http_limits["idle_timeout"])
        self._process()

    def _abort(self):
        self.closing = True
        self.transport.abort()
