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
wanted=(podman runc debootstrap openssh-server openssh-client curl iproute2)
missing=()
for p in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    say "Installing Debian packages: ${missing[*]}"
    created_policy=
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        # Installed daemons (sshd) must not start: the test starts its own, inside namespaces.
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        created_policy=1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || apt-get update
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    [ -z "$created_policy" ] || rm -f /usr/sbin/policy-rc.d
fi

ensure_venv test
ensure_collection
exec "$VENV/bin/python" "$ROOT/scripts/ee_test.py" "$@"
