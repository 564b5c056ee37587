# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""SIP over UDP, only as much as PnP needs: parse a datagram, read a PnP SUBSCRIBE, build the replies.

Pure functions (no sockets); every malformed input raises SipError, nothing else.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

MAX_MESSAGE = 16384
# RFC 3261 7.3.3 compact header names.
_COMPACT = {"v": "via", "f": "from", "t": "to", "i": "call-id", "m": "contact", "o": "event", "l": "content-length", "c": "content-type"}
_TOKEN = re.compile(r"^[A-Za-z0-9.!%*_+`'~\-]+$")
_STATUS_LINE = re.compile(r"^SIP/2\.0 ([1-6]\d\d)(?: (.*))?$")
_REQUEST_LINE = re.compile(r"^([A-Za-z]+) (\S+) SIP/2\.0$")
_URI_IN_BRACKETS = re.compile(r"<([^>]*)>")
_MAC_USER = re.compile(r"^(?:mac[:=]?)?((?:[0-9a-f]{2}[:\-]?){5}[0-9a-f]{2})$", re.I)
# a ';'-separated (or ','-separated) item: anything but the separator, or a quoted string, or a <...> URI
_PARAM_PARTS = re.compile(r'(?:[^;"]|"[^"]*(?:"|$))*')
_COMMA_PARTS = re.compile(r'(?:[^,"<]|"[^"]*(?:"|$)|<[^>]*(?:>|$))+')
_VIA = re.compile(r"^SIP\s*/\s*2\.0\s*/\s*([A-Za-z]+)\s+([^;\s]+)(.*)$", re.S)


class SipError(ValueError):
    pass


class SipMessage:
    """A parsed message. headers: list of (lowercase full name, value) in order."""

    __slots__ = ("method", "uri", "status", "reason", "headers", "body")

    def __init__(self, method, uri, status, reason, headers, body):
        self.method, self.uri, self.status, self.reason, self.headers, self.body = method, uri, status, reason, headers, body

    @property
    def is_request(self):
        return self.method is not None

    def get(self, name, default=None):
        for key, value in self.headers:
            if key == name:
                return value
        return default

    def get_all(self, name):
        return [value for key, value in self.headers if key == name]


def parse(data):
    """Parse one datagram (bytes) into a SipMessage; SipError when it is not SIP."""
    if len(data) > MAX_MESSAGE:
        raise SipError("message too large")
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = data.partition(b"\n\n")  # some stacks end lines with LF only
        if not sep:
            head = data.rstrip(b"\r\n")
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        raise SipError("not UTF-8")
    lines = text.replace("\r\n", "\n").split("\n")
    start = lines[0].strip()
    method = uri = status = reason = None
    match = _STATUS_LINE.match(start)
    if match:
        status, reason = int(match.group(1)), match.group(2) or ""
    else:
        match = _REQUEST_LINE.match(start)
        if not match:
            raise SipError("bad start line")
        method, uri = match.group(1).upper(), match.group(2)
    headers = []
    for line in lines[1:]:
        if not line:
            continue
        if line[0] in " \t":  # folded continuation of the previous header
            if not headers:
                raise SipError("continuation without a header")
            name, value = headers[-1]
            headers[-1] = (name, value + " " + line.strip())
            continue
        name, colon, value = line.partition(":")
        name = name.strip()
        if not colon or not _TOKEN.match(name):
            raise SipError("bad header line")
        name = name.lower()
        headers.append((_COMPACT.get(name, name), value.strip()))
    length = None
    for key, value in headers:
        if key == "content-length":
            if not value.isdigit():
                raise SipError("bad Content-Length")
            length = int(value)
    if length is not None:
        if length > len(body):
            raise SipError("truncated body")
        body = body[:length]
    return SipMessage(method, uri, status, reason, headers, body)


_FAST_STATUS = re.compile(rb"^SIP/2\.0 ([1-6]\d\d) ")
_FAST_BRANCH = re.compile(rb"^(?:via|v)[ \t]*:[^\r\n]*?;[ \t]*branch=([^;,\s]+)", re.I | re.M)
_FAST_CSEQ = re.compile(rb"^cseq[ \t]*:[ \t]*\d+[ \t]+([A-Za-z]+)", re.I | re.M)


