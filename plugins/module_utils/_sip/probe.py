# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A booting phone, as far as PnP goes: send the vendor's SUBSCRIBE, take the NOTIFY, fetch the files.

Python standard library only: the pnp_probe module runs this on any host.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import re
import socket
import ssl
import struct
import time
import uuid
from urllib import error as urlerror
from urllib import request as urlrequest
from urllib.parse import urljoin, urlsplit

from ansible_collections.pbxops.autoprov.plugins.module_utils._catalog import index as _catalog_data
from ansible_collections.pbxops.autoprov.plugins.module_utils._sip import message as _sip

PNP_GROUP = "224.0.1.75"
SIP_PORT = _sip.SIP_PORT
_SIOCGIFADDR = 0x8915


class ProbeError(Exception):
    """Something a person can act on; the text says what and where."""


def vendors():
    return sorted(_catalog_data.PROBE)


def profile(vendor):
    return _catalog_data.PROBE[vendor]


def mac_forms(mac):
    colon = ":".join(mac[i : i + 2] for i in range(0, 12, 2))
    return {"mac": mac, "MAC": mac.upper(), "mac_colon": colon, "MAC_COLON": colon.upper()}


def announced_model(vendor, model):
    """The model as this vendor's phone announces it (a catalog name such as D785 becomes snomD785)."""
    form = profile(vendor).get("announce", "{model}")
    prefix = form.split("{")[0]
    if model.lower().startswith(prefix.lower()):
        return model
    # {code}: the catalog model's own token (the Snom D715 announces itself as snom715).
    codes = {name.upper(): extra.get("code") for name, _kind, _lines, _keys, extra in _catalog_data.MODELS.get(vendor, ())}
    return form.format(model=model, code=codes.get(model.upper()) or model)


def has_pnp(vendor):
    """Whether we know how this vendor's phone sends its PnP SUBSCRIBE (the vendor file's PROBE)."""
    return vendor in _catalog_data.PROBE


def user_agent(vendor, kind, mac, model, firmware):
    """The SIP (kind 'sip') or HTTP (kind 'http') User-Agent of this vendor's phone, or None (also for a vendor without PROBE)."""
    template = _catalog_data.PROBE.get(vendor, {}).get("%s_user_agent" % kind)
    return template.format(model=model, firmware=firmware, **mac_forms(mac)) if template else None


# -- addresses ---------------------------------------------------------------
def parse_target(target):
    """'224.0.1.75', 'host:port', '[v6]:port' -> (host, port)."""
    try:
        return _sip.parse_hostport(target)
    except _sip.SipError as exc:
        raise ProbeError("target %s (a multicast group such as 224.0.1.75:5060 is a host too)" % exc) from None


def interface_address(name):
    """The IPv4 address of a network interface (Linux)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            packed = fcntl.ioctl(sock.fileno(), _SIOCGIFADDR, struct.pack("256s", name[:15].encode()))
        except OSError as exc:
            raise ProbeError("interface %r: no IPv4 address (%s)" % (name, exc.strerror)) from None
    return socket.inet_ntoa(packed[20:24])


# -- SIP messages --------------------------------------------------------------
def build_subscribe(vendor, mac, model, firmware, local_ip, local_port, call_id, tag, branch, cseq=1):
    """The SUBSCRIBE this vendor's phone multicasts when it boots."""
    prof = profile(vendor)
    user = prof["uri_user"].format(**mac_forms(mac))
    uri = "sip:%s@%s" % (user, prof["uri_host"])
    contact = "sip:%s@%s:%d" % (user, local_ip, local_port) if prof["contact_user"] else "sip:%s:%d" % (local_ip, local_port)
    headers = [
        "SUBSCRIBE %s SIP/2.0" % uri,
        "Via: SIP/2.0/UDP %s:%d;branch=%s;rport" % (local_ip, local_port, branch),
        "From: <%s>;tag=%s" % (uri, tag),
        "To: <%s>" % uri,
        "Call-ID: %s" % call_id,
        "CSeq: %d SUBSCRIBE" % cseq,
        "Contact: <%s>" % contact,
        "Max-Forwards: 70",
    ]
    agent = user_agent(vendor, "sip", mac, model, firmware)
    if agent:
        headers.append("User-Agent: %s" % agent)
    headers += [
        "Expires: 0",
        'Event: ua-profile;profile-type="device";%s="%s";model="%s";version="%s"'
        % (prof["vendor_param"], prof["vendor_name"], model, firmware),
        "Accept: application/url",
        "Content-Length: 0",
    ]
    return ("\r\n".join(headers) + "\r\n\r\n").encode()


