# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Target side of device_configs: compare, write atomically, prune, keep the manifest.

Python standard library only: this runs on the PBX host.

The manifest (MANIFEST in the config root) lists every file this collection
wrote there, with its SHA-256, the MAC it belongs to and whether it holds
secrets; prune only ever removes files it lists. The responder reads it to
know which MACs belong to this PBX (docs/manifest.md).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import time

from ansible_collections.pbxops.autoprov.plugins.module_utils._files import fileops as _fileops

MANIFEST = ".autoprov-manifest.json"
BACKUP_DIR = ".autoprov-backup"
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+-]*$")
_OLD_CONTENT_LIMIT = 512 * 1024


class SyncError(Exception):
    pass


def check_name(name):
    """A relative path of plain components (no '..', no dot-files, no absolute paths)."""
    parts = name.split("/")
    if not name or any(not _NAME.match(p) for p in parts):
        raise SyncError("refusing file name %r: only relative names of letters, digits and _ . + - are written" % name)
    return parts


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_manifest(dest):
    path = os.path.join(dest, MANIFEST)
    try:
        with open(path, "r", encoding="utf-8") as handle:
            manifest = json.load(handle)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise SyncError("cannot read the manifest %s: %s" % (path, exc)) from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        raise SyncError("%s is not a manifest written by pbxops.autoprov.device_configs" % path)
    return manifest


def resolve_ids(owner, group):
    try:
        return _fileops.lookup_ids(owner, group)
    except _fileops.UnknownId as exc:
        raise SyncError("owner/group: %s" % exc) from None


def _canonical(manifest):
    return json.dumps(manifest, sort_keys=True, separators=(",", ":"))


def stamp_windows(manifest, old_manifest, written, now, reopen=()):
    """The manifest with each device's provisioning `window` (docs/responder.md, "Provisioning window").

    A device new to the manifest, or one whose files this run writes, gets a window opened now:
    the responder hands its secret files to the first address that fetches them within the
    window, and after that to that address only. Devices in `reopen` get a new window too; every
    other device keeps the window it had.
    """
    old_devices = (old_manifest or {}).get("devices") or {}
    written = set(written)
    devices = {}
    for mac, device in (manifest.get("devices") or {}).items():
        old_window = (old_devices.get(mac) or {}).get("window")
        stamped = isinstance(old_window, (int, float))
        keep = stamped and mac not in reopen and not written.intersection(device.get("files") or [])
        window = old_window if keep else round(now, 3)
        if stamped and not keep:  # always later than the old one, even within the same millisecond: a reopen is a change
            window = max(window, round(old_window + 0.001, 3))
        devices[mac] = dict(device, window=window)
    return dict(manifest, devices=devices)


def departed(old_manifest, manifest):
    """The devices the manifest on disk has and the new one lacks: {mac: {"device": entry, "files": {name: entry}}}.

    The controller decides whether each one left the fleet (pruned) or moved to another PBX
    (docs/inventory.md, "Moving phones between PBXes"); "files" holds its own files and the shared ones
    of its vendor, so that files kept for it can be listed again as they are.
    """
    old_devices = (old_manifest or {}).get("devices") or {}
    old_files = (old_manifest or {}).get("files") or {}
    gone = {}
    for mac in sorted(set(old_devices) - set(manifest.get("devices") or {})):
        entry = old_devices[mac] if isinstance(old_devices[mac], dict) else {}
        own = set(entry.get("files") or [])
        files = {
            name: f
            for name, f in old_files.items()
            if isinstance(f, dict) and (name in own or (not f.get("mac") and f.get("vendor") == entry.get("vendor")))
        }
        gone[mac] = {"device": entry, "files": files}
    return gone


def plan(dest, wanted, manifest, prune, mode, owner, group, want_old, reopen=(), ids_pending=False):
    """What apply() would change. wanted: {name: sha256}; manifest: the one to write.

    ids_pending: an owner or group this host does not have is no error (the play creates it before
    apply, e.g. the responder's service group); no file can have it yet, so every existing one is
    planned for fix_attrs. apply() looks the names up again.
    """
    try:
        uid, gid = resolve_ids(owner, group)
    except SyncError:
        if not ids_pending:
            raise
        uid = gid = None
    for name in wanted:
        check_name(name)
    if os.path.lexists(dest) and not os.path.isdir(dest):
        raise SyncError("%s exists and is not a directory" % dest)
    old_manifest = read_manifest(dest) if os.path.isdir(dest) else None
    ours = set((old_manifest or {}).get("files", {}))
    result = {
        "write": [],
        "fix_attrs": [],
        "remove": [],
        "foreign": [],
        "old": {},
        "old_vendor": {},
        "dest_missing": not os.path.isdir(dest),
        "departed": departed(old_manifest, manifest),
    }
    for name, digest in sorted(wanted.items()):
        path = os.path.join(dest, name)
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            result["write"].append(name)
            continue
        if not stat.S_ISREG(st.st_mode):
            raise SyncError("%s exists and is not a regular file (a link or a directory); it is not ours to replace" % path)
        if sha256_file(path) != digest:
            result["write"].append(name)
            if name not in ours:
                result["foreign"].append(name)
            if want_old:
                result["old"][name] = _read_text(path, st)
        elif uid is None or _fileops.attrs_differ(st, mode, uid, gid):
            result["fix_attrs"].append(name)
    if prune:
        for name in sorted(ours - set(wanted)):
            path = os.path.join(dest, name)
            if os.path.lexists(path):
                result["remove"].append(name)
                result["old_vendor"][name] = old_manifest["files"][name].get("vendor")
                if want_old:
                    result["old"][name] = _read_text(path, os.lstat(path))
    stamped = stamp_windows(manifest, old_manifest, result["write"], time.time(), reopen)
    result["manifest_changed"] = old_manifest is None or _canonical(old_manifest) != _canonical(stamped)
    result["changed"] = bool(
        result["write"] or result["fix_attrs"] or result["remove"] or result["manifest_changed"] or result["dest_missing"]
    )
    return result


