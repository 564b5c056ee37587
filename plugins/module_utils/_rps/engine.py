# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""rps_devices: check the input, ask the vendor what is registered, change only what differs, account for every MAC.

The vendor protocols live in one `_rps/<vendor>.py` file each; `_rps/clients.py`
lists them, generated from the directory (Ansible packs a module's module_utils by
static import, so the list has to be written out; `make docs` writes it).
"""

from __future__ import annotations

import socket
import threading
from urllib.parse import urlsplit

from ansible_collections.pbxops.autoprov.plugins.module_utils import _device_pairs, _mac, _urls
from ansible_collections.pbxops.autoprov.plugins.module_utils._catalog import catalog as _catalog
from ansible_collections.pbxops.autoprov.plugins.module_utils._rps import base as _rps_base
from ansible_collections.pbxops.autoprov.plugins.module_utils._rps.clients import CLIENTS

try:
    from netaddr import AddrFormatError, IPAddress
except ImportError:  # pragma: no cover - _mac reports netaddr missing
    IPAddress = None

SECRET_CREDENTIALS = ("password", "secret", "api_key", "client_secret")


class InputError(Exception):
    """Bad input: nothing was sent anywhere. args[0] is the list of problems."""


def client_for(vendor):
    """The client class for a vendor: the catalog's `rps` key names it; vendors the catalog does not
    know yet are looked up in CLIENTS by their own name."""
    key = _catalog.vendor_by_name(vendor) or vendor.lower()
    if key in _catalog.VENDORS:
        name = _catalog.VENDORS[key].rps
        if not name:
            raise InputError(["vendor: %s devices are not provisioned through an RPS (catalog: rps is not set)" % key])
        key = name
    if key not in CLIENTS:
        raise InputError(["vendor: %r has no RPS client; valid: %s" % (vendor, ", ".join(sorted(CLIENTS)))])
    return CLIENTS[key]


def check_devices(client, devices):
    """{mac: device options}, in input order; every problem at once."""
    problems, seen = [], {}
    for index, device in enumerate(devices):
        where = "devices[%d]" % index
        try:
            mac = _mac.normalize(device.get("mac"))
        except _mac.MacError as exc:
            problems.append("%s.mac: %s" % (where, exc))
            continue
        if mac in seen:
            problems.append("%s.mac: %s is listed twice (also %s)" % (where, _mac.fmt(mac, "colon"), seen[mac][0]))
            continue
        for field in client.device_fields_required:
            if not device.get(field):
                problems.append(
                    "%s (%s).%s: %s needs %s" % (where, _mac.fmt(mac, "colon"), field, client.vendor, client.device_fields_help)
                )
        problems.extend("%s (%s).%s" % (where, _mac.fmt(mac, "colon"), text) for text in client.device_problems(device))
        seen[mac] = (where, device)
    if problems:
        raise InputError(problems)
    return {mac: device for mac, (_where, device) in seen.items()}


def check_credentials(client, credentials):
    missing = [key for key in client.credentials_required if not (credentials or {}).get(key)]
    if missing:
        raise InputError(["credentials: %s needs %s" % (client.vendor, ", ".join("credentials.%s" % key for key in missing))])


def _resolve(host, timeout=5.0):
    """Addresses of host, or None when it does not resolve in time (never blocks longer than timeout)."""
    found = {}

    def lookup():
        try:
            found["addresses"] = sorted({info[4][0] for info in socket.getaddrinfo(host, None)})
        except (OSError, UnicodeError):
            found["addresses"] = None

    worker = threading.Thread(target=lookup, daemon=True)
    worker.start()
    worker.join(timeout)
    return found.get("addresses")


def _public(address):
    try:
        return IPAddress(address.split("%")[0]).is_global()
    except (AddrFormatError, ValueError):
        return False


def check_public_url(url, has_auth, allow_private, allow_plain_http):
    """(problems, warnings) of the provisioning URL under the public-URL rule.

    Phones that ask the vendor's RPS are anywhere on the internet: they can only
    reach a public address, and a plain-HTTP URL without auth hands the configs
    (with SIP passwords) to anyone who guesses it.
    """
    problems, warnings = [], []
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ["url: %r is not an http:// or https:// URL with a host" % (url,)], warnings
    if parts.username or parts.password:
        problems.append("url: put the HTTP user and password in url_username / url_password (kept out of logs), not in the URL")
    if parts.scheme == "http" and not has_auth and not allow_plain_http:
        problems.append(
            "url: %s is plain HTTP without authentication; phones fetch it across the internet, so anyone could read "
            "the configs. Use https://, or set url_username/url_password, or allow_plain_http: true to accept the risk"
            % _urls.split_credentials(url)[0]
        )
    host = parts.hostname
    try:
        addresses = [str(IPAddress(host))]
        literal = True
    except (AddrFormatError, ValueError):
        literal = False
        addresses = _resolve(host)
    if addresses is None:
        warnings.append("url: %s does not resolve from the controller; make sure phones on the internet can resolve it" % host)
    else:
        private = [a for a in addresses if not _public(a)]
        if private and not allow_private:
            what = "is" if literal else "resolves to %s, which is" % ", ".join(private)
            problems.append(
                "url: %s %s a private, loopback, link-local or reserved address; phones redirected by the vendor's RPS "
                "come from the internet and cannot reach it. Use the PBX's public name (its 'RPS FQDN'), or set "
                "allow_private_url: true for a PBX that phones reach over a VPN" % (host, what)
            )
    return problems, warnings


class Scrubber:
    """Replaces every secret string with ******** in text that leaves the module.

    extra: a callable giving secrets learnt on the way (tokens, PINs), asked at each use.
    """

    def __init__(self, secrets, extra=None):
        self.secrets = sorted({s for s in secrets if s and len(s) >= 3}, key=len, reverse=True)
        self.extra = extra

    def __call__(self, text):
        if text is None:
            return None
        text = str(text)
        learnt = [s for s in (self.extra() if self.extra else []) if s and len(s) >= 3]
        for secret in sorted(set(self.secrets + learnt), key=len, reverse=True):
            text = text.replace(secret, "********")
        return text


def _same(found, target, update_password):
    if found.url != target.url or (found.username or None) != (target.username or None):
        return False
    if found.password is None:
        # The vendor never shows the stored password: push it only when asked to.
        return not (update_password == "always" and target.password)
    return found.password == (target.password or None)


def plan(state, macs, found, targets, update_password):
    """{mac: (action, message)}; actions register, move, unregister, keep, fail. targets: {mac: Target or None}."""
    actions = {}
    for mac in macs:
        seen, target = found.get(mac) or _rps_base.absent(), targets[mac]
        if seen.state == "invalid":
            actions[mac] = ("fail", "the RPS refuses this MAC: %s" % seen.message) if state == "present" else ("keep", seen.message)
        elif seen.state == "foreign":
            if state == "present":
                actions[mac] = ("fail", "registered to another account at the vendor's RPS: %s" % seen.message)
            else:
                actions[mac] = ("keep", "registered to another account; left alone (%s)" % seen.message)
        elif state == "absent":
            actions[mac] = ("unregister", None) if seen.state == "ours" else ("keep", None)
        elif seen.state == "ours" and seen.url is None:
            # The vendor confirms the MAC is ours but does not show where it points: point it again.
            actions[mac] = ("move", seen.message)
        elif seen.state == "ours":
            actions[mac] = ("keep", None) if _same(seen, target, update_password) else ("move", None)
        else:
            actions[mac] = ("register", None)
    return actions


def _unknown_before(result):
    return "(URL not shown by the RPS)" if result["action"] == "updated" else "(not registered)"


DONE = {"register": "registered", "move": "updated", "unregister": "unregistered", "keep": "unchanged", "fail": "failed"}


def _target(params, client_class):
    """Where the MACs should point (None with state absent); InputError for a URL the rules refuse."""
    url = params.get("url")
    if not url:
        raise InputError(["url: required with state: present (the provisioning URL the phones are sent to)"])
    if params.get("url_password") and not params.get("url_username"):
        raise InputError(["url_password: set url_username too"])
    if params.get("url_username") and client_class.url_credentials is None:
        raise InputError(["url_username: %s cannot hold HTTP credentials for the provisioning URL" % client_class.vendor])
    problems, warnings = check_public_url(
        url, bool(params.get("url_username")), params.get("allow_private_url"), params.get("allow_plain_http")
    )
    problems += ["url: %s" % text for text in client_class.url_problems(url)]
    if problems:
        raise InputError(problems)
    name = _rps_base.server_name_for(url, params.get("url_username"), params.get("server_name") or "autoprov", client_class.server_name_max)
    if client_class.server_name_max and len(name) > client_class.server_name_max:
        raise InputError(
            [
                "server_name: %r is too long: %s server names are at most %d characters and 8 hex digits follow the "
                "prefix, so use at most %d"
                % (params.get("server_name"), client_class.vendor, client_class.server_name_max, client_class.server_name_max - 9)
            ]
        )
    username, password = params.get("url_username") or None, params.get("url_password") or None
    return _rps_base.Target(url=url, username=username, password=password, server_name=name), warnings


def _check_input(params, client_class, credentials, target):
    """The vendor's own input rules and what the chosen options need; InputError lists every problem."""
    problems = list(client_class.input_problems(credentials, params.get("api_url"), target))
    if params.get("return_pins") and not client_class.gives_pins:
        givers = sorted(c.vendor for c in CLIENTS.values() if c.gives_pins)
        problems.append("return_pins: %s gives no device PINs (%s does)" % (client_class.vendor, ", ".join(givers)))
    if params.get("device_key") and len(params["device_key"]) < _device_pairs.KEY_MIN:
        problems.append("device_key: shorter than %d characters; use a long random string from Vault" % _device_pairs.KEY_MIN)
    if not problems and not (params.get("api_url") or client_class.service_url(credentials)):
        problems.append("api_url: %s has no default service; give api_url" % client_class.vendor)
    if problems:
        raise InputError(problems)


