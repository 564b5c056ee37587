#!/usr/bin/env bash
# `make ee-test` (root): builds the execution environment of docs/ee with
# ansible-builder and podman on this machine, then runs the site playbook inside
# that image through ansible-runner, as AWX runs a job: PBX hosts reached over SSH
# in network namespaces, Vault, job slicing. scripts/ee_test.py does the work and
# says what it checks; this script installs what it needs first.
#   scripts/ee-test.sh [--rebuild] [--hosts 3] [--slices 2]
set -euo pipefail
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" -ne 0 ]; then
    echo "scripts/ee-test.sh needs root (podman, network namespaces, debootstrap, sshd)" >&2
    exit 1
fi

# podman 4.3 runs containers here with runc only (crun fails: ../shared/TESTBED.md,
# "Containers"); debootstrap makes the base image; the PBX hosts are sshd processes of
# this machine in namespaces of their own; curl is the phone.
"$ROOT/scripts/system-deps.sh" podman runc debootstrap openssh-server openssh-client curl iproute2

ensure_venv test
ensure_collection
exec "$VENV/bin/python" "$ROOT/scripts/ee_test.py" "$@"
