#!/usr/bin/env bash
# `make demo`: set everything up, then show the whole path on the embedded demo
# inventory (the PBX is this machine; no root; nothing leaves it):
#   site playbook -> responder running on loopback -> a demo phone boots (PnP,
#   unicast on loopback) -> it fetches its files -> the status playbook shows it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
ensure_venv
ensure_collection

cd "$ROOT"
inventory=inventories/demo
out="$ROOT/demo-out"
mkdir -p "$out"
run() {
    say "ansible-playbook -i $inventory $*"
    ansible-playbook -i "$inventory" --vault-password-file "$inventory/vault-password.txt" "$@"
}
run pbxops.autoprov.site | tee "$out/site.log"
run pbxops.autoprov.probe -e autoprov_probe_target=127.0.0.1:15060 | tee "$out/probe.log"
run pbxops.autoprov.status | tee "$out/status.log"

say "What was done"
configs="$out/configs"
python3 - "$configs" <<'PY'
import json, os, sys
root = sys.argv[1]
manifest = json.load(open(os.path.join(root, ".autoprov-manifest.json")))
print("Device configurations are in %s:" % root)
for mac, device in sorted(manifest["devices"].items()):
    print("  %-12s %-11s %-8s ext %-8s %s" % (
        mac, device["vendor"], device["model"], ",".join(device["extensions"]), ", ".join(device["files"])))
print("  shared: %s" % ", ".join(sorted(n for n, f in manifest["files"].items() if not f["mac"])))
PY
cat <<TXT
The responder (PnP on 127.0.0.1:15060, config host on http://127.0.0.1:18080/) is running
as a background process: pid file $out/responder/state/responder.pid, log
$out/responder/state/responder.log. A demo phone booted against it (probe above) and
fetched its files; the status table above shows it provisioned.
Try another phone:  ansible-playbook -i $inventory --vault-password-file $inventory/vault-password.txt \\
                      pbxops.autoprov.probe -e autoprov_probe_target=127.0.0.1:15060 -e autoprov_probe_mac=0c:38:3e:07:e1:6c
Stop the responder: make demo-stop
TXT
