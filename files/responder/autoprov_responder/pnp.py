# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The PnP listener: multicast SUBSCRIBE in, 200 OK + NOTIFY (with retransmissions) out.

A SUBSCRIBE's source address can be forged, so what we send for one is bounded: at
most `pnp_rate.amplification` times the bytes received for that transaction (the 200
and the first NOTIFY always go; retransmissions only within that budget), a limit of
replies per source and of NOTIFYs per destination, and a source that asks for too many
unknown MACs (probing which ones this PBX knows) gets no answer for a while. A device
bound to the source address (docs/responder.md) has limits of its own there and is
answered through a probe block, so forging its address cannot silence it.

Sockets are read directly from the event loop (add_reader + recvfrom until the
queue is empty): under a boot storm that reads many datagrams per wake-up,
where asyncio's datagram transport costs a callback per datagram.
"""

from __future__ import annotations

import collections
import os
import socket
import struct
import time
from urllib.parse import quote, urlsplit, urlunsplit

from . import SERVER_NAME, sip
from .config import mask_url
from .guard import RateLimit

GROUP = "224.0.1.75"
T1, T2, TIMER_F = 0.5, 4.0, 32.0  # RFC 3261 17.1.2.2 (non-INVITE client transaction over UDP)
SERVER_TX_LIFETIME = 32.0  # RFC 3261 timer J: absorb SUBSCRIBE retransmissions this long
_READS_PER_WAKEUP = 256
_IP_MULTICAST_ALL = getattr(socket, "IP_MULTICAST_ALL", 49)
_SO_RCVBUFFORCE = getattr(socket, "SO_RCVBUFFORCE", 33)
_SOCKET_BUFFER = 4 << 20


class PnpSetupError(Exception):
    pass


class _Endpoint:
    """A receiving socket, and the socket and address replies leave from."""

    def __init__(self, sock, local, send_sock=None):
        self.sock = sock
        self.local = local  # (ip, port); ip "0.0.0.0" when bound to every address
        self.send_sock = send_sock or sock


class _ServerTx:
    """A SUBSCRIBE transaction: our answer, and the bytes we may still send for it (the reflection budget)."""

    __slots__ = ("reply", "reply_to", "budget")

    def __init__(self, reply, reply_to, budget=0):
        self.reply, self.reply_to, self.budget = reply, reply_to, budget


class _NotifyTx:
    __slots__ = ("event_id", "data", "dest", "sock", "started", "interval", "handle", "mac", "sends", "provisional", "server_tx")

    def __init__(self, event_id, data, dest, sock, started, mac, server_tx):
        self.event_id, self.data, self.dest, self.sock, self.started, self.mac = event_id, data, dest, sock, started, mac
        self.server_tx = server_tx
        self.interval = T1
        self.handle = None
        self.sends = 0
        self.provisional = False


def _udp_socket(host, port):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # PnP is IPv4 (config refuses IPv6 sip_listen)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    for option in (_SO_RCVBUFFORCE, socket.SO_RCVBUF):
        try:
            sock.setsockopt(socket.SOL_SOCKET, option, _SOCKET_BUFFER)
            break
        except OSError:
            continue
    sock.bind((host, port))
    sock.setblocking(False)
    return sock


def _join(sock, interface):
    try:
        index = socket.if_nametoindex(interface)
    except OSError:
        raise PnpSetupError("interfaces: no interface named %r" % interface)
    mreqn = struct.pack("4s4si", socket.inet_aton(GROUP), socket.inet_aton("0.0.0.0"), index)
    try:
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreqn)
    except OSError as exc:
        raise PnpSetupError("interfaces: cannot join %s on %s: %s" % (GROUP, interface, exc.strerror))


def with_credentials(url, credentials):
    """url with user:password@ (quoted) in place of whatever userinfo it had."""
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    if credentials is not None:
        netloc = "%s:%s@%s" % (quote(credentials.username, safe=""), quote(credentials.password, safe=""), netloc)
    return urlunsplit(parts._replace(netloc=netloc))


class PnpService:
    def __init__(self, config, manifests, store, log, loop, access=None):
        self.config = config
        self.manifests = manifests
        self.store = store
        self.log = log
        self.loop = loop
        if access is None:
            from .access import FileAccess

            access = FileAccess(config, manifests, store, log)
        self.access = access
        rate = config.pnp_rate
        self.rate = RateLimit(rate["per_source"], rate["window"])
        self.notify_rate = RateLimit(rate["notify"], rate["window"])  # NOTIFY transactions per destination address
        self.probes = RateLimit(rate["unknown"], rate["window"], block=rate["block"])  # unknown MACs per source
        self.amplification = rate["amplification"]
        self.endpoints = []
        self._server_tx = {}
        self._server_tx_expiry = collections.deque()
        self._notify_tx = {}
        self._route_cache = {}
        self._sweeper = None
        self.url_for_logs = mask_url(config.url)

    # --- sockets -----------------------------------------------------------------------------
    def start(self):
        try:
            self._open()
        except OSError as exc:
            self.close()
            raise PnpSetupError("sip_listen: cannot open the PnP socket: %s" % exc)
        except PnpSetupError:
            self.close()
            raise
        for endpoint in self.endpoints:
            self.loop.add_reader(endpoint.sock.fileno(), self._readable, endpoint)
        self._sweeper = self.loop.call_later(1.0, self._sweep)
        for endpoint in self.endpoints:
            self.log.event("info", "pnp_listening", addr="%s:%d" % endpoint.local, interfaces=",".join(self.config.interfaces) or None)

    def _open(self):
        by_port = {}
        for host, port in self.config.sip_listen:
            endpoint = _Endpoint(_udp_socket(host, port), (host, port))
            self.endpoints.append(endpoint)
            by_port.setdefault(port, []).append(endpoint)
        if not self.config.interfaces:
            return
        for port, endpoints in by_port.items():
            wildcard = next((e for e in endpoints if e.local[0] == "0.0.0.0"), None)
            if wildcard is not None:
                group_sock = wildcard.sock
            else:  # unicast listeners only: a socket bound to the group itself, replying through the unicast one
                group_sock = _udp_socket(GROUP, port)
                self.endpoints.append(_Endpoint(group_sock, endpoints[0].local, endpoints[0].sock))
            try:
                group_sock.setsockopt(socket.IPPROTO_IP, _IP_MULTICAST_ALL, 0)
            except OSError:
                pass
            for interface in self.config.interfaces:
                _join(group_sock, interface)

    def close(self):
        if self._sweeper is not None:
            self._sweeper.cancel()
        for tx in self._notify_tx.values():
            if tx.handle is not None:
                tx.handle.cancel()
        self._notify_tx.clear()
        for endpoint in self.endpoints:
            try:
                self.loop.remove_reader(endpoint.sock.fileno())
            except (ValueError, OSError):
                pass
            endpoint.sock.close()
        self.endpoints = []

    def _readable(self, endpoint):
        sock = endpoint.sock
        for _unused in range(_READS_PER_WAKEUP):
            try:
                data, source = sock.recvfrom(65535)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # e.g. ICMP port unreachable from an earlier send
                self.log.event("debug", "pnp_socket_error", error=exc.strerror)
                continue
            self.datagram(endpoint, data, source[:2])

    def _send(self, sock, data, dest):
        try:
            sock.sendto(data, dest)
        except OSError as exc:  # a full buffer or an unreachable phone: retransmissions cover it
            self.log.event("debug", "pnp_send_failed", dest="%s:%d" % dest, error=exc.strerror)

    def _local_address(self, endpoint, source_ip):
        """Our address as the phone sees it, for Via and Contact."""
        host, port = endpoint.local
        if host != "0.0.0.0":
            return host, port
        local = self._route_cache.get(source_ip)
        if local is None:
            probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                probe.connect((source_ip, 9))  # no packet is sent: this only asks the routing table
                local = probe.getsockname()[0]
            except OSError:
                local = "0.0.0.0"
            finally:
                probe.close()
            if len(self._route_cache) > 4096:
                self._route_cache.clear()
            self._route_cache[source_ip] = local
        return local, port

    # --- messages ----------------------------------------------------------------------------
    def datagram(self, endpoint, data, source):
        if data.startswith(b"SIP/2.0 "):
            key = sip.response_key(data)
            if key is not None:
                self._notify_answer(*key)
            return
        try:
            subscribe = sip.read_pnp_subscribe(sip.parse(data))
        except sip.SipError as exc:
            self.log.event("debug", "pnp_ignored", src="%s:%d" % source, error=str(exc))
            return
        if subscribe is not None:  # any other SIP traffic is ignored
            self._subscribe(endpoint, subscribe, source, len(data))

    def _subscribe(self, endpoint, sub, source, size):
        now = time.time()
        key = (source[0], sub.call_id, sub.cseq, sub.branch)
        known_tx = self._server_tx.get(key)
        if known_tx is not None:  # a retransmission: the same answer again, no new NOTIFY
            known_tx.budget += self.amplification * size
            if known_tx.reply is not None and known_tx.budget >= len(known_tx.reply) and self.rate.allow(source[0], now)[0]:
                known_tx.budget -= len(known_tx.reply)
                self._send(endpoint.send_sock, known_tx.reply, known_tx.reply_to)
            return
        manifest = self.manifests.get()
        device = manifest.devices.get(sub.mac) if sub.mac else None
        # A device bound to this address is answered only there, so whoever forges the address cannot
        # learn anything from it: it has its own budget and is not caught by the probe block, which a
        # forger could otherwise trigger to silence the phone at that address.
        own = device is not None and self.access.bound_to(device, source[0])
        if not own and self.probes.blocked(source[0], now):
            return  # probing unknown MACs: nothing is answered or recorded for a while
        reason, record = self._refusal(sub, device, source, now, own)
        event = self._event(sub, device, manifest, source, now, reason)
        if reason is not None:
            if record:
                self.store.pnp_event(event)
                self.log.event("info", "pnp", answered=0, reason=reason, **self._fields(sub, device, source))
            self._remember(key, None, None)
            return
        self._answer(endpoint, sub, device, manifest, source, key, self.store.pnp_event(event), size)

    def _refusal(self, sub, device, source, now, own):
        """(reason this SUBSCRIBE gets no answer or None, whether to record it); own: the device is bound here."""
        if sub.mac is None:
            return "no_mac", True
        if device is None and not self.config.answer_unknown:
            allowed, first_refusal = self.probes.allow(source[0], now)
            return ("unknown_mac", True) if allowed else ("probe_blocked", first_refusal)
        if device is not None and not own:  # bound here passes the gate pnp_refusal would check again
            refusal = self.access.pnp_refusal(device, source[0], now)
            if refusal is not None:
                return refusal, True
        budget = (source[0], sub.mac) if own else source[0]
        for limit in (self.rate, self.notify_rate):  # replies per source; NOTIFYs per destination (the same address)
            allowed, first_refusal = limit.allow(budget, now)
            if not allowed:
                return "rate_limited", first_refusal  # recorded once per source and window
        return None, False

    @staticmethod
    def _fields(sub, device, source):
        return dict(
            src="%s:%d" % source, mac=sub.mac, vendor=sub.vendor, model=sub.model, firmware=sub.firmware, known=int(device is not None)
        )

    @staticmethod
    def _event(sub, device, manifest, source, now, reason):
        return {
            "time": now,
            "source": source[0],
            "source_port": source[1],
            "mac": sub.mac,
            "vendor": sub.vendor,
            "vendor_key": device.vendor if device is not None else manifest.vendor_for_pnp_name(sub.vendor),
            "model": sub.model,
            "firmware": sub.firmware,
            "user_agent": (sub.user_agent or "")[:256] or None,
            "known": int(device is not None),
            "answered": int(reason is None),
            "reason": reason,
            "notify": "pending" if reason is None else None,
        }

    def device_url(self, mac, device):
        """The provisioning URL for this device's NOTIFY: with its own credentials where it has them
        (auth.per_device, auth.device_key), so one NOTIFY opens one device's files only; for a MAC the
        manifest does not know (answer_unknown), without credentials; otherwise the configured url."""
        auth = self.config.auth
        own = auth.device_credentials(mac) if auth is not None and device is not None else None
        if own is not None:
            return with_credentials(self.config.url, own)
        if device is None:
            return with_credentials(self.config.url, None)
        return self.config.url

    def _answer(self, endpoint, sub, device, manifest, source, key, event_id, size):
        vendor = manifest.vendors.get(device.vendor if device is not None else manifest.vendor_for_pnp_name(sub.vendor))
        template = vendor.pnp_url if vendor is not None else "{url}"
        body = template.format(url=self.device_url(sub.mac, device), mac=sub.mac, MAC=sub.mac.upper())
        local = self._local_address(endpoint, source[0])
        tag = os.urandom(6).hex()
        reply = sip.response(sub.message, 200, "OK", source, tag, ("Contact: <sip:%s:%d>" % local, "Expires: 0", "Server: " + SERVER_NAME))
        reply_to = sip.reply_address(sub, source)
        server_tx = self._remember(key, reply, reply_to, self.amplification * size - len(reply))
        self._send(endpoint.send_sock, reply, reply_to)
        branch = "z9hG4bK" + os.urandom(8).hex()
        data = sip.notify(sub, local, branch, tag, body)
        tx = _NotifyTx(event_id, data, sip.notify_target(sub, source), endpoint.send_sock, time.monotonic(), sub.mac, server_tx)
        self._notify_tx[branch] = tx
        self._send_notify(branch, tx)
        self.log.event("info", "pnp", answered=1, url=mask_url(body), **self._fields(sub, device, source))

    def _remember(self, key, reply, reply_to, budget=0):
        server_tx = self._server_tx[key] = _ServerTx(reply, reply_to, budget)
        self._server_tx_expiry.append((time.monotonic() + SERVER_TX_LIFETIME, key))
        return server_tx

    def _sweep(self):
        now = time.monotonic()
        expiry = self._server_tx_expiry
        while expiry and expiry[0][0] <= now:
            self._server_tx.pop(expiry.popleft()[1], None)
        self._sweeper = self.loop.call_later(1.0, self._sweep)

    # --- NOTIFY client transactions ----------------------------------------------------------
    def _send_notify(self, branch, tx):
        elapsed = time.monotonic() - tx.started
        if elapsed >= TIMER_F:
            del self._notify_tx[branch]
            self.store.pnp_outcome(tx.event_id, "timeout")
            self.log.event("warning", "pnp_notify", mac=tx.mac, outcome="timeout", sends=tx.sends, dest="%s:%d" % tx.dest)
            return
        if tx.sends == 0 or tx.server_tx.budget >= len(tx.data):  # the first always; retransmissions within the budget
            tx.server_tx.budget -= len(tx.data)
            self._send(tx.sock, tx.data, tx.dest)
            tx.sends += 1
        wait = min(tx.interval, TIMER_F - elapsed)
        tx.interval = T2 if tx.provisional else min(tx.interval * 2, T2)
        tx.handle = self.loop.call_later(wait, self._send_notify, branch, tx)

    def _notify_answer(self, status, branch, method):
        tx = self._notify_tx.get(branch)
        if tx is None or method != "NOTIFY":
            return  # not an answer to a NOTIFY of ours: ignored
        if status < 200:
            tx.provisional = True
            return
        del self._notify_tx[branch]
        tx.handle.cancel()
        outcome = "delivered" if status < 300 else "rejected"
        self.store.pnp_outcome(tx.event_id, outcome, status)
        self.log.event("info", "pnp_notify", mac=tx.mac, outcome=outcome, status=status, sends=tx.sends)
