# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read-only TFTP (RFC 1350) with the blksize, tsize and timeout options (RFC 2347-2349).

TFTP carries no credentials and no User-Agent, so a secret file (or any file
when auth scope is "all") goes only to sources in `tftp_secret_allow`; the
allow-list, the lockout and the path rules are the config host's.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import time

from .access import Fetch
from .files import Refused, tftp_filename
from .guard import Networks, RateLimit, plain_ip

RRQ, WRQ, DATA, ACK, ERROR, OACK = 1, 2, 3, 4, 5, 6
NOT_FOUND, ACCESS_VIOLATION, ILLEGAL_OPERATION, UNKNOWN_TID, BAD_OPTIONS = 1, 2, 4, 5, 8
DEFAULT_BLKSIZE, MIN_BLKSIZE, MAX_BLKSIZE = 512, 8, 65464
DEFAULT_TIMEOUT, MAX_TIMEOUT, RETRIES = 1.0, 5, 5  # a slot is held at most MAX_TIMEOUT * (RETRIES + 1) s without an ACK
MAX_TRANSFERS = 256
PER_SOURCE_TRANSFERS = 8
# Answers to addresses that have not acknowledged anything yet (a spoofed RRQ names a victim):
# at most this many per address and window, each sent once, never retransmitted.
UNPROVEN_ANSWERS, UNPROVEN_WINDOW = 16, 10.0
MIN_RATE = 16 * 1024  # bytes per second: a transfer slower than this (after its first minute) is ended


class TftpError(ValueError):
    pass


class ReadRequest:
    __slots__ = ("filename", "mode", "options")

    def __init__(self, filename, mode, options):
        self.filename, self.mode, self.options = filename, mode, options


def parse_request(packet):
    """An RRQ/WRQ packet -> (opcode, ReadRequest); TftpError for anything malformed."""
    if len(packet) < 4:
        raise TftpError("short packet")
    opcode = struct.unpack("!H", packet[:2])[0]
    if opcode not in (RRQ, WRQ):
        raise TftpError("not a request")
    fields = packet[2:].split(b"\0")
    if len(fields) < 3 or fields[-1] != b"" or len(fields) % 2 != 1:
        raise TftpError("malformed request")
    try:
        strings = [f.decode("ascii") for f in fields[:-1]]
    except UnicodeDecodeError:
        raise TftpError("non-ASCII request")
    filename, mode = strings[0], strings[1].lower()
    if not filename or mode not in ("octet", "netascii"):
        raise TftpError("bad file name or mode")
    options = {}
    for i in range(2, len(strings), 2):
        options[strings[i].lower()] = strings[i + 1]
    return opcode, ReadRequest(filename, mode, options)


def negotiate(options, size):
    """The options we accept (RFC 2347: unknown ones are ignored) -> (blksize, timeout, oack dict)."""
    blksize, timeout, oack = DEFAULT_BLKSIZE, DEFAULT_TIMEOUT, {}
    if "blksize" in options:
        try:
            wanted = int(options["blksize"])
        except ValueError:
            wanted = 0
        if wanted >= MIN_BLKSIZE:
            blksize = min(wanted, MAX_BLKSIZE)
            oack["blksize"] = str(blksize)
    if "timeout" in options:
        try:
            wanted = int(options["timeout"])
        except ValueError:
            wanted = 0
        if 1 <= wanted <= MAX_TIMEOUT:  # RFC 2349 allows up to 255 s; longer ones are declined (not in the OACK)
            timeout = float(wanted)
            oack["timeout"] = str(wanted)
    if "tsize" in options:
        oack["tsize"] = str(size)
    return blksize, timeout, oack


def error_packet(code, message):
    return struct.pack("!HH", ERROR, code) + message.encode("ascii") + b"\0"


def netascii(data):
    """RFC 764 line ends: CR -> CR NUL, LF -> CR LF."""
    return data.replace(b"\r", b"\r\0").replace(b"\n", b"\r\n")


class Blocks:
    """A file's bytes as consecutive blocks (octet or netascii), read in order through a bounded window.

    Blocks are asked for in order only (the transfer keeps the last packet for retransmission), so
    a netascii transfer never converts, or holds, more than about two blocks of the file.
    """

    def __init__(self, body, as_netascii):
        self.body = body
        self.as_netascii = as_netascii
        self._pending = b""

    def next(self, size):
        while len(self._pending) < size and not self.body.done:
            raw = bytes(self.body.read(size))
            self._pending += netascii(raw) if self.as_netascii else raw
        block, self._pending = self._pending[:size], self._pending[size:]
        return block

    def close(self):
        self.body.close()


