# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller half of pbxops.autoprov.device_configs: validate, render, then ship what changed."""

from __future__ import annotations

import hashlib
import json
import os
import re

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase

try:
    # netaddr reads its OUI index (_mac.oui_organisation) on the first lookup, in every worker process
    # anew. Imported here, it is read once per run: the strategy loads this plugin before it forks the
    # workers (linear.py, free.py: action_loader.get(class_only=True)).
    from netaddr.eui import ieee as _ieee  # noqa: F401
except ImportError:  # pragma: no cover - _devices reports a missing netaddr
    pass

from ansible_collections.pbxops.autoprov.plugins.module_utils import _device_pairs, _devices, _mac, _urls
from ansible_collections.pbxops.autoprov.plugins.module_utils._catalog import catalog
from ansible_collections.pbxops.autoprov.plugins.module_utils._files.sync import MANIFEST
from ansible_collections.pbxops.autoprov.plugins.module_utils._render import firmware as _firmware
from ansible_collections.pbxops.autoprov.plugins.module_utils._render import moves as _moves
from ansible_collections.pbxops.autoprov.plugins.module_utils._render import render as _render
from ansible_collections.pbxops.autoprov.plugins.module_utils._render.spec import ARGUMENT_SPEC, SETTINGS
from ansible_collections.pbxops.autoprov.plugins.plugin_utils import _direct_call

MODULE = "pbxops.autoprov.device_configs"
PUBLIC_DIRS = ("firmware",)  # the config host serves firmware images there to anyone (firmware.default_base)
_SPEC_WITHOUT_DEVICES = {k: v for k, v in ARGUMENT_SPEC.items() if k != "devices"}
# What _ship reads of a plan (sync.plan's result).
_PLAN_KEYS = ("write", "fix_attrs", "remove", "foreign", "old", "old_vendor", "departed", "changed")
_URL = re.compile(r"^(https?|tftp|ftps?)://[^\s/]+(/\S*)?$", re.I)