def _read_text(path, st):
    if st.st_size > _OLD_CONTENT_LIMIT or not stat.S_ISREG(st.st_mode):
        return None
    with open(path, "rb") as handle:
        return handle.read().decode("utf-8", "replace")


def _write_atomic(dest, name, data, mode, uid, gid, sync_dir=True):
    path = os.path.join(dest, name)
    if not os.path.isdir(os.path.dirname(path)):
        os.makedirs(os.path.dirname(path), 0o750)
    _fileops.write_atomic(path, data, mode, uid, gid, sync_dir=sync_dir)
    return os.path.dirname(path)


def _make_dest(dest, uid, gid):
    if os.path.isdir(dest):
        return
    os.makedirs(dest, 0o750)
    if uid != -1 or gid != -1:
        os.chown(dest, uid, gid)
    _fileops.fsync_dir(os.path.dirname(os.path.abspath(dest)))


def _back_up(dest, foreign):
    """A file we did not write stands where one of ours goes: keep a copy. Returns the copies' paths."""
    backups = []
    stamp = time.strftime("%Y%m%dT%H%M%S")
    for name in foreign:
        source = os.path.join(dest, name)
        if os.path.isfile(source):
            target = os.path.join(dest, BACKUP_DIR, "%s.%s" % (name.replace("/", "_"), stamp))
            os.makedirs(os.path.dirname(target), 0o700, exist_ok=True)
            with open(source, "rb") as handle:
                _write_atomic(os.path.dirname(target), os.path.basename(target), handle.read(), 0o600, -1, -1)
            backups.append(target)
    return backups


def apply(dest, contents, fix_attrs, remove, foreign, manifest, mode, owner, group, reopen=()):
    """Write contents {name: text}, fix attributes, then the manifest, then remove pruned files.

    The order is what keeps a crash (kill -9, power loss) from exposing anything
    (docs/manifest.md, "Writing order"): the responder serves a file only while the
    manifest on disk lists it with the SHA-256 of the content on disk, so a new or
    changed file is refused until the manifest that vouches for it has replaced the
    old one, and every file is durable (fsync, then its directory) before that
    manifest is written. Pruned files go last, once no manifest lists them.
    """
    uid, gid = resolve_ids(owner, group)
    _make_dest(dest, uid, gid)
    backups = _back_up(dest, foreign)
    touched = set()
    for name in sorted(contents):
        check_name(name)
        touched.add(_write_atomic(dest, name, contents[name].encode("utf-8"), mode, uid, gid, sync_dir=False))
    for name in fix_attrs:
        check_name(name)
        _fileops.set_attrs(os.path.join(dest, name), mode, uid, gid)
    for directory in sorted(touched, key=len, reverse=True):
        _fileops.fsync_dir(directory)
    manifest = stamp_windows(manifest, read_manifest(dest), contents, time.time(), reopen)
    _write_atomic(dest, MANIFEST, (json.dumps(manifest, sort_keys=True, indent=1) + "\n").encode("utf-8"), mode, uid, gid)
    emptied = set()
    for name in remove:
        check_name(name)
        path = os.path.join(dest, name)
        if os.path.lexists(path):
            os.unlink(path)
            emptied.add(os.path.dirname(path))
    for directory in emptied:
        _fileops.fsync_dir(directory)
    return backups


def serve(params, check_mode):
    """One target-side call of device_configs: {changed, plan} or {changed, backups}, or {failed, msg}.

    params are the module's (dest, prune, owner, group, mode, sync, contents). The one body for both
    ways the action plugin calls the target: as the module, or directly (direct.py).
    """
    sync, dest = params["sync"], params["dest"]
    try:
        mode = _fileops.parse_mode(params["mode"])
    except ValueError as exc:
        return {"failed": True, "msg": "mode: %s" % exc}
    owner, group = params["owner"], params["group"]
    try:
        if sync["phase"] == "plan":
            result = plan(
                dest,
                sync["wanted"],
                sync["manifest"],
                params["prune"],
                mode,
                owner,
                group,
                sync.get("want_old", False),
                reopen=sync.get("reopen", ()),
                ids_pending=sync.get("ids_pending", False),
            )
            return {"changed": result["changed"], "plan": result}
        if check_mode:
            return {"failed": True, "msg": "internal error: apply requested in check mode"}
        backups = apply(
            dest,
            params["contents"] or {},
            sync["fix_attrs"],
            sync["remove"],
            sync["foreign"],
            sync["manifest"],
            mode,
            owner,
            group,
            reopen=sync.get("reopen", ()),
        )
        return {"changed": True, "backups": backups}
    except SyncError as exc:
        return {"failed": True, "msg": "%s: %s" % (dest, exc)}
    except OSError as exc:
        return {"failed": True, "msg": "%s: %s" % (dest, exc)}
