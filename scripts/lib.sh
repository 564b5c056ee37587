# Shared by the scripts in this directory: paths and the two setup steps.
# shellcheck shell=bash
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV="$ROOT/.venv"
COLLECTIONS="$ROOT/.ansible/collections"
export ANSIBLE_CONFIG="$ROOT/ansible.cfg"
export ANSIBLE_COLLECTIONS_PATH="$COLLECTIONS"
export PATH="$VENV/bin:$PATH"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# ensure_venv [test]: the project's virtual environment with the controller
# requirements (and the test requirements when asked); reinstalls only when a
# requirements file changed.
ensure_venv() {
    local want="$ROOT/requirements.txt" stamp="$VENV/.stamp-controller"
    if [ "${1:-}" = test ]; then
        want="$want $ROOT/tests/requirements.txt"
        stamp="$VENV/.stamp-test"
    fi
    local sum
    # shellcheck disable=SC2086
    sum=$(cat $want | sha256sum | cut -c1-16)
    if [ -x "$VENV/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$sum" ]; then
        return
    fi
    say "Setting up $VENV"
    [ -x "$VENV/bin/python" ] || "${PYTHON:-python3}" -m venv "$VENV"
    local reqs=()
    for f in $want; do reqs+=(-r "$f"); done
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${reqs[@]}" 2>&1 | { grep -v "is ignored: it is neither" >&2 || true; }
    [ "${PIPESTATUS[0]}" -eq 0 ] || return 1
    echo "$sum" >"$stamp"
}

# ensure_collection: this checkout, visible to Ansible as pbxops.autoprov.
ensure_collection() {
    local link="$COLLECTIONS/ansible_collections/pbxops/autoprov"
    mkdir -p "$(dirname "$link")"
    [ -L "$link" ] && [ "$(readlink "$link")" = "$ROOT" ] && return
    rm -rf "$link"
    ln -s "$ROOT" "$link"
}