# -- the exchange ----------------------------------------------------------------
def _socket_for(target_host, source_ip, source_port):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.bind((source_ip, source_port))
        if _sip.is_multicast(target_host):
            # Out of this interface only, one hop, and looped back to a responder on this host.
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(source_ip))
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
    except OSError as exc:
        sock.close()
        raise ProbeError("cannot send from %s:%d: %s" % (source_ip, source_port, exc.strerror)) from None
    return sock


def without_pnp(url):
    """The result of a probe that skips PnP: the device was handed url (DHCP option 66, RPS) instead."""
    keys = ("target", "source", "subscribe", "subscribe_status", "answered_by", "notify", "elapsed_ms")
    return dict(dict.fromkeys(keys), url=url)


def probe(vendor, mac, model, firmware, target, source_ip=None, source_port=0, timeout=5.0):
    """Run one PnP exchange. Returns a dict; 'url' is None when nothing (or no NOTIFY) came back in time."""
    host, port = parse_target(target)
    if _sip.is_multicast(host) and not source_ip:
        raise ProbeError("target %s is a multicast group: give interface or source so the SUBSCRIBE leaves on a chosen LAN" % target)
    if not source_ip:
        try:
            source_ip = _sip.route_source(host, port)
        except _sip.SipError as exc:
            raise ProbeError("target %s" % exc) from None
    sock = _socket_for(host, source_ip, source_port)
    started = time.monotonic()
    result = dict.fromkeys(("target", "source", "subscribe", "subscribe_status", "answered_by", "notify", "url", "elapsed_ms"))
    result["target"] = "%s:%d" % (host, port)
    try:
        local_ip, local_port = sock.getsockname()
        result["source"] = "%s:%d" % (local_ip, local_port)
        call_id = _sip.new_call_id(local_ip)
        message = build_subscribe(vendor, mac, model, firmware, local_ip, local_port, call_id, tag=_sip.new_tag(), branch=_sip.new_branch())
        result["subscribe"] = message.decode()
        _exchange(sock, message, (host, port), call_id, _sip.Retransmission(started, timeout), result)
    finally:
        sock.close()
    result["elapsed_ms"] = round((time.monotonic() - started) * 1000, 1)
    return result


def _exchange(sock, message, dest, call_id, timer, result):
    """Send the SUBSCRIBE on the retransmission timer until answered, then await the NOTIFY (until the deadline)."""
    while True:
        now = time.monotonic()
        if result["subscribe_status"] is None and timer.due(now):
            sock.sendto(message, dest)
            timer.sent(now)
        if timer.expired(now):
            return
        wake = timer.deadline if result["subscribe_status"] is not None else timer.wake_at()
        sock.settimeout(max(wake - now, 0.001))
        try:
            data, peer = sock.recvfrom(65535)
        except socket.timeout:
            continue
        reply = _sip.parse_message(data)
        if not reply or _sip.header(reply, "call-id") != call_id:
            continue
        if reply["kind"] == "response" and _sip.cseq_method(reply) == "SUBSCRIBE":
            if reply["status"] >= 200:
                result["subscribe_status"] = reply["status"]
                result["answered_by"] = "%s:%d" % peer
                if reply["status"] >= 300:
                    return
        elif reply["kind"] == "request" and reply["method"] == "NOTIFY":
            sock.sendto(_sip.build_ok(reply), peer)  # answered, so the responder stops retransmitting
            result["notify"] = {
                "from": "%s:%d" % peer,
                "event": _sip.header(reply, "event"),
                "subscription_state": _sip.header(reply, "subscription-state"),
                "content_type": _sip.header(reply, "content-type"),
            }
            result["url"] = reply["body"].strip() or None
            return


