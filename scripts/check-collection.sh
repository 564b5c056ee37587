#!/usr/bin/env bash
# The collection conventions (scripts/test.sh conventions): changelog fragments and plugin
# docs lint clean, `ansible-galaxy collection build` packs only files git tracks (no
# rendered configs, secrets or caches from a demo or test run), and the built tarball,
# installed into an empty path, is usable from another directory: every playbook of the
# collection passes --syntax-check by its FQCN.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
ensure_venv test

say "antsibull-changelog lint"
(cd "$ROOT" && antsibull-changelog lint)
say "antsibull-docs lint-collection-docs --plugin-docs"
(cd "$ROOT" && antsibull-docs lint-collection-docs --plugin-docs .)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
say "ansible-galaxy collection build"
(cd "$ROOT" && ansible-galaxy collection build --force --output-path "$work" >/dev/null)
tarball=$(ls "$work"/pbxops-autoprov-*.tar.gz)
# Members of the tarball that are files, without the metadata galaxy writes itself.
tar -tzf "$tarball" | grep -v '/$' | grep -vx 'MANIFEST.json\|FILES.json' | sort >"$work/packed"
(cd "$ROOT" && git ls-files | sort) >"$work/tracked"
extra=$(comm -23 "$work/packed" "$work/tracked")
if [ -n "$extra" ]; then
    echo "the built collection holds files git does not track (add them to build_ignore in galaxy.yml):" >&2
    while read -r name; do echo "  $name"; done <<<"$extra" >&2
    exit 1
fi
echo "$(wc -l <"$work/packed") files packed, all tracked by git"

say "install the tarball into an empty path and syntax-check the playbooks from there"
ANSIBLE_COLLECTIONS_PATH="$work/collections" ansible-galaxy collection install --offline -p "$work/collections" "$tarball" >/dev/null
mkdir -p "$work/site"
printf 'pbx1 ansible_connection=local\n' >"$work/site/hosts"
printf '[defaults]\n' >"$work/site/ansible.cfg"
for playbook in "$ROOT"/playbooks/*.yml; do
    name=$(basename "$playbook" .yml)
    (cd "$work/site" && ANSIBLE_CONFIG="$work/site/ansible.cfg" ANSIBLE_COLLECTIONS_PATH="$work/collections" \
        ansible-playbook -i hosts --syntax-check "pbxops.autoprov.$name" >/dev/null)
    echo "pbxops.autoprov.$name: syntax ok"
done
