#!/usr/bin/env bash
# ansible-test, offline: scripts/ansible-test.sh sanity|integration [ansible-test options]
#
# ansible-test wants the collection under .../ansible_collections/pbxops/autoprov
# and bootstraps pip into the virtual environments it makes with get-pip.py
# downloaded from ci-files.testing.ansible.com, which our machines cannot reach.
# So we copy the files git knows into such a tree under .cache/, give
# ansible-test a home of its own there (its venvs are cached between runs) and
# put scripts/get-pip-offline.py where ansible-test looks for its cached
# get-pip.py. The packages themselves come from the package index as usual.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
ensure_venv test

work="$ROOT/.cache/sanity"
tree="$work/ansible_collections/pbxops/autoprov"
rm -rf "$work/ansible_collections"
mkdir -p "$tree"
(cd "$ROOT" && git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$tree")
git -C "$tree" init -q
git -C "$tree" add -A

export HOME="$work/home"
pip_version=$(python -c 'from ansible_test._internal.python_requirements import get_venv_packages as g; print(g(type("P",(),{"version":"3.11"})())["pip"])' 2>/dev/null || echo 24.2)
mkdir -p "$HOME/.ansible/test/cache"
cp "$ROOT/scripts/get-pip-offline.py" "$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"

cd "$tree"
command=$1
shift
say "ansible-test $command (python 3.11)"
case "$command" in
sanity) ansible-test sanity --python 3.11 --color no "$@" ;;
# Integration targets run on this controller with the project's venv (netaddr
# and the rest are there), so ansible-test needs no environment of its own.
integration) ansible-test integration --python-interpreter "$VENV/bin/python" --color no "$@" ;;
*) ansible-test "$command" "$@" ;;
esac
