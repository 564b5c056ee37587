# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kea DHCPv4 backend of dhcp_scope: the config file edited in place, or the control agent.

What we own is marked with a user-context entry {"pbxops.autoprov": {...}}:
option-data entries we add to a subnet, client classes for vendor-limited
options (and their names in the subnet's require-client-classes), and whole
subnets we created. Everything else is left as it is. KeaEdit does the same
edit on a file (_dhcp_jsonc.TextDoc, comments kept) and on the config the
control agent returns (DictDoc).

Standard library only: this runs on the DHCP server's host.
"""

from __future__ import annotations

import copy
import ipaddress
import json
import os
import re
import socket
import time

from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.urls import open_url

from ansible_collections.pbxops.autoprov.plugins.module_utils._dhcp import jsonc
from ansible_collections.pbxops.autoprov.plugins.module_utils._dhcp.backend import (
    MARK,
    Backend,
    DhcpError,
    FileBackend,
    Plan,
    backup_path,
    read_text,
    tag_name,
    write_atomic,
)

# Kea 2.2 knows these codes by name; the others go out as raw bytes (code, csv-format false, hex data).
KEA_NAMES = {2: "time-offset", 42: "ntp-servers", 66: "tftp-server-name", 67: "boot-file-name"}
_CODES_BY_NAME = {name: code for code, name in KEA_NAMES.items()}
_CODES_BY_NAME.update({"routers": 3, "domain-name-servers": 6, "vendor-encapsulated-options": 43})


def option_entry(option):
    """The option-data entry Kea gets for one model option."""
    name, value = KEA_NAMES.get(option["code"]), option["value"]
    if option["type"] == "ipv4-list":
        data = ", ".join(value)
    else:
        data = str(value)
    if name and "," not in (value if option["type"] == "string" else ""):
        return {"name": name, "data": data}
    return {"code": option["code"], "csv-format": False, "data": option["hex"].upper()}


def kea_pool(first, last):
    """A pool the way Kea writes it back: a prefix when the range is exactly one, else FIRST-LAST."""
    blocks = list(ipaddress.summarize_address_range(ipaddress.IPv4Address(first), ipaddress.IPv4Address(last)))
    return str(blocks[0]) if len(blocks) == 1 else "%s-%s" % (first, last)


def class_test(vendor_class):
    """A Kea expression: the client's option 60 starts with vendor_class (the model allows no quotes in it)."""
    return "substring(option[60].hex,0,%d) == '%s'" % (len(vendor_class), vendor_class)


def mark_of(element):
    context = element.get("user-context") if isinstance(element, dict) else None
    mark = context.get(MARK) if isinstance(context, dict) else None
    return mark if isinstance(mark, dict) else None


def same_network(text, subnet):
    try:
        return ipaddress.ip_network(str(text), strict=False) == ipaddress.ip_network(subnet)
    except ValueError:
        return False


def subset(wanted, actual):
    """True when `actual` holds everything in `wanted` (Kea adds defaults to what it returns)."""
    if isinstance(wanted, dict):
        return isinstance(actual, dict) and all(k in actual and subset(v, actual[k]) for k, v in wanted.items())
    if isinstance(wanted, list):
        return isinstance(actual, list) and len(wanted) == len(actual) and all(subset(w, a) for w, a in zip(wanted, actual))
    return wanted == actual


def subsets(current, wanted):
    return subset(list(wanted), list(current))


# What we set that Kea expands into more keys; a merged element must not keep stale expansions of these.
_LIFETIMES = ("valid-lifetime", "min-valid-lifetime", "max-valid-lifetime")
_OURS_ONLY = ("pools", "option-data", "require-client-classes") + _LIFETIMES


def kea_merge(old, new):
    """`new` on top of the element Kea returned (with its defaults), so a diff shows only what we change."""
    if isinstance(old, dict) and isinstance(new, dict):
        if _identity(old) != _identity(new):
            return new
        merged = {k: v for k, v in old.items() if k not in _OURS_ONLY or k in new}
        if new.get("valid-lifetime") != old.get("valid-lifetime"):
            merged = {k: v for k, v in merged.items() if k not in _LIFETIMES[1:]}
        if "data" in new and "csv-format" not in new:
            merged["csv-format"] = True  # Kea's default for an entry given by name
        for key, value in new.items():
            merged[key] = kea_merge(old.get(key), value)
        return merged
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [kea_merge(o, n) for o, n in zip(old, new)]
    return new


def _identity(element):
    code = element.get("code", _CODES_BY_NAME.get(element.get("name")))
    return element.get("subnet"), element.get("pool"), code if "data" in element else element.get("name")


class KeaEdit:
    """The change dhcp_scope makes to one Kea DHCPv4 config, on a TextDoc or a DictDoc."""

    def __init__(self, scope, doc, where, same=None):
        self.scope = scope
        self.doc = doc
        self.where = where
        self.same = same
        self.tag = tag_name(scope)
        self.notes = []
        self._require_created = False  # we created the subnet's require-client-classes (set by _sync_options)

    def _dhcp4(self):
        config = self.doc.value()
        if not isinstance(config, dict) or not isinstance(config.get("Dhcp4"), dict):
            raise DhcpError("%s holds no Dhcp4 configuration" % self.where)
        return config["Dhcp4"]

    def _subnets(self):
        d4 = self._dhcp4()
        for i, subnet in enumerate(d4.get("subnet4") or []):
            yield ["Dhcp4", "subnet4", i], subnet
        for j, network in enumerate(d4.get("shared-networks") or []):
            for i, subnet in enumerate(network.get("subnet4") or []):
                yield ["Dhcp4", "shared-networks", j, "subnet4", i], subnet

    def _find(self):
        found = [(path, s) for path, s in self._subnets() if same_network(s.get("subnet"), self.scope["subnet"])]
        if len(found) > 1:
            raise DhcpError("%s defines the subnet %s %d times; fix that first" % (self.where, self.scope["subnet"], len(found)))
        return found[0] if found else (None, None)

    def _replace(self, path, key, owned, wanted, remove_key_if_empty, compact=False):
        self.doc.replace_owned(path, key, owned, wanted, remove_key_if_empty, same=self.same, compact=compact)

    def _class_name(self, vendor_class):
        slug = next(o["vendor_slug"] for o in self.scope["options"] if o["vendor_class"] == vendor_class)
        return "%s-vc-%s" % (self.tag, slug)

    def _owned_class(self, element):
        mark = mark_of(element)
        return mark is not None and mark.get("subnet") == self.scope["subnet"]

    def _owned_name(self, name):
        return isinstance(name, str) and name.startswith(self.tag + "-vc-")

    def _vendor_groups(self):
        groups = {}
        for option in self.scope["options"]:
            if option["vendor_class"]:
                groups.setdefault(option["vendor_class"], []).append(option)
        return groups

    def run(self):
        d4 = self._dhcp4()
        path, subnet = self._find()
        ours = path is not None and bool((mark_of(subnet) or {}).get("owns-subnet"))
        present = self.scope["state"] == "present"
        if present and self.scope["create"]:
            if path is not None and not ours:
                raise DhcpError(
                    "the subnet %s already exists in %s and dhcp_scope did not create it; create: true only creates new "
                    "subnets (the PBX as DHCP server). Use create: false to add the provisioning options to it"
                    % (self.scope["subnet"], self.where)
                )
            self._sync_created_subnet(d4, subnet if ours else None)
        elif present:
            if path is None:
                known = sorted(str(s.get("subnet")) for _p, s in self._subnets())
                raise DhcpError(
                    "the subnet %s does not exist in %s (it has: %s); with create: false dhcp_scope only adds options to "
                    "an existing subnet" % (self.scope["subnet"], self.where, ", ".join(known) or "no subnets")
                )
            self._sync_options(path, subnet)
        elif ours:
            self._drop_created_subnet(d4)
        elif path is not None:
            self._sync_options(path, subnet, remove=True)
        self._sync_classes(remove=not present)
        return self.notes

    # -- options in a subnet somebody else owns

    def _conflicts(self, subnet):
        codes = {o["code"] for o in self.scope["options"] if not o["vendor_class"]}
        for entry in subnet.get("option-data") or []:
            if mark_of(entry) is not None or entry.get("space", "dhcp4") != "dhcp4":
                continue
            code = entry.get("code", _CODES_BY_NAME.get(entry.get("name")))
            if code in codes:
                raise DhcpError(
                    "the subnet %s in %s already sets option %s (%s) itself; dhcp_scope adds its options next to the "
                    "subnet's own and does not replace them: remove that entry first"
                    % (self.scope["subnet"], self.where, code, entry.get("name") or "by code")
                )

    def _sync_options(self, path, subnet, remove=False):
        current = [e for e in subnet.get("option-data") or [] if mark_of(e) is not None]
        created = "option-data" not in subnet or any("option-data" in (mark_of(e).get("created-keys") or []) for e in current)
        wanted = []
        if not remove:
            self._conflicts(subnet)
            mark = {"subnet": self.scope["subnet"]}
            if created:
                mark["created-keys"] = ["option-data"]
            for option in self.scope["options"]:
                if not option["vendor_class"]:
                    wanted.append(dict(option_entry(option), **{"user-context": {MARK: mark}}))
        self._replace(path, "option-data", lambda e: mark_of(e) is not None, wanted, created, compact=True)
        names = [] if remove else [self._class_name(v) for v in sorted(self._vendor_groups())]
        our_classes = [c for c in self._dhcp4().get("client-classes") or [] if self._owned_class(c)]
        self._require_created = "require-client-classes" not in subnet or any(
            "require-client-classes" in (mark_of(c).get("created-keys") or []) for c in our_classes
        )
        self._replace(path, "require-client-classes", self._owned_name, names, self._require_created)

    # -- a subnet we create (the PBX is the DHCP server)

    def _next_id(self, d4):
        ids = [s.get("id") for _p, s in self._subnets() if isinstance(s.get("id"), int)]
        return max(ids + [len(list(self._subnets()))]) + 1

    def _sync_created_subnet(self, d4, existing):
        scope = self.scope
        created = "subnet4" not in d4 or bool(existing and "subnet4" in (mark_of(existing).get("created-keys") or []))
        mark = {"subnet": scope["subnet"], "owns-subnet": True}
        if created:
            mark["created-keys"] = ["subnet4"]
        element = {
            "id": existing.get("id") if existing and isinstance(existing.get("id"), int) else self._next_id(d4),
            "subnet": scope["subnet"],
            "pools": [{"pool": kea_pool(first, last)} for first, last in scope["pools"]],
        }
        if scope["lease_time"] is not None:
            element["valid-lifetime"] = scope["lease_time"]
        options = []
        if scope["routers"]:
            options.append({"name": "routers", "data": ", ".join(scope["routers"])})
        if scope["dns_servers"]:
            options.append({"name": "domain-name-servers", "data": ", ".join(scope["dns_servers"])})
        options.extend(option_entry(o) for o in scope["options"] if not o["vendor_class"])
        if options:
            element["option-data"] = options
        names = [self._class_name(v) for v in sorted(self._vendor_groups())]
        if names:
            element["require-client-classes"] = names
        element["user-context"] = {MARK: mark}
        self.notes.append("the subnet %s has the Kea subnet id %d" % (scope["subnet"], element["id"]))
        self._replace(["Dhcp4"], "subnet4", self._owned_subnet, [element], created)

    def _owned_subnet(self, element):
        mark = mark_of(element)
        return bool(mark and mark.get("owns-subnet") and same_network(element.get("subnet"), self.scope["subnet"]))

    def _drop_created_subnet(self, d4):
        existing = [s for s in d4.get("subnet4") or [] if self._owned_subnet(s)]
        created = any("subnet4" in (mark_of(s).get("created-keys") or []) for s in existing)
        self._replace(["Dhcp4"], "subnet4", self._owned_subnet, [], created)

    # -- client classes for vendor-limited options

    def _sync_classes(self, remove):
        d4 = self._dhcp4()
        everyone_ours = [c for c in d4.get("client-classes") or [] if mark_of(c) is not None]
        created = "client-classes" not in d4 or any("client-classes" in (mark_of(c).get("created-keys") or []) for c in everyone_ours)
        wanted = []
        if not remove:
            require_created = self._require_created and not self.scope["create"]
            for vendor_class, options in sorted(self._vendor_groups().items()):
                keys = [k for k, flag in (("client-classes", created), ("require-client-classes", require_created)) if flag]
                mark = {"subnet": self.scope["subnet"], "vendor-class": vendor_class}
                if keys:
                    mark["created-keys"] = keys
                wanted.append(
                    {
                        "name": self._class_name(vendor_class),
                        "test": class_test(vendor_class),
                        "only-if-required": True,
                        "option-data": [option_entry(o) for o in options],
                        "user-context": {MARK: mark},
                    }
                )
        self._replace(["Dhcp4"], "client-classes", self._owned_class, wanted, created)


# -- Kea by its config file --------------------------------------------------------------

_SECRET_VALUE = re.compile(r'("[^"]*(?:password|secret)[^"]*"\s*:\s*)"(?:[^"\\]|\\.)*"', re.I)


def mask_secrets(text):
    """The config text with the values of password and secret keys (lease database, hooks) hidden."""
    return _SECRET_VALUE.sub(r'\1"********"', text)


def load_texts(path):
    """The config file and every file it includes: {path: text}."""
    texts, todo = {}, [path]
    while todo:
        current = todo.pop()
        if current in texts:
            continue
        text = read_text(current)
        if text is None:
            raise DhcpError("the Kea config file %s does not exist" % current)
        texts[current] = text
        todo.extend(jsonc.include_targets(text, current))
    return texts


class KeaFile(FileBackend):
    name = "kea"
    unit = "kea-dhcp4-server"
    hup_reloads = True
    default_config = "/etc/kea/kea-dhcp4.conf"

    def plan(self):
        texts = load_texts(self.config_file)
        try:
            doc = jsonc.TextDoc(texts, self.config_file)
            notes = KeaEdit(self.scope, doc, self.config_file).run()
        except jsonc.JsoncError as exc:
            raise DhcpError("cannot edit %s: %s" % (self.config_file, exc))
        plan = Plan(mask=mask_secrets)
        plan.notes = notes
        for path in texts:
            plan.set_file(path, texts[path], doc.texts[path])
        plan.config = doc.value()
        return plan

    def check_argv(self):
        return [self.runner.which("kea-dhcp4") or "kea-dhcp4", "-t", self.config_file]

    def verify_live(self, plan):
        """With a unix control socket, ask Kea whether it runs the new config (a SIGHUP with a bad config is only logged)."""
        control = (plan.config.get("Dhcp4") or {}).get("control-socket") or {}
        if control.get("socket-type") != "unix" or not control.get("socket-name"):
            return None
        try:
            running = unix_command(control["socket-name"], "config-get")
        except (OSError, ValueError) as exc:
            return "Kea's control socket %s does not answer: %s" % (control["socket-name"], exc)
        check = KeaEdit(self.scope, jsonc.DictDoc(copy.deepcopy(running)), "the running config", same=subsets)
        try:
            check.run()
        except DhcpError as exc:
            return "Kea runs another config: %s" % exc.msg
        if check.doc.value() != running:
            return "Kea is still running the previous config: it did not take the new one (see its log)"
        return None


def unix_command(path, command, timeout=5.0):
    """Send one command to Kea's unix control socket; the response's arguments."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(path)
        sock.sendall(json.dumps({"command": command}).encode())
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
            try:
                reply = json.loads(data)
                break
            except ValueError:
                continue
    reply = json.loads(data)
    if isinstance(reply, list):
        reply = reply[0]
    if reply.get("result") != 0:
        raise ValueError("%s: %s" % (command, reply.get("text")))
    return reply.get("arguments")


# -- Kea through its control agent ---------------------------------------------------------


class ApiPlan(Plan):
    def __init__(self, before, after, label):
        super().__init__()
        self.before, self.after, self.label = before, after, label

    @property
    def changed(self):
        return self.before != self.after

    def diffs(self):
        return [dict(before_header=self.label, after_header=self.label, before=_dump(self.before), after=_dump(self.after))]


def _dump(config):
    return json.dumps(_masked(config), indent=2) + "\n"


def _masked(value):
    """The config with secret values (database and hook passwords) hidden, for diffs."""
    if isinstance(value, dict):
        return {k: ("********" if any(s in k.lower() for s in ("password", "secret")) else _masked(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return value


class KeaAgent(Backend):
    """Kea through its control agent: config-get, config-test, config-set, config-write."""

    name = "kea"
    unit = "kea-dhcp4-server"

    def __init__(self, params, scope, runner):
        super().__init__(params, scope, runner)
        self.url = params["control_agent_url"]

    @property
    def lock_name(self):
        return self.url

    def _call(self, command, arguments=None):
        body = {"command": command, "service": ["dhcp4"]}
        if arguments is not None:
            body["arguments"] = arguments
        p = self.params
        try:
            response = open_url(
                self.url,
                data=json.dumps(body),
                method="POST",
                headers={"Content-Type": "application/json"},
                url_username=p.get("control_agent_user"),
                url_password=p.get("control_agent_password"),
                force_basic_auth=bool(p.get("control_agent_user")),
                validate_certs=p.get("validate_certs", True),
                ca_path=p.get("ca_path"),
                timeout=float((p.get("service") or {}).get("timeout") or 15.0),
            )
            reply = json.loads(response.read())
        except HTTPError as exc:
            raise DhcpError("the Kea control agent at %s refused %s: HTTP %s %s" % (self.url, command, exc.code, exc.reason))
        except (URLError, OSError, ValueError) as exc:
            raise DhcpError("cannot reach the Kea control agent at %s (%s): %s" % (self.url, command, exc))
        reply = reply[0] if isinstance(reply, list) and reply else reply
        if not isinstance(reply, dict):
            raise DhcpError("the Kea control agent at %s answered %s with %r" % (self.url, command, reply))
        return reply.get("result"), reply.get("text") or "", reply.get("arguments")

    def _running(self):
        result, text, arguments = self._call("config-get")
        if result != 0 or not isinstance(arguments, dict) or "Dhcp4" not in arguments:
            raise DhcpError("config-get through %s failed: %s" % (self.url, text or "no Dhcp4 configuration returned"))
        return {"Dhcp4": arguments["Dhcp4"]}

    def plan(self):
        before = self._running()
        doc = jsonc.DictDoc(copy.deepcopy(before), merge=kea_merge)
        plan = ApiPlan(before, doc.value(), "Kea DHCPv4 running config (%s)" % self.url)
        plan.notes = KeaEdit(self.scope, doc, "the config of the Kea server behind %s" % self.url, same=subsets).run()
        return plan

    def _live(self):
        """None when the running config already holds the change, else the reason."""
        running = self._running()
        check = KeaEdit(self.scope, jsonc.DictDoc(copy.deepcopy(running)), "the running config", same=subsets)
        check.run()
        return None if check.doc.value() == running else "Kea is not running the new config"

    def _backup(self):
        """Keep the config as it was: a copy of the local config file, else Kea writes its running config next to it."""
        config_file = self.params.get("config_file")
        if config_file and os.path.isfile(config_file):
            target = backup_path(config_file)
            write_atomic(target, read_text(config_file), os.stat(config_file))
            return target
        target = backup_path(config_file or KeaFile.default_config)
        result, text, _args = self._call("config-write", {"filename": target})
        if result != 0:
            raise DhcpError("could not keep a backup (config-write to %s failed: %s); nothing was changed" % (target, text))
        return target

    def apply(self, plan):
        result, text, _args = self._call("config-test", plan.after)
        if result != 0:
            raise DhcpError(
                "Kea rejected the new config for %s (config-test: %s), so nothing was changed; the server keeps running "
                "its current config" % (self.subnet, text),
                rejected=True,
                rolled_back=True,
            )
        backups = [self._backup()]
        result, text, _args = self._call("config-set", plan.after)
        if result != 0:
            raise DhcpError(
                "Kea refused config-set for %s (%s); it keeps running its previous config, nothing was changed" % (self.subnet, text),
                rejected=True,
                rolled_back=True,
                backups=backups,
            )
        problem = self._wait_live()
        if problem is None:
            problem = self.service.health() if self.service.spec.get("health_command") else None
        if problem is None:
            write_args = {"filename": self.params["config_file"]} if self.params.get("config_file") else {}
            result, text, _args = self._call("config-write", write_args)
            if result == 0:
                return backups
            problem = "config-write failed: %s" % text
        result, text, _args = self._call("config-set", plan.before)
        state = "the previous config is running again" if result == 0 else "restoring the previous config FAILED too: %s" % text
        raise DhcpError(
            "the change for %s did not work out (%s); %s" % (self.subnet, problem, state),
            rolled_back=result == 0,
            backups=backups,
        )

    def _wait_live(self):
        deadline = time.monotonic() + float((self.params.get("service") or {}).get("timeout") or 15.0)
        problem = self._live()
        while problem and time.monotonic() < deadline:
            time.sleep(0.2)
            problem = self._live()
        return problem
