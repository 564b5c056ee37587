#!/usr/bin/env bash
# scripts/system-deps.sh [PACKAGE...]: installs the Debian packages named (by default those
# listed in tests/system-packages.txt) that are missing. Needs root (CI runs as root); daemons
# are kept from starting: the tests start their own copies inside network namespaces.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

if [ $# -gt 0 ]; then
    wanted=("$@")
else
    mapfile -t wanted < <(grep -v '^\s*#' "$ROOT/tests/system-packages.txt" | awk 'NF{print $1}')
fi
missing=()
for p in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "Missing Debian packages: ${missing[*]}" >&2
    echo "Install them as root (apt-get install ${missing[*]}) or run 'make test' as root." >&2
    exit 1
fi
say "Installing Debian packages: ${missing[*]}"
created_policy=
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    created_policy=1
fi
trap '[ -n "$created_policy" ] && rm -f /usr/sbin/policy-rc.d' EXIT
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq || apt-get update
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
