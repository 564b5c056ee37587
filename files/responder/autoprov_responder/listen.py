# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Accepting TCP connections so that no single source takes the service: caps, reserve, eviction, descriptors.

- ConnectionTable: at most `per_source` connections per address; the last `reserve` of the
  `max_connections` slots only for addresses that hold none yet; when every slot is taken, the
  longest-idle connection of the address holding the most makes room for an address holding fewer.
- Listener: our own accept loop. asyncio's loops over `backlog` accept() calls per wake-up and,
  at EMFILE, logs and schedules a retry for each of them (a log flood and a busy loop); here a
  shortage of descriptors pauses accepting with a growing back-off and one log line per pause.
- fit_descriptors: the soft RLIMIT_NOFILE raised toward what the caps need (systemd's default
  soft limit is 1,024); where the hard limit forbids it, the caller lowers the caps to fit.
"""

from __future__ import annotations

import asyncio
import errno
import os
import socket
import struct
import time

from .guard import plain_ip

OUT_OF_RESOURCES = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)
SPARE_DESCRIPTORS = 128  # what is not a client connection: the store, listeners, PnP, files being read, TFTP
_ACCEPTS_PER_WAKEUP = 64
_BACKOFF_FIRST, _BACKOFF_MAX = 0.05, 2.0
_LINGER_RESET = struct.pack("ii", 1, 0)
_REFUSALS_LOGGED_EVERY = 10.0  # seconds: refused connections are counted, one line per interval


def fit_descriptors(wanted):
    """Raise the soft RLIMIT_NOFILE toward `wanted` (never above the hard limit); the soft limit now."""
    try:
        import resource
    except ImportError:  # not a POSIX system: nothing to fit
        return wanted
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):  # a seccomp filter (the unit's ~@resources) or a limit: keep what we have
            pass
        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return wanted if soft == resource.RLIM_INFINITY else soft


def refuse(conn):
    """Close an accepted socket at once with a reset: no TIME_WAIT here, no data read."""
    try:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
    except OSError:
        pass
    conn.close()


def listen_socket(host, port, backlog):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)  # "[::]" is IPv6 only (docs/responder.md)
        sock.bind((host, port))
        sock.listen(backlog)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


class ConnectionTable:
    """Who holds which connection. Members need `idle` (bool) and `evict()`."""

    def __init__(self, max_connections, per_source, reserve):
        self.max_connections = int(max_connections)
        self.per_source = int(per_source)
        self.reserve = min(int(reserve), self.max_connections // 2)
        self.total = 0
        self._by_source = {}  # source -> {connection: None}, oldest first

    def held(self, source):
        return len(self._by_source.get(source, ()))

    def admit(self, source):
        """None when `source` may open one more connection now (room made if needed), else the reason.

        A source at its cap gives up its own longest-idle connection (a site behind one NAT address
        keeps working; a flood only churns itself); with none idle it is refused.
        """
        held = self.held(source)
        if held >= self.per_source:
            if not self._evict_idle(source):
                return "per_source"
            held -= 1
        if self.total >= self.max_connections or (held and self.total >= self.max_connections - self.reserve):
            if not self._evict_for(held):
                return "full"
        return None

    def add(self, source, connection):
        self._by_source.setdefault(source, {})[connection] = None
        self.total += 1

    def release(self, source, connection):
        """Forget a connection (idempotent: eviction releases it before it is gone)."""
        held = self._by_source.get(source)
        if held is not None and held.pop(connection, False) is None:
            self.total -= 1
            if not held:
                del self._by_source[source]

    def _evict_for(self, held):
        """Close the longest-idle connection of the address holding the most, if it holds more than `held` + 1."""
        if not self._by_source:
            return False
        busiest = max(self._by_source, key=lambda s: len(self._by_source[s]))
        if len(self._by_source[busiest]) <= held + 1:
            return False
        return self._evict_idle(busiest)

    def _evict_idle(self, source):
        for connection in self._by_source.get(source, ()):
            if connection.idle:
                self.release(source, connection)
                connection.evict()
                return True
        return False


class Listener:
    """Accepts from one listening socket and hands each connection to on_accept(sock, address)."""

    def __init__(self, loop, sock, on_accept, log, label):
        self.loop, self.sock, self.on_accept, self.log, self.label = loop, sock, on_accept, log, label
        self._fd = sock.fileno()
        self._backoff = 0.0
        self._timer = None

    def start(self):
        self.loop.add_reader(self._fd, self._readable)

    def close(self):
        if self._timer is not None:
            self._timer.cancel()
        self.loop.remove_reader(self._fd)
        self.sock.close()

    def _readable(self):
        for _unused in range(_ACCEPTS_PER_WAKEUP):
            try:
                conn, address = self.sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except ConnectionAbortedError:
                continue
            except OSError as exc:
                if exc.errno in OUT_OF_RESOURCES:
                    self._pause(exc)
                else:
                    self.log.event("warning", "http_accept_failed", listen=self.label, error=exc.strerror)
                return
            self._backoff = 0.0
            self.on_accept(conn, address)

    def _pause(self, exc):
        """Out of descriptors (or memory): stop accepting for a while instead of spinning on a readable socket."""
        self.loop.remove_reader(self._fd)
        self._backoff = min(max(self._backoff * 2, _BACKOFF_FIRST), _BACKOFF_MAX)
        self.log.event("warning", "http_accept_paused", listen=self.label, error=os.strerror(exc.errno), seconds=self._backoff)
        self._timer = self.loop.call_later(self._backoff, self._resume)

    def _resume(self):
        self._timer = None
        self.loop.add_reader(self._fd, self._readable)


class Refusals:
    """Connections refused at accept: counted per reason, one log line per interval (never one per connection)."""

    def __init__(self, log, label):
        self.log, self.label = log, label
        self._counts = {}  # reason -> [refused since the last line, time of the last line, last source]

    def add(self, reason, source):
        now = time.monotonic()
        count = self._counts.setdefault(reason, [0, -_REFUSALS_LOGGED_EVERY, source])
        count[0] += 1
        count[2] = source
        if now - count[1] >= _REFUSALS_LOGGED_EVERY:
            self.log.event("warning", "http_too_many_connections", listen=self.label, reason=reason, src=source, refused=count[0])
            count[0], count[1] = 0, now


class Acceptor:
    """Admits accepted sockets through the ConnectionTable and runs each as `make_protocol(source)`."""

    def __init__(self, loop, table, make_protocol, log, label, tls=None, handshake_timeout=None):
        self.loop, self.table, self.make_protocol = loop, table, make_protocol
        self.tls, self.handshake_timeout = tls, handshake_timeout
        self.refusals = Refusals(log, label)
        self._connecting = set()  # the loop keeps only weak references to tasks

    def __call__(self, conn, address):
        source = plain_ip(address[0])
        reason = self.table.admit(source)
        if reason is not None:
            refuse(conn)
            self.refusals.add(reason, source)
            return
        protocol = self.make_protocol(source)
        self.table.add(source, protocol)  # counted from now: a TLS handshake holds a slot too
        task = self.loop.create_task(self._connect(conn, source, protocol))
        self._connecting.add(task)
        task.add_done_callback(self._connecting.discard)

    async def _connect(self, conn, source, protocol):
        try:
            await self.loop.connect_accepted_socket(
                lambda: protocol, conn, ssl=self.tls, ssl_handshake_timeout=self.handshake_timeout if self.tls else None
            )
        except (OSError, asyncio.TimeoutError, ValueError):  # a failed or timed-out TLS handshake, a reset
            self.table.release(source, protocol)
            conn.close()
