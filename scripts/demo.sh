#!/usr/bin/env bash
# `make demo`: set everything up, then run the site playbook against the
# embedded demo inventory (the PBX is this machine; no root; nothing leaves it).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
ensure_venv
ensure_collection

cd "$ROOT"
inventory=inventories/demo
out="$ROOT/demo-out"
mkdir -p "$out"
say "ansible-playbook -i $inventory pbxops.autoprov.site"
ansible-playbook -i "$inventory" --vault-password-file "$inventory/vault-password.txt" pbxops.autoprov.site | tee "$out/site.log"

say "What was done"
configs="$out/configs"
echo "Device configurations: $configs"
python3 - "$configs" <<'PY'
import json, os, sys
root = sys.argv[1]
manifest = json.load(open(os.path.join(root, ".autoprov-manifest.json")))
for mac, device in sorted(manifest["devices"].items()):
    print("  %-12s %-9s %-8s extensions %-10s files: %s" % (
        mac, device["vendor"], device["model"], ",".join(device["extensions"]), ", ".join(device["files"])))
shared = sorted(n for n, f in manifest["files"].items() if not f["mac"])
print("  shared files: %s" % ", ".join(shared))
print("Provisioning URL the phones are given: %s" % manifest["provisioning_url"])
PY
