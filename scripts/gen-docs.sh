#!/usr/bin/env bash
# Regenerates docs/supported-devices.md from the device catalog (make docs).
# --check: exit 1 when the committed file is stale instead of writing it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
ensure_venv
ensure_collection
python "$ROOT/scripts/gen_supported_devices.py" "$@"
