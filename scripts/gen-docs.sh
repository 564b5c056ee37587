#!/usr/bin/env bash
# Regenerates what is written from the vendor files (make docs): the catalog and RPS
# registries (scripts/gen_registry.py), docs/supported-devices.md and docs/catalog-sources.md
# (from templates/<vendor>/reference.yml).
# --check: exit 1 when a committed file is stale instead of writing it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
ensure_venv
ensure_collection
python "$ROOT/scripts/gen_registry.py" "$@"
python "$ROOT/scripts/gen_supported_devices.py" "$@"
python "$ROOT/scripts/gen_catalog_sources.py" "$@"