def _fail(msg, **extra):
    return dict(failed=True, changed=False, msg=msg, **extra)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = True
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        super().run(tmp, task_vars)
        self._target_calls = []  # how each call to the target went: 'direct' or 'module' (_on_target)
        self._target_facts = {}  # what a module call discovered (the target's Python): the next calls go direct
        result = self._run(task_vars)
        if self._target_calls:
            result["target_calls"] = self._target_calls
        if self._target_facts:
            result["ansible_facts"] = self._target_facts
        return result

    def _run(self, task_vars):
        task_vars = task_vars or {}
        args, failure = self._arguments()
        if failure:
            return failure
        host = args["pbx_name"] or task_vars.get("inventory_hostname", "localhost")
        prepared = self._prepare(host, args, task_vars)
        if prepared.get("failed"):
            return prepared
        devices, files, secrets, settings, warnings = (prepared[k] for k in ("devices", "files", "secrets", "settings", "warnings"))
        if args["validate_only"]:
            # The site playbook's first step: everything checked and rendered, nothing written on the target.
            msg = "%s: %d device(s), %d file(s): the device configuration is valid (validate_only: nothing was touched)"
            result = dict(
                changed=False, devices=len(devices), files=sorted(files), msg=msg % (host, len(devices), len(files)), warnings=warnings
            )
            if args["compare"]:
                compared = self._compare(host, args, task_vars, devices, files, settings)
                if compared.get("failed"):
                    return compared
                result.update(compared)
            return result
        return self._ship(host, args, task_vars, devices, files, secrets, settings, warnings)

    def _arguments(self):
        """(validated args, None) or (None, failure)."""
        # The device list is checked by _devices, which names host, MAC and field; the generic
        # validator would only slow a thousand devices down (it copies and walks them).
        raw = dict(self._task.args)
        devices_arg = raw.pop("devices", None) or []
        validated = ArgumentSpecValidator(_SPEC_WITHOUT_DEVICES).validate(raw)
        if validated.error_messages:
            return None, _fail("device_configs: " + "; ".join(validated.error_messages))
        args = dict(validated.validated_parameters, devices=devices_arg)
        if args.get("sync") or args.get("contents"):
            return None, _fail("device_configs: sync and contents are set by the action plugin, not by a task")
        return args, None

    def _prepare(self, host, args, task_vars):
        """Check the settings and the devices, then render: {devices, files, secrets, settings, warnings} or a failure."""
        errors = self._check_settings(host, args)
        settings = {name: args[name] for name in SETTINGS}
        settings["server_url"], settings["provisioning_username"], settings["provisioning_password"] = (
            _urls.split_credentials(args["server_url"]) if args["server_url"] else (None, None, None)
        )
        settings["firmware"], firmware_errors = _firmware.resolve(host, args["firmware"], args["firmware_url"], settings["server_url"])
        errors.extend(firmware_errors)
        devices, problems = _devices.check_devices(
            host, args["devices"], settings, args["method"], self._fleet(task_vars) if args["fleet_check"] else None
        )
        errors.extend(problems.errors)
        for warning in problems.warnings:
            self._display.warning(warning)
        if errors:
            return _fail(self._summary(host, errors), errors=errors, warnings=problems.warnings)

        template_dirs = ([args["template_dir"]] if args["template_dir"] else []) + [_render.BUILTIN_TEMPLATES]
        settings["vars"] = args["vars"]
        for device in devices:
            device["vars"] = dict(args["vars"], **device["vars"])
        key = _device_pairs.device_key(args["device_key"], args["derive_device_key"], settings["provisioning_password"])
        files, secrets, errors = _render.Renderer(template_dirs).render(host, devices, settings, key)
        if errors:
            return _fail(self._summary(host, errors), errors=errors)
        return dict(devices=devices, files=files, secrets=secrets, settings=settings, warnings=problems.warnings)

    def _ship(self, host, args, task_vars, devices, files, secrets, settings, warnings):
        """Plan on the target, then (not in check mode) write what changed and prune."""
        manifest, reopen, common, wanted, errors = self._sync_inputs(host, args, settings, devices, files)
        if errors:
            return _fail(self._summary(host, errors), errors=errors)
        want_diff = bool(self._task.diff)
        plan = None
        if args["plan"] and not want_diff:  # a diff needs the old contents, which a compare does not fetch
            plan = self._checked_plan(args["plan"], self._plan_key(common, wanted, manifest, reopen))
        reused_plan = plan is not None
        if plan is None:
            plan = self._plan(common, wanted, manifest, want_diff, reopen, task_vars)
        moves = []
        if not plan.get("failed") and plan["departed"] and args["follow_moves"]:
            moved = self._moved(host, args, task_vars, plan["departed"], files)
            if moved["errors"]:
                return _fail(self._summary(host, moved["errors"]), errors=moved["errors"])
            warnings = warnings + moved["warnings"]
            moves = moved["moves"]
            if moved["files"] or moved["kept"]:
                files = dict(files, **moved["files"])
                secrets = set(secrets) | moved["secrets"]
                manifest = self._manifest(host, settings, devices + moved["devices"], files)
                wanted = self._with_moves(manifest, files, moved, moves)
                plan = self._plan(common, wanted, manifest, want_diff, reopen, task_vars)
        if plan.get("failed"):
            return plan
        plan["write"] = [name for name in plan["write"] if name in files]  # files kept for a move stay as they are

        result = dict(
            changed=plan["changed"],
            files=plan["write"],
            removed=plan["remove"],
            changed_devices=sorted({mac for name in plan["write"] for mac in files[name].users}),
            unchanged=len(files) - len(plan["write"]),
            devices=len(devices),
            manifest=os.path.join(args["dest"], MANIFEST),
            backups=[],
            moves=moves,
            reused_plan=reused_plan,
        )
        if warnings:
            result["warnings"] = warnings
        if want_diff and plan["changed"]:
            result["diff"] = self._diff(files, plan, secrets)
        if plan["changed"] and not self._task.check_mode:
            sync = dict(
                phase="apply", manifest=manifest, fix_attrs=plan["fix_attrs"], remove=plan["remove"], foreign=plan["foreign"], reopen=reopen
            )
            contents = {name: files[name].content for name in plan["write"]}
            applied = self._on_target(dict(common, sync=sync, contents=contents), task_vars)
            if applied.get("failed"):
                return _fail(applied.get("msg", "device_configs failed on the target"))
            result["backups"] = applied.get("backups", [])
        return result

    def _compare(self, host, args, task_vars, devices, files, settings):
        """validate_only with compare: the target's plan, read-only. {in_sync, plan} or a failure.

        in_sync: a real run would change nothing (no file, attribute, manifest entry or departed device).
        Otherwise plan is the target's plan with the key of what it was made for, for O(plan) of the real
        run that follows. An owner or group the target does not have yet is no error (the play creates the
        service group later). No plan when devices departed (their old manifest entries carry the digests
        of files with secrets, which a result must not show; the real run plans again and follows the
        moves) or when the target cannot be planned (the real run plans again and reports why).
        """
        manifest, reopen, common, wanted, errors = self._sync_inputs(host, args, settings, devices, files)
        if errors:
            return _fail(self._summary(host, errors), errors=errors)
        plan = self._plan(common, wanted, manifest, False, reopen, task_vars, ids_pending=True)
        if plan.get("failed") or plan["departed"]:
            return dict(in_sync=False, plan=None)
        if not plan["changed"]:
            return dict(in_sync=True, plan=None)
        return dict(in_sync=False, plan=dict(plan, key=self._plan_key(common, wanted, manifest, reopen)))

    def _sync_inputs(self, host, args, settings, devices, files):
        """What a plan is made of: (manifest, reopen MACs, target settings, {file: sha256}, errors)."""
        manifest = self._manifest(host, settings, devices, files)
        reopen, errors = self._reopen(host, args["reopen"], manifest["devices"])
        common = dict(dest=args["dest"], prune=args["prune"], owner=args["owner"], group=args["group"], mode=args["mode"])
        return manifest, reopen, common, {n: f.sha256 for n, f in files.items()}, errors

    @staticmethod
    def _plan_key(common, wanted, manifest, reopen):
        """What a plan was made for: the target settings, every file's digest, the manifest, the reopened MACs."""
        text = json.dumps([common, wanted, manifest, sorted(reopen)], sort_keys=True, default=str)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    @staticmethod
    def _checked_plan(checked, key):
        """O(plan), when it was made for exactly what this run ships; else None (plan again)."""
        if not isinstance(checked, dict) or checked.get("key") != key:
            return None
        plan = {name: value for name, value in checked.items() if name != "key"}
        return plan if set(_PLAN_KEYS) <= set(plan) else None

    def _plan(self, common, wanted, manifest, want_diff, reopen, task_vars, ids_pending=False):
        """The target's plan (sync.plan), or a failure."""
        sync = dict(phase="plan", wanted=wanted, manifest=manifest, want_old=want_diff, reopen=reopen, ids_pending=ids_pending)
        planned = self._on_target(dict(common, sync=sync), task_vars)
        if planned.get("failed"):
            return _fail(planned.get("msg", "device_configs failed on the target"))
        return planned["plan"]

    def _on_target(self, module_args, task_vars):
        """The module's result for module_args: run directly on the target where that behaves as the module (_direct_call)."""
        result, way = _direct_call.call(self, MODULE, module_args, task_vars)
        self._target_calls.append(way)
        self._target_facts.update(result.get("ansible_facts") or {})
        return result

    def _moved(self, host, args, task_vars, departed, own_files):
        """Files for the devices that left this PBX for another PBX of the inventory (moves.py).

        Returns {moves, files, devices, kept, secrets, errors, warnings}: a device whose new PBX is in
        this run is rendered with that PBX's settings (its own files, and shared ones this PBX does not
        write itself); one whose new PBX is not in this run keeps its files as they are; one in
        moves_done has fetched at its new PBX and is pruned.
        """
        hostvars = task_vars.get("hostvars") or {}
        found = _moves.owners(departed, hostvars, (task_vars.get("groups") or {}).get("all") or [], host)
        out = dict(moves=[], files={}, devices=[], kept={}, secrets=set(), errors=[], warnings=[])
        done = set()
        for value in args["moves_done"]:
            try:
                done.add(_mac.normalize(value))
            except _mac.MacError as exc:
                out["errors"].append("%s: moves_done: %s" % (host, exc))
        by_target = {}
        for mac, (target, device) in sorted(found.items()):
            if mac in done:
                out["moves"].append(dict(mac=mac, to=target, state="done"))
            else:
                by_target.setdefault(target, []).append(device)
        for target, moved in sorted(by_target.items()):
            macs = sorted(_mac.normalize(d["mac"]) for d in moved)
            settings = _moves.settings_of(hostvars, target)
            if settings is None:
                out["kept"].update((mac, departed[mac]) for mac in macs)
                out["moves"].extend(dict(mac=mac, to=target, state="kept") for mac in macs)
                out["warnings"].append(
                    "%s: %s moved to %s, which is not in this run: the files here are kept as they are until a run"
                    " includes %s" % (host, ", ".join(_mac.fmt(m, "colon") for m in macs), target, target)
                )
                continue
            prepared = self._render_for(target, args, settings, moved, task_vars)
            if prepared.get("failed"):
                out["errors"].extend(prepared.get("errors") or [prepared["msg"]])
                continue
            out["files"].update((n, f) for n, f in prepared["files"].items() if f.mac or n not in own_files)
            out["devices"].extend(prepared["devices"])
            out["secrets"].update(prepared["secrets"])
            out["moves"].extend(dict(mac=mac, to=target, state="pointed") for mac in macs)
        return out

    def _render_for(self, target, args, settings, devices, task_vars):
        """_prepare() for devices of another PBX, with that PBX's settings (the spec's defaults for the rest)."""
        validated = ArgumentSpecValidator(_SPEC_WITHOUT_DEVICES).validate(dict(settings, dest=args["dest"]))
        if validated.error_messages:
            what = "%s: %s (its render settings, from the provision role): " % (target, _moves.SETTINGS_VAR)
            errors = [what + message for message in validated.error_messages]
            return _fail("; ".join(errors), errors=errors)
        target_args = dict(validated.validated_parameters, devices=devices, fleet_check=False, pbx_name=target)
        return self._prepare(target, target_args, task_vars)

    @staticmethod
    def _with_moves(manifest, files, moved, moves):
        """Mark the moved devices in the manifest (moved_to) and list the kept files again; the wanted {name: sha256}."""
        target = {m["mac"]: m["to"] for m in moves}
        wanted = {n: f.sha256 for n, f in files.items()}
        for mac in target:
            if mac in manifest["devices"]:
                manifest["devices"][mac]["moved_to"] = target[mac]
        for mac, old in moved["kept"].items():
            manifest["devices"][mac] = dict(old["device"], moved_to=target[mac])
            for name, entry in old["files"].items():
                if name not in manifest["files"]:
                    manifest["files"][name] = entry
                    wanted[name] = entry.get("sha256")
        return wanted

    @staticmethod
    def _check_settings(host, args):
        errors = []
        if args["devices"]:
            if not args["sip_server"]:
                errors.append("%s: sip_server: missing; the lines need a registrar (autoprov_sip_server)" % host)
            if not args["server_url"]:
                errors.append("%s: server_url: missing; the devices need the provisioning URL (autoprov_server_url)" % host)
        if args["server_url"] and not _URL.match(args["server_url"]):
            shown = _urls.split_credentials(args["server_url"])[0] if "@" in args["server_url"] else args["server_url"]
            errors.append("%s: server_url: %r is not a URL; use http(s)://host[:port]/path/ or tftp://host/" % (host, shown))
        if args["device_key"] is not None and len(args["device_key"]) < _device_pairs.KEY_MIN:
            errors.append("%s: device_key: shorter than %d characters; use a long random string from Vault" % (host, _device_pairs.KEY_MIN))
        if args["vlan"] is not None and not 1 <= args["vlan"] <= 4094:
            errors.append("%s: vlan: %r; valid: 1-4094" % (host, args["vlan"]))
        if args["resync_interval"] < 0:
            errors.append("%s: resync_interval: %r; minutes, 0 to disable" % (host, args["resync_interval"]))
        return errors

    @staticmethod
    def _reopen(host, macs, known):
        """The MACs of `reopen`, normalised; errors for what is no MAC or no device of this PBX."""
        reopen, errors = [], []
        for value in macs:
            try:
                mac = _mac.normalize(value)
            except _mac.MacError as exc:
                errors.append("%s: reopen: %s" % (host, exc))
                continue
            if mac not in known:
                errors.append("%s: reopen: %s is not a device of this PBX (autoprov_devices)" % (host, mac))
            reopen.append(mac)
        return reopen, errors

    @staticmethod
    def _fleet(task_vars):
        """autoprov_devices of the other hosts of the play, for the duplicate-MAC check."""
        hostvars = task_vars.get("hostvars") or {}
        me = task_vars.get("inventory_hostname")
        fleet = {}
        for other in task_vars.get("ansible_play_hosts_all") or []:
            devices = _moves.devices_of(hostvars, other) if other != me else None
            if devices is not None:
                fleet[other] = devices
        return fleet

    @staticmethod
    def _summary(host, errors):
        return "%s: %d problem(s) in the device configuration, nothing was changed:\n- %s" % (host, len(errors), "\n- ".join(errors))

    @staticmethod
    def _manifest(host, settings, devices, files):
        owned = {}
        for name, rendered in files.items():
            if rendered.mac:
                owned.setdefault(rendered.mac, []).append(name)
        return {
            "format": 2,
            "generator": MODULE,
            "pbx": host,
            "provisioning_url": settings["server_url"],
            "public_dirs": list(PUBLIC_DIRS),
            "files": {name: f.manifest_entry() for name, f in sorted(files.items())},
            "devices": {
                d["mac"]: {
                    "vendor": d["vendor"],
                    "model": d["model"],
                    "files": sorted(owned.get(d["mac"], [])),
                    "extensions": [line["extension"] for line in d["lines"]],
                }
                for d in devices
            },
            "vendors": catalog.responder_table(),
        }

    @staticmethod
    def _diff(files, plan, secrets):
        diffs = []
        for name in plan["write"] + plan["remove"]:
            new = files.get(name)
            vendor = new.vendor if new else plan["old_vendor"].get(name)
            before = plan["old"].get(name) or ""
            diffs.append(
                dict(
                    before_header=name if name in plan["old"] else "%s (absent)" % name,
                    after_header=name if new else "%s (removed)" % name,
                    before=_render.mask(before, secrets, vendor),
                    after=_render.mask(new.content, secrets, vendor) if new else "",
                )
            )
        return diffs