def response_key(data):
    """(status, top Via branch, CSeq method) of a response datagram, without a full parse; None if not one.

    The phones' answers to our NOTIFYs are half the PnP traffic: this is their fast path.
    """
    status = _FAST_STATUS.match(data)
    if status is None:
        return None
    branch, cseq = _FAST_BRANCH.search(data), _FAST_CSEQ.search(data)
    if branch is None or cseq is None:
        return None
    return int(status.group(1)), branch.group(1).decode("latin-1"), cseq.group(1).decode("latin-1").upper()


def split_params(text):
    """'a;b=1;c="x;y"' -> ('a', {'b': '1', 'c': 'x;y'}); names lowercase, quotes removed, spaces tolerated."""
    parts = text.split(";") if '"' not in text else _PARAM_PARTS.findall(text)
    params = {}
    for part in parts[1:]:
        name, _unused, value = part.partition("=")
        name = name.strip().lower()
        if name:
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            params[name] = value
    return (parts[0].strip() if parts else ""), params


def uri_of(header_value):
    """The URI of a From/To/Contact value: '"x" <sip:a@b>;tag=1' -> 'sip:a@b'."""
    match = _URI_IN_BRACKETS.search(header_value)
    if match:
        return match.group(1).strip()
    return header_value.split(";", 1)[0].strip()


def uri_parts(uri):
    """'sip:user@host:port;params' -> (user or None, host, port or None); SipError if not a sip(s) URI."""
    scheme, colon, rest = uri.partition(":")
    if not colon or scheme.lower() not in ("sip", "sips"):
        raise SipError("not a sip URI")
    rest = rest.split(";", 1)[0].split("?", 1)[0]
    user = None
    if "@" in rest:
        user, rest = rest.rsplit("@", 1)
    if rest.startswith("["):
        host, _unused, after = rest[1:].partition("]")
        port = after[1:] if after.startswith(":") else None
    else:
        host, _unused, port = rest.partition(":")
    if not host:
        raise SipError("no host")
    if port:
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise SipError("bad port")
        port = int(port)
    return user, host, port or None


def mac_from_user(user):
    """The MAC in a URI user part, in every spelling seen: MAC%3a.., MAC%3A.., MAC:.., MAC=.., MAC.., bare."""
    if not user:
        return None
    match = _MAC_USER.match(unquote(user).strip())
    if not match:
        return None
    return re.sub(r"[:\-]", "", match.group(1)).lower()


class Via:
    __slots__ = ("transport", "host", "port", "params", "raw")

    def __init__(self, transport, host, port, params, raw):
        self.transport, self.host, self.port, self.params, self.raw = transport, host, port, params, raw


def parse_via(value):
    """The first Via of a header value (which may hold several, comma separated)."""
    first = _split_commas(value)[0]
    match = _VIA.match(first.strip())
    if not match:
        raise SipError("bad Via")
    sent_by = match.group(2)
    if sent_by.startswith("["):
        host, _unused, after = sent_by[1:].partition("]")
        port = after[1:] if after.startswith(":") else ""
    else:
        host, _unused, port = sent_by.partition(":")
    if port and (not port.isdigit() or not 0 < int(port) < 65536):
        raise SipError("bad Via port")
    _unused, params = split_params("x" + match.group(3))
    return Via(match.group(1).upper(), host, int(port) if port else None, params, first.strip())


def _split_commas(value):
    """Comma-separated header values, commas inside quotes or <...> kept."""
    if "," not in value:
        return [value.strip()]
    parts = [p.strip() for p in _COMMA_PARTS.findall(value)]
    return [p for p in parts if p] or [""]


class PnpSubscribe:
    """What a PnP SUBSCRIBE tells us."""

    __slots__ = ("message", "mac", "vendor", "model", "firmware", "event", "call_id", "cseq", "via", "contact_uri", "user_agent", "branch")

    def __init__(self, **values):
        for key in self.__slots__:
            setattr(self, key, values.get(key))