def _connect(params, client_class, credentials, devices, targets):
    """(client, scrubber): the client on an Http with the task's transport settings; the scrubber knows every secret."""
    secrets = [credentials.get(key) for key in SECRET_CREDENTIALS] + [params.get("url_password"), params.get("device_key")]
    secrets += [d.get("pin") for d in devices.values()]
    secrets += [t.password for t in targets.values() if t is not None]
    scrub = Scrubber(secrets)
    verify = params.get("ca_path") or True if params.get("validate_certs", True) else False
    http = _rps_base.Http(
        verify=verify,
        timeout=params["timeout"],
        retries=params["retries"],
        backoff=params["retry_backoff"],
        max_wait=params["max_retry_wait"],
        scrub=scrub,
    )
    api_url = (params.get("api_url") or client_class.service_url(credentials)).rstrip("/")
    client = client_class(http, api_url, credentials, devices)
    scrub.extra = client.secrets
    return client, scrub


def device_targets(params, client_class, macs, target):
    """{mac: Target}: where the vendor keeps one URL per MAC (per_device_url) and a device key is
    given or derived (_device_pairs), each MAC's URL carries that device's own pair; else the one target."""
    key = _device_pairs.device_key(params.get("device_key"), params.get("derive_device_key"), params.get("url_password"))
    if target is None or not target.username or not key or not client_class.per_device_url:
        return dict.fromkeys(macs, target)
    return {
        mac: target._replace(username=user, password=password)
        for mac, (user, password) in ((m, _device_pairs.device_pair(key, m)) for m in macs)
    }