# -- fetching the files ------------------------------------------------------------
_AUTH_PARAM = re.compile(r'(\w+)=(?:"([^"]*)"|([^,\s]*))')
_DIGESTS = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}


def authorization(challenges, method, path, username, password, cnonce=None):
    """An Authorization header for the first challenge we can answer (servers list the strongest first).

    Digest (RFC 7616, MD5 or SHA-256, qop=auth) as phones speak it, else Basic; None when neither is offered.
    """
    for challenge in challenges:
        scheme, _sp, rest = challenge.partition(" ")
        if scheme.lower() != "digest":
            continue
        params = {m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3) for m in _AUTH_PARAM.finditer(rest)}
        digest = _DIGESTS.get(params.get("algorithm", "MD5").upper())
        if digest is None or "auth" not in [q.strip() for q in params.get("qop", "auth").split(",")] or "nonce" not in params:
            continue
        realm, nonce, count = params.get("realm", ""), params["nonce"], "00000001"
        cnonce = cnonce or uuid.uuid4().hex[:16]

        def h(text, digest=digest):
            return digest(text.encode("utf-8")).hexdigest()

        response = h(":".join((h("%s:%s:%s" % (username, realm, password)), nonce, count, cnonce, "auth", h("%s:%s" % (method, path)))))
        fields = [
            'username="%s"' % username,
            'realm="%s"' % realm,
            'nonce="%s"' % nonce,
            'uri="%s"' % path,
            "algorithm=%s" % params.get("algorithm", "MD5"),
            "qop=auth",
            "nc=%s" % count,
            'cnonce="%s"' % cnonce,
            'response="%s"' % response,
        ]
        if "opaque" in params:
            fields.append('opaque="%s"' % params["opaque"])
        return "Digest " + ", ".join(fields)
    for challenge in challenges:
        if challenge.lower().startswith("basic"):
            return "Basic " + base64.b64encode(("%s:%s" % (username, password)).encode("utf-8")).decode("ascii")
    return None


def fetch(urls, agent, username=None, password=None, validate_certs=True, timeout=5.0):
    """GET each URL with the phone's User-Agent (answering an auth challenge once, as a phone does).

    Returns per URL: status, bytes, sha256 (never the content).
    """
    handlers = []
    if not validate_certs:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        handlers.append(urlrequest.HTTPSHandler(context=context))
    opener = urlrequest.build_opener(*handlers)
    fetched = []
    for url in urls:
        item = {"url": url, "status": None, "bytes": None, "sha256": None, "error": None}
        headers = {"User-Agent": agent} if agent else {}
        try:
            try:
                body, status = _get(opener, url, headers, timeout)
            except urlerror.HTTPError as exc:
                challenge = exc.headers.get_all("WWW-Authenticate") or []
                answer = authorization(challenge, "GET", _request_path(url), username, password or "") if username is not None else None
                if exc.code != 401 or not answer:
                    raise
                body, status = _get(opener, url, dict(headers, Authorization=answer), timeout)
            item.update(status=status, bytes=len(body), sha256=hashlib.sha256(body).hexdigest())
        except urlerror.HTTPError as exc:
            item.update(status=exc.code, error=str(exc.reason))
        except (urlerror.URLError, OSError, ValueError) as exc:
            item["error"] = str(getattr(exc, "reason", exc))
        fetched.append(item)
    return fetched


def _get(opener, url, headers, timeout):
    with opener.open(urlrequest.Request(url, headers=headers), timeout=timeout) as response:
        return response.read(), response.status


def _request_path(url):
    parts = urlsplit(url)
    return (parts.path or "/") + ("?" + parts.query if parts.query else "")


def file_urls(base, names):
    """The URLs of the named files under the NOTIFY's URL (a directory when it ends in '/')."""
    if not base.endswith("/"):
        return [base]
    return [urljoin(base, name) for name in names]