def read_pnp_subscribe(message):
    """A PnpSubscribe from a parsed SUBSCRIBE with Event ua-profile; None for any other SIP traffic.

    Raises SipError when it is a ua-profile SUBSCRIBE but lacks what a reply needs.
    """
    if message.method != "SUBSCRIBE":
        return None
    event = message.get("event")
    if event is None:
        return None
    package, params = split_params(event)
    if package.lower() != "ua-profile":
        return None
    call_id, cseq, via_value, from_value = message.get("call-id"), message.get("cseq"), message.get("via"), message.get("from")
    if not call_id or not cseq or not via_value or not from_value or not message.get("to"):
        raise SipError("SUBSCRIBE without Call-ID, CSeq, Via, From or To")
    via = parse_via(via_value)
    mac = None
    for source in (message.uri, uri_of(from_value), uri_of(message.get("to"))):
        try:
            mac = mac_from_user(uri_parts(source)[0])
        except SipError:
            mac = None
        if mac:
            break
    contact = message.get("contact")
    return PnpSubscribe(
        message=message,
        mac=mac,
        vendor=params.get("vendor") or params.get("vender"),
        model=params.get("model"),
        firmware=params.get("version"),
        event=event,
        call_id=call_id,
        cseq=cseq,
        via=via,
        contact_uri=uri_of(contact) if contact else None,
        user_agent=message.get("user-agent"),
        branch=via.params.get("branch"),
    )


def response(request, status, reason, source, to_tag, extra=()):
    """A response to `request` (RFC 3261 8.2.6): Vias copied, received/rport filled in (RFC 3581)."""
    lines = ["SIP/2.0 %d %s" % (status, reason)]
    first = True
    for key, value in request.headers:
        if key == "via":
            for via_text in _split_commas(value):
                if first:
                    via_text = _stamp_via(via_text, source)
                    first = False
                lines.append("Via: " + via_text)
        elif key == "to":
            lines.append("To: " + (value if ";tag=" in value.replace(" ", "").lower() else value + ";tag=" + to_tag))
        elif key in ("from", "call-id", "cseq"):
            lines.append("%s: %s" % (_CANONICAL[key], value))
    lines.extend(extra)
    lines.append("Content-Length: 0")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")


_CANONICAL = {"from": "From", "call-id": "Call-ID", "cseq": "CSeq"}


def _stamp_via(via_text, source):
    """Add received= (when the host differs from the source) and fill a bare rport with the source port."""
    host, port = source
    try:
        via = parse_via(via_text)
    except SipError:
        return via_text
    text = via.raw
    if "rport" in via.params and not via.params["rport"]:
        text = re.sub(r";\s*rport(?=;|$|\s)", ";rport=%d" % port, text, count=1)
    if via.host != host and "received" not in via.params:
        text += ";received=%s" % host
    return text


def reply_address(sub, source):
    """Where a response goes (RFC 3261 18.2.2 + RFC 3581): the source, with the Via port unless rport."""
    host, port = source
    if "rport" in sub.via.params:
        return host, port
    return host, sub.via.port or 5060


def notify_target(sub, source):
    """Where the NOTIFY goes: the Contact's port at the source address.

    The address is always the SUBSCRIBE's source, so a forged Contact cannot aim
    NOTIFYs at a third party (docs/responder.md, "Security model").
    """
    port = 5060
    if sub.contact_uri:
        try:
            port = uri_parts(sub.contact_uri)[2] or 5060
        except SipError:
            pass
    return source[0], port


def notify(sub, local, branch, from_tag, body):
    """The NOTIFY that hands the provisioning URL to the phone."""
    request_uri = sub.contact_uri or "sip:%s" % sub.via.host
    to_value = sub.message.get("from")
    from_value = sub.message.get("to")
    if ";tag=" not in from_value.replace(" ", "").lower():
        from_value += ";tag=" + from_tag
    host, port = local
    body_bytes = body.encode("utf-8")
    lines = [
        "NOTIFY %s SIP/2.0" % request_uri,
        "Via: SIP/2.0/UDP %s:%d;branch=%s;rport" % (host, port, branch),
        "Max-Forwards: 70",
        "From: " + from_value,
        "To: " + to_value,
        "Call-ID: " + sub.call_id,
        "CSeq: 1 NOTIFY",
        "Contact: <sip:%s:%d>" % (host, port),
        "Event: " + sub.event,
        "Subscription-State: terminated;reason=timeout",
        "Content-Type: application/url",
        "Content-Length: %d" % len(body_bytes),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + body_bytes