def _apply(client, params, macs, target, targets, check_mode):
    """(found, actions, errors): what the RPS had, what we decided per MAC (towards targets[mac]), and the
    writes that failed. target: the task's own (None with state absent), which is what a lookup asks about."""
    found = client.lookup(macs, target) if macs else {}
    actions = plan(params["state"], macs, found, targets, params.get("update_password"))
    errors = {}
    if not check_mode:
        to_point = [m for m in macs if actions[m][0] in ("register", "move")]
        to_remove = [m for m in macs if actions[m][0] == "unregister"]
        for target, group in _by_target(to_point, targets):
            errors.update(client.register(group, target, found))
        if to_remove:
            errors.update(client.unregister(to_remove, found))
    return found, actions, errors


def _by_target(macs, targets):
    """[(Target, [mac, ...])] in input order: one register call per distinct target."""
    groups = {}
    for mac in macs:
        groups.setdefault(targets[mac], []).append(mac)
    return list(groups.items())


def _entry(mac, action, message, seen, target):
    before = seen.url if seen.state == "ours" else None
    if action in ("register", "move"):
        after = target.url
    elif action == "unregister":
        after = None
    else:
        after = before
    return {"mac": _mac.fmt(mac, "colon"), "action": DONE[action], "before": before, "after": after, "message": message}