class TftpServer(asyncio.DatagramProtocol):
    """The well-known port: reads requests, starts a transfer (own socket, own TID) per read."""

    def __init__(self, config, access, log, loop):
        self.config = config
        self.access = access
        self.log = log
        self.loop = loop
        self.secret_allow = Networks(config.tftp_secret_allow, empty_means_all=False)
        self.transport = None
        self.local_host = "0.0.0.0"
        self.transfers = set()
        self.per_source = {}  # address -> transfers under way
        self.unproven = RateLimit(UNPROVEN_ANSWERS, UNPROVEN_WINDOW)

    def connection_made(self, transport):
        self.transport = transport
        self.local_host = transport.get_extra_info("sockname")[0]

    def datagram_received(self, data, addr):
        source = (plain_ip(addr[0]), addr[1])
        try:
            opcode, request = parse_request(data)
        except TftpError:
            return  # not a request to this port: ignore, as TFTP servers do
        now = time.time()
        fetch = Fetch(now, "tftp", "RRQ" if opcode == RRQ else "WRQ", source[0], request.filename)
        if opcode == WRQ:
            return self._refuse(fetch, addr, ACCESS_VIOLATION, "read-only server", 403, "method")
        refusal = self.access.source_refusal(source[0], now, proto="tftp")
        if refusal:
            return self._refuse(fetch, addr, ACCESS_VIOLATION, "access violation", 403, refusal)
        try:
            rel = tftp_filename(request.filename, self.config.url_path)
            manifest = self.access.manifests.get()
            entry = self.access.describe(fetch, rel, manifest)
            found = self.access.lookup(rel)
        except Refused as refused:
            self.access.miss(source[0], request.filename, now, proto="tftp")
            if refused.reason == "bad_path":
                return self._refuse(fetch, addr, ACCESS_VIOLATION, "access violation", 400, "bad_path")
            return self._refuse(fetch, addr, NOT_FOUND, "file not found", 404, "not_found")
        guarded = (entry is not None and entry.secret) or (self.config.auth is not None and self.config.auth.scope == "all")
        if guarded and source[0] not in self.secret_allow:
            return self._refuse(fetch, addr, ACCESS_VIOLATION, "access violation", 403, "tftp_secret")
        device_refusal = self.access.device_refusal(entry, source[0], now)
        if device_refusal is not None:
            return self._refuse(fetch, addr, ACCESS_VIOLATION, "access violation", 403, device_refusal)
        repeated = next((t for t in self.transfers if t.peer == addr), None)
        if repeated is not None:
            return repeated.repeat()  # the client repeated its RRQ: our first answer again, not a second transfer
        if len(self.transfers) >= MAX_TRANSFERS or self.per_source.get(source[0], 0) >= PER_SOURCE_TRANSFERS:
            return self._refuse(fetch, addr, 0, "server busy", 503, "busy")
        if not self.may_answer(source[0], now):
            return self.access.record(fetch, 503, "unproven")
        self.access.admit(entry, source[0], now)
        transfer = TftpTransfer(self, fetch, found, request, addr)
        self._hold(transfer, 1)
        self.loop.create_task(transfer.start())

    def may_answer(self, address, now):
        """Whether an address that has not acknowledged anything may get one more first answer now."""
        allowed, first_refusal = self.unproven.allow(address, now)
        if first_refusal:
            self.log.event("warning", "tftp_unproven_limited", src=address, answers=UNPROVEN_ANSWERS, seconds=UNPROVEN_WINDOW)
        return allowed

    def _hold(self, transfer, change):
        """Count a transfer in (1) or out (-1) of the global and per-source slots."""
        address = plain_ip(transfer.peer[0])
        if change > 0:
            self.transfers.add(transfer)
        else:
            self.transfers.discard(transfer)
        held = self.per_source.get(address, 0) + change
        if held > 0:
            self.per_source[address] = held
        else:
            self.per_source.pop(address, None)

    def release(self, transfer):
        if transfer in self.transfers:
            self._hold(transfer, -1)

    def _refuse(self, fetch, addr, code, message, status, reason):
        if self.may_answer(fetch.source, fetch.time):  # an error packet is an answer too (spoofable RRQs)
            self.transport.sendto(error_packet(code, message), addr)
        self.access.record(fetch, status, reason)


