# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""SIP over UDP, the little that pnp_probe and resync share: addresses, message parsing, identifiers, RFC 3261 timers.

Python standard library only: both modules run this on their target host.
(The responder in files/responder has its own, stricter parser: it is installed
on the PBX without this collection.)
"""

from __future__ import annotations

import ipaddress
import re
import socket
import uuid

SIP_PORT = 5060
# RFC 3261 17.1.2.2: a non-INVITE request over UDP is sent again after T1, then at doubling
# intervals up to T2 (T2 at once after a provisional answer), until a final answer or Timer F.
T1 = 0.5
T2 = 4.0
TIMER_F = 64 * T1

_STATUS_LINE = re.compile(r"^SIP/2\.0\s+(\d{3})\s*(.*)$")
_REQUEST_LINE = re.compile(r"^([A-Z]+)\s+(\S+)\s+SIP/2\.0$")
# RFC 3261 7.3.3 compact header forms.
_COMPACT = {"i": "call-id", "v": "via", "f": "from", "t": "to", "m": "contact", "c": "content-type", "l": "content-length", "o": "event"}
_BRANCH = re.compile(r";\s*branch\s*=\s*([^;,\s]+)", re.I)
_HOSTPORT = (re.compile(r"^\[([^\]]+)\](?::(\d+))?$"), re.compile(r"^([^:\[\]]+)(?::(\d+))?$"))


class SipError(ValueError):
    """A value SIP cannot use; the text says why. Callers add which field or device it came from."""


# -- addresses ---------------------------------------------------------------------
def parse_hostport(text, default_port=SIP_PORT):
    """'host', 'host:port', '[IPv6]' or '[IPv6]:port' -> (host, port)."""
    value = str(text).strip()
    match = _HOSTPORT[0].match(value) or _HOSTPORT[1].match(value)
    if not match:
        raise SipError("%r is not host, host:port or [IPv6]:port" % (text,))
    port = int(match.group(2) or default_port)
    if not 0 < port < 65536:
        raise SipError("%r: port %d is not a UDP port (1-65535)" % (text, port))
    return match.group(1), port


def uri_host(host):
    """A host as URIs and Via write it: IPv6 addresses in brackets."""
    return "[%s]" % host if ":" in host else host


def hostport(host, port):
    return "%s:%d" % (uri_host(host), port)


def is_multicast(host):
    try:
        return ipaddress.ip_address(host).is_multicast
    except ValueError:
        return False


def plain_address(text):
    """An IP address as text, IPv4-mapped IPv6 (::ffff:a.b.c.d, as dual-stack servers record IPv4 peers) unwrapped."""
    address = ipaddress.ip_address(text)
    mapped = getattr(address, "ipv4_mapped", None)
    return str(mapped or address)


def route_source(host, port):
    """The local address the kernel would send from to reach host (nothing is sent)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect((host, port))
        except OSError as exc:
            raise SipError("%s is not reachable from here: %s" % (hostport(host, port), exc.strerror)) from None
        return sock.getsockname()[0]


# -- identifiers -------------------------------------------------------------------
def new_branch():
    """A Via branch (RFC 3261 8.1.1.7: the magic cookie, then unique per transaction)."""
    return "z9hG4bK" + uuid.uuid4().hex[:20]


def new_tag():
    return uuid.uuid4().hex[:10]


def new_call_id(host):
    return "%s@%s" % (uuid.uuid4().hex[:20], host)


# -- messages ------------------------------------------------------------------------
def parse_message(data):
    """A SIP message -> dict(kind='request'|'response', method/uri or status/reason, headers (lowercase names, lists), body)."""
    text = data.decode("utf-8", errors="replace")
    head, blank, body = text.partition("\r\n\r\n")
    if not blank:
        head, blank, body = text.partition("\n\n")
    lines = head.replace("\r\n", "\n").split("\n")
    headers = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers.setdefault(_COMPACT.get(name.strip().lower(), name.strip().lower()), []).append(value.strip())
    first = lines[0].strip()
    status = _STATUS_LINE.match(first)
    if status:
        return {"kind": "response", "status": int(status.group(1)), "reason": status.group(2), "headers": headers, "body": body}
    req = _REQUEST_LINE.match(first)
    if req:
        return {"kind": "request", "method": req.group(1), "uri": req.group(2), "headers": headers, "body": body}
    return None


def header(message, name):
    values = message["headers"].get(name)
    return values[0] if values else None


def top_branch(message):
    """The branch of the top Via: what a response is matched to its client transaction by (RFC 3261 17.1.3)."""
    via = header(message, "via")
    match = _BRANCH.search(via) if via else None
    return match.group(1) if match else None


def cseq_method(message):
    parts = (header(message, "cseq") or "").split()
    return parts[1].upper() if len(parts) == 2 else None


def build_ok(request):
    """200 OK for a request, echoing Via/From/To/Call-ID/CSeq."""
    lines = ["SIP/2.0 200 OK"]
    for name, label in (("via", "Via"), ("from", "From"), ("to", "To"), ("call-id", "Call-ID"), ("cseq", "CSeq")):
        lines += ["%s: %s" % (label, value) for value in request["headers"].get(name, [])]
    lines.append("Content-Length: 0")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


# -- timers --------------------------------------------------------------------------------
class Retransmission:
    """When to (re)send one non-INVITE request over UDP (RFC 3261 17.1.2.2).

    Timer E: first at once, then after T1, doubling up to T2; after a provisional answer every T2.
    Timer F: the deadline (RFC 3261: 64*T1 = 32 s; callers may give less).
    """

    def __init__(self, start, timeout=TIMER_F, t1=T1, t2=T2):
        self.next_send = start
        self.deadline = start + timeout
        self.interval = t1
        self.t2 = t2
        self.count = 0

    def due(self, now):
        return self.next_send <= now < self.deadline

    def sent(self, now):
        self.count += 1
        self.next_send = now + self.interval
        self.interval = min(self.interval * 2, self.t2)

    def provisional(self):
        self.interval = self.t2

    def expired(self, now):
        return now >= self.deadline

    def wake_at(self):
        """The next moment something is to be done: a retransmission or the deadline."""
        return min(self.next_send, self.deadline)


def send_times(timeout=TIMER_F, provisional_after=None):
    """Offsets (s) at which a request is sent within timeout when no final answer comes
    (a provisional answer arriving after the send number `provisional_after`)."""
    timer, now, times = Retransmission(0.0, timeout), 0.0, []
    while not timer.expired(now):
        timer.sent(now)
        times.append(now)
        if provisional_after is not None and timer.count == provisional_after:
            timer.provisional()
        now = timer.next_send
    return times