def run(params, check_mode):
    """The module's result dict; 'failed' and 'msg' set when something could not be done."""
    client_class = client_for(params["vendor"])
    credentials = {k: v for k, v in (params["credentials"] or {}).items() if v is not None}
    check_credentials(client_class, credentials)
    devices = check_devices(client_class, params["devices"] or [])
    target, warnings = _target(params, client_class) if params["state"] == "present" else (None, [])
    _check_input(params, client_class, credentials, target)
    if check_mode:
        return preview(client_class, params, list(devices), target, warnings, credentials)
    macs = list(devices)
    targets = device_targets(params, client_class, macs, target)
    client, scrub = _connect(params, client_class, credentials, devices, targets)

    result = {"changed": False, "results": [], "api_stats": client.http.stats, "warnings": warnings}
    try:
        found, actions, errors = _apply(client, params, macs, target, targets, check_mode)
        for mac in macs:
            action, message = ("fail", errors[mac]) if mac in errors else actions[mac]
            entry = _entry(mac, action, scrub(message), found.get(mac) or _rps_base.absent(), targets[mac])
            result["results"].append(entry)
        if params.get("return_pins"):
            _add_pins(client, result["results"], macs)
    except _rps_base.RpsError as exc:
        result.update(failed=True, msg=scrub("%s RPS (%s): %s" % (client.vendor, client.api_url, exc)))
        return result
    _summarise(result, client.vendor, len(macs), scrub)
    return result


def _add_pins(client, entries, macs):
    """Each entry's device PIN (None when the vendor has none), for the MACs that are in our account now."""
    ours = [m for m, e in zip(macs, entries) if e["after"] is not None]
    pins = client.pins(ours) if ours else {}
    for mac, entry in zip(macs, entries):
        entry["pin"] = pins.get(mac)


def _summarise(result, vendor, count, scrub):
    """changed, diff, and the failure message listing each failed MAC."""
    changed = [r for r in result["results"] if r["action"] in ("registered", "updated", "unregistered")]
    result["changed"] = bool(changed)
    result["diff"] = {
        "before": "".join("%s: %s\n" % (r["mac"], r["before"] or _unknown_before(r)) for r in changed),
        "after": "".join("%s: %s\n" % (r["mac"], r["after"] or "(not registered)") for r in changed),
    }
    failures = [r for r in result["results"] if r["action"] == "failed"]
    if failures:
        result["failed"] = True
        result["msg"] = scrub(
            "%d of %d MACs failed at the %s RPS: %s"
            % (len(failures), count, vendor, "; ".join("%s: %s" % (r["mac"], r["message"]) for r in failures))
        )
    return result


def preview(client_class, params, macs, target, warnings, credentials):
    """Check mode: the input passed every check; say what a real run would ask the RPS, and ask nothing.

    A vendor's RPS is someone else's production service (quotas, audit logs): a dry run
    does not talk to it, so it cannot tell which MACs differ; the real run reads first.
    """
    api_url = (params.get("api_url") or client_class.service_url(credentials)).rstrip("/")
    then = "register or re-point those that differ" if params["state"] == "present" else "unregister those in this account"
    calls = ["look up %d MAC(s)" % len(macs), then] if macs else []
    after = target.url if target else None
    results = [
        {
            "mac": _mac.fmt(mac, "colon"),
            "action": "not_checked",
            "before": None,
            "after": after,
            "message": "check mode: the RPS was not asked",
        }
        for mac in macs
    ]
    msg = "check mode: nothing was sent to the %s RPS (%s)" % (client_class.vendor, api_url)
    if calls:
        msg += "; a real run would %s" % ", then ".join(calls)
    stats = dict.fromkeys(("requests", "retries", "throttled", "server_errors", "timeouts", "connection_errors"), 0)
    return {"changed": False, "results": results, "api_stats": stats, "warnings": warnings, "msg": msg, "calls": calls, "diff": {}}