class TftpTransfer(asyncio.DatagramProtocol):
    """One read: OACK (when options were asked), then DATA blocks, each retransmitted until ACKed.

    Until the peer has acknowledged something, its address may be a spoofed victim's: the first
    packet goes out once (the client's repeated RRQ brings it again, within the server's budget)
    and is never retransmitted by us.
    """

    def __init__(self, server, fetch, entry, request, peer):
        self.server = server
        self.fetch = fetch
        self.entry = entry
        self.request = request
        self.peer = peer
        self.transport = None
        self.handle = None
        self.blocks = None
        self.size = 0
        self.blksize = DEFAULT_BLKSIZE
        self.timeout = DEFAULT_TIMEOUT
        self.block = 0  # the block (0: the OACK) we wait to see acknowledged
        self.last_packet = None
        self.tries = 0
        self.sent = 0
        self.proven = False  # the peer acknowledged a packet: it is where our packets arrive
        self.deadline = 0.0
        self.done = False

    async def start(self):
        as_netascii = self.request.mode == "netascii"
        try:
            self.size = self.entry.netascii_size() if as_netascii else self.entry.size
            self.blocks = Blocks(self.entry.body(), as_netascii)
        except OSError:  # gone, or ContentChanged while counting
            self.server._refuse(self.fetch, self.peer, NOT_FOUND, "file not found", 404, "not_found")
            self.server.release(self)
            return
        self.blksize, self.timeout, oack = negotiate(self.request.options, self.size)
        self.deadline = self.server.loop.time() + 60 + self.size / MIN_RATE
        self.server.log.event(
            "debug",
            "tftp_start",
            src="%s:%d" % self.peer[:2],
            path=self.fetch.path,
            mode=self.request.mode,
            asked=",".join("%s=%s" % kv for kv in sorted(self.request.options.items())) or None,
            oack=",".join("%s=%s" % kv for kv in sorted(oack.items())) or None,
        )
        loop = self.server.loop
        try:
            await loop.create_datagram_endpoint(lambda: self, local_addr=(self.server.local_host, 0), family=self._family())
        except OSError as exc:
            self.server.log.event("error", "tftp_socket_failed", error=exc.strerror)
            self.blocks.close()
            self.server.release(self)
            return
        if oack:
            payload = b"".join(k.encode() + b"\0" + v.encode() + b"\0" for k, v in oack.items())
            self._send(struct.pack("!H", OACK) + payload, 0)
        else:
            self._send_block(1)

    def connection_made(self, transport):
        self.transport = transport

    def _family(self):
        return socket.AF_INET6 if ":" in self.server.local_host else socket.AF_INET

    def repeat(self):
        """The peer sent its RRQ again: it may not have had our first packet (only before any ACK)."""
        if not self.proven and self.last_packet is not None and self.server.may_answer(self.fetch.source, time.time()):
            self.transport.sendto(self.last_packet, self.peer)

    def _send_block(self, number):
        try:
            chunk = self.blocks.next(self.blksize)
        except OSError:  # unreadable now, or rewritten in place while sent (ContentChanged)
            self._finish(404, "not_found")
            return
        self._send(struct.pack("!HH", DATA, number & 0xFFFF) + chunk, number)

    def _send(self, packet, block):
        self.block = block
        self.last_packet = packet
        self.tries = 0
        self.transport.sendto(packet, self.peer)
        self._arm()

    def _arm(self):
        if self.handle is not None:
            self.handle.cancel()
        self.handle = self.server.loop.call_later(self.timeout, self._retransmit)

    def _retransmit(self):
        if self.done:
            return
        self.tries += 1
        if self.tries > RETRIES or self.server.loop.time() > self.deadline:
            self._finish(408, "timeout")
            return
        if self.proven:
            self.transport.sendto(self.last_packet, self.peer)
        self._arm()

    def datagram_received(self, data, addr):
        if self.done:
            return
        if addr[:2] != self.peer[:2]:
            self.transport.sendto(error_packet(UNKNOWN_TID, "unknown transfer id"), addr)
            return
        if len(data) < 4:
            return
        opcode, number = struct.unpack("!HH", data[:4])
        if opcode == ERROR:
            self._finish(400, "bad_request" if self.block == 0 else "timeout")
            return
        if opcode != ACK or number != self.block & 0xFFFF:
            return  # a duplicate or stray ACK: never answer it (Sorcerer's Apprentice, RFC 1123 4.2.3.1)
        self.proven = True
        if self.block > 0:
            self.sent = min(self.size, self.block * self.blksize)
        if self.block * self.blksize > self.size:  # the short (possibly empty) last block was acknowledged
            self._finish(200, None)
            return
        if self.server.loop.time() > self.deadline:
            self._finish(408, "timeout")  # slower than MIN_RATE: not a phone fetching, a slot held
            return
        self._send_block(self.block + 1)

    def error_received(self, exc):
        self._finish(408, "timeout")

    def _finish(self, status, reason):
        if self.done:
            return
        self.done = True
        if self.handle is not None:
            self.handle.cancel()
        if self.transport is not None:
            self.transport.close()
        if self.blocks is not None:
            self.blocks.close()
        self.server.release(self)
        sha256 = self.entry.sha256 if status == 200 else None
        self.server.access.record(self.fetch, status, reason, self.sent, sha256)
