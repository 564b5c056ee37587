# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ask devices to fetch their configuration again: one out-of-dialog SIP NOTIFY per device
(Event check-sync or resync, per vendor), all under way at once, retransmitted on RFC 3261 timers.

Python standard library only: the resync module runs this on the PBX.
"""

from __future__ import annotations

import re
import selectors
import socket
import time
from urllib.parse import quote

from ansible_collections.pbxops.autoprov.plugins.module_utils import _mac, _types
from ansible_collections.pbxops.autoprov.plugins.module_utils._catalog import catalog as _catalog
from ansible_collections.pbxops.autoprov.plugins.module_utils._sip import message as _sip

# What became of each device's NOTIFY.
DELIVERED, REJECTED, TIMEOUT, UNREACHABLE, NO_ADDRESS, SKIPPED = "delivered", "rejected", "timeout", "unreachable", "no_address", "skipped"
OUTCOMES = (DELIVERED, REJECTED, TIMEOUT, UNREACHABLE, NO_ADDRESS, SKIPPED)
# The user part of our From and Contact: who is asking, for a person reading a phone's SIP log.
CONTACT_USER = "autoprov"
# An Event header value (RFC 6665 7.2.1): a package token, then ;name or ;name=value parameters.
_TOKEN = r"[A-Za-z0-9.!%*_+`'~-]+"
_EVENT = re.compile(r"^%s(?:;%s(?:=%s)?)*$" % (_TOKEN, _TOKEN, _TOKEN))
# Room for the answers to a burst of NOTIFYs (the kernel caps it at net.core.rmem_max), and answers are
# read after every _SENDS_PER_READ sends: else a large PBX's early answers overflow the socket's receive
# buffer and their NOTIFYs are sent again for nothing.
_RECEIVE_BUFFER = 4 << 20
_SENDS_PER_READ = 32
# Characters left as they are in a Request-URI user part (RFC 3261 25.1, unreserved and user-unreserved).
_USER_SAFE = "-_.!~*'()&=+$,;?/"


class ResyncError(Exception):
    """Bad input: the text names the PBX, the device and the field, every problem at once."""


def device_macs(items):
    """MACs (12 lowercase hex digits, in order, repeats dropped) of a list of MACs in any notation.

    Returns (macs, errors); each error names devices[N] and what is wrong. Inventory items are refused
    without showing them: their lines hold SIP passwords.
    """
    macs, errors = [], []
    for position, item in enumerate(items or []):
        if not isinstance(item, str):
            errors.append(
                "devices[%d]: give the device's MAC, not a %s (for example changed_devices of device_configs, "
                "or autoprov_devices | map(attribute='mac'): inventory items hold SIP passwords)" % (position, _types.type_name(item))
            )
            continue
        try:
            mac = _mac.normalize(item)
        except _mac.MacError as exc:
            errors.append("devices[%d]: mac: %s" % (position, exc))
            continue
        if mac not in macs:
            macs.append(mac)
    return macs, errors


def check_event(value):
    if not _EVENT.match(value or ""):
        raise _sip.SipError(
            "%r is not an Event header value; write a package with optional parameters such as check-sync;reboot=false" % (value,)
        )
    return value


def _override_addresses(overrides, port, wanted, errors):
    """{mac: (address, port)} from the addresses option: every entry checked, the names of the wanted MACs resolved."""
    found = {}
    for key, value in (overrides or {}).items():
        try:
            mac = _mac.normalize(key)
        except _mac.MacError as exc:
            errors.append("addresses: key %s" % exc)
            continue
        try:
            host, host_port = _sip.parse_hostport(value, port)
            found[mac] = (_resolve(host, host_port) if mac in wanted else host, host_port)
        except _sip.SipError as exc:
            errors.append("device %s: addresses[%s]: %s; write an address as host or host:port (IPv6: [address]:port)" % (mac, key, exc))
    return found


def _resolve(host, port):
    try:
        return _sip.plain_address(host)
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
    except (OSError, UnicodeError) as exc:
        raise _sip.SipError("cannot resolve %r: %s" % (host, getattr(exc, "strerror", None) or exc)) from None
    return _sip.plain_address(infos[0][4][0])


def plan(macs, manifest, manifest_path, seen, overrides=None, port=_sip.SIP_PORT, event=None, check_mode=False):
    """What to send to whom: one entry per MAC, in order.

    manifest: the config root's manifest (None when there is none); seen: {mac: (address, time)} from the
    status store; overrides: the addresses option. Raises ResyncError listing every problem; returns
    (entries, warnings). In check mode a device not in the manifest yet (device_configs in check mode
    wrote nothing) is a warning, not an error.
    """
    errors, warnings, entries = [], [], []
    addresses = _override_addresses(overrides, port, set(macs), errors)
    if event is not None:
        try:
            check_event(event)
        except _sip.SipError as exc:
            errors.append("event: %s" % exc)
    devices = (manifest or {}).get("devices") or {}
    for mac in macs:
        entry = {
            "mac": mac,
            "vendor": None,
            "user": mac,
            "event": event,
            "host": None,
            "port": None,
            "address_from": None,
            "last_seen": None,
        }
        device = devices.get(mac)
        if device is None:
            problem = "device %s: mac: not in the manifest %s; valid are the devices device_configs rendered for this PBX" % (
                mac,
                manifest_path,
            )
            if not check_mode:
                errors.append(problem)
                continue
            warnings.append(problem + " (in check mode device_configs writes nothing: it will be there after a real run)")
        elif not _from_manifest(entry, device, event, errors):
            continue
        _address(entry, addresses, seen, port, warnings)
        entries.append(entry)
    if errors:
        raise ResyncError("; ".join(errors))
    return entries, warnings


def _from_manifest(entry, device, event, errors):
    """Vendor, user (the first extension) and Event (the vendor's, unless given) into entry; False on a problem."""
    mac = entry["mac"]
    entry["vendor"] = device.get("vendor")
    extensions = [str(e) for e in device.get("extensions") or [] if str(e)]
    entry["user"] = extensions[0] if extensions else mac
    if event is None:
        vendor = _catalog.VENDORS.get(entry["vendor"])
        if vendor is None:
            errors.append(
                "device %s: vendor: %r (manifest) is not a vendor of the catalog (%s); give event to resync it"
                % (mac, entry["vendor"], ", ".join(sorted(_catalog.VENDORS)))
            )
            return False
        entry["event"] = vendor.resync_event
    return True


def _address(entry, addresses, seen, port, warnings):
    """Where to send: the addresses option first, else the address the status store last saw."""
    mac = entry["mac"]
    if mac in addresses:
        entry["host"], entry["port"] = addresses[mac]
        entry["address_from"] = "addresses"
    elif mac in seen:
        address, when = seen[mac]
        try:
            entry["host"], entry["port"] = _sip.plain_address(address), port
            entry["address_from"] = "status_db"
            entry["last_seen"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(when)) if when else None
        except ValueError:  # not ours to fail on: the device is reported without an address
            warnings.append("device %s: the status database holds %r as its address, which is no IP address" % (mac, address))


def request_uri(entry):
    return "sip:%s@%s" % (quote(entry["user"], safe=_USER_SAFE), _sip.hostport(entry["host"], entry["port"]))


def build_notify(entry, local_host, local_port, call_id, from_tag, branch, cseq=1):
    """An out-of-dialog NOTIFY asking the device to check its configuration (no body)."""
    uri = request_uri(entry)
    local = _sip.hostport(local_host, local_port)
    lines = [
        "NOTIFY %s SIP/2.0" % uri,
        "Via: SIP/2.0/UDP %s;branch=%s;rport" % (local, branch),
        "Max-Forwards: 70",
        "From: <sip:%s@%s>;tag=%s" % (CONTACT_USER, _sip.uri_host(local_host), from_tag),
        "To: <%s>" % uri,
        "Call-ID: %s" % call_id,
        "CSeq: %d NOTIFY" % cseq,
        "Contact: <sip:%s@%s>" % (CONTACT_USER, local),
        "Event: %s" % entry["event"],
        "Subscription-State: terminated",
        "Content-Length: 0",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")


class _Transaction:
    __slots__ = ("entry", "sock", "message", "destination", "timer", "provisional")

    def __init__(self, entry, sock, message, destination, timer):
        self.entry, self.sock, self.message, self.destination, self.timer = entry, sock, message, destination, timer
        self.provisional = None


def _result(entry, outcome, status=None, reason=None, count=0, elapsed=None, error=None):
    entry.update(
        outcome=outcome,
        sip_status=status,
        sip_reason=reason,
        transmissions=count,
        elapsed_ms=round(elapsed * 1000, 1) if elapsed is not None else None,
        error=error,
    )


def skip(entries):
    """Check mode: say what would be sent, send nothing."""
    for entry in entries:
        _result(entry, SKIPPED if entry["host"] else NO_ADDRESS)
        entry["request_uri"] = request_uri(entry) if entry["host"] else None


def send(entries, timeout, source_address=None):
    """Send every entry's NOTIFY (one socket per address family), wait for the answers, record each outcome."""
    sockets, transactions, locals_ = {}, {}, {}
    started = time.monotonic()
    try:
        for entry in entries:
            entry["request_uri"] = request_uri(entry) if entry["host"] else None
            if not entry["host"]:
                _result(entry, NO_ADDRESS)
                continue
            family = socket.AF_INET6 if ":" in entry["host"] else socket.AF_INET
            try:
                if family not in sockets:
                    sockets[family] = _open(family, source_address)
                sock = sockets[family]
                local_host = locals_.get(entry["host"])
                if local_host is None:
                    local_host = locals_[entry["host"]] = source_address or _sip.route_source(entry["host"], entry["port"])
            except _sip.SipError as exc:
                _result(entry, UNREACHABLE, error=str(exc))
                continue
            branch = _sip.new_branch()
            message = build_notify(entry, local_host, sock.getsockname()[1], _sip.new_call_id(local_host), _sip.new_tag(), branch)
            transactions[branch] = _Transaction(entry, sock, message, (entry["host"], entry["port"]), _sip.Retransmission(started, timeout))
        if transactions:
            _run(transactions, sockets.values(), started)
    finally:
        for sock in sockets.values():
            sock.close()
    return entries


def _open(family, source_address):
    wildcard = "::" if family == socket.AF_INET6 else "0.0.0.0"
    if source_address and (":" in source_address) != (family == socket.AF_INET6):
        raise _sip.SipError(
            "source_address %s cannot reach an %s address" % (source_address, "IPv6" if family == socket.AF_INET6 else "IPv4")
        )
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _RECEIVE_BUFFER)
        sock.bind((source_address or wildcard, 0))
    except OSError as exc:
        sock.close()
        raise _sip.SipError("cannot send from %s: %s" % (source_address or wildcard, exc.strerror)) from None
    return sock


def _run(transactions, sockets, started):
    sockets = list(sockets)
    selector = selectors.DefaultSelector()
    for sock in sockets:
        selector.register(sock, selectors.EVENT_READ)
    open_ = dict(transactions)
    sends = 0
    try:
        while open_:
            now = time.monotonic()
            for branch, tx in list(open_.items()):
                if branch not in open_:  # answered while this round was sending
                    continue
                if tx.timer.due(now):
                    try:
                        tx.sock.sendto(tx.message, tx.destination)
                    except OSError as exc:  # no route, for instance: the kernel refuses at once
                        _result(tx.entry, UNREACHABLE, count=tx.timer.count, elapsed=now - started, error=exc.strerror)
                        del open_[branch]
                        continue
                    tx.timer.sent(now)
                    sends += 1
                    if sends % _SENDS_PER_READ == 0:
                        for sock in sockets:
                            _receive(sock, open_, started)
                elif tx.timer.expired(now):
                    _result(tx.entry, TIMEOUT, status=tx.provisional, count=tx.timer.count, elapsed=now - started)
                    del open_[branch]
            if not open_:
                break
            wake = min(tx.timer.wake_at() for tx in open_.values())
            for key, _events in selector.select(max(wake - time.monotonic(), 0)):
                _receive(key.fileobj, open_, started)
    finally:
        selector.close()


def _receive(sock, open_, started):
    """Take every datagram waiting on sock; a response closes or advances its transaction (matched by Via branch)."""
    while True:
        try:
            data, _peer = sock.recvfrom(65535, socket.MSG_DONTWAIT)
        except OSError:  # nothing more waiting (or an ICMP error queued instead: nothing to read either)
            return
        reply = _sip.parse_message(data)
        if not reply or reply["kind"] != "response" or _sip.cseq_method(reply) != "NOTIFY":
            continue
        branch = _sip.top_branch(reply)
        tx = open_.get(branch)
        if tx is None:
            continue  # a late answer to a retransmission, or not ours
        if reply["status"] < 200:
            tx.provisional = reply["status"]
            tx.timer.provisional()
            continue
        outcome = DELIVERED if reply["status"] < 300 else REJECTED
        _result(tx.entry, outcome, reply["status"], reply["reason"], tx.timer.count, time.monotonic() - started)
        del open_[branch]
