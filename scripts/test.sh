#!/usr/bin/env bash
# Sets up and runs every test: `make test` (and CI's .ci/run) call this.
# Phases run in order; pick some with: scripts/test.sh lint units ...
set -euo pipefail
. "$(dirname "$0")/lib.sh"

phases=("$@")
[ ${#phases[@]} -gt 0 ] || phases=(setup lint conventions sanity units integration ee)

for phase in "${phases[@]}"; do
    case "$phase" in
    setup)
        "$ROOT/scripts/system-deps.sh"
        ensure_venv test
        ensure_collection
        ;;
    lint)
        ensure_venv test; ensure_collection
        say "ruff"
        (cd "$ROOT" && ruff check . && ruff format --check .)
        say "ansible-lint --profile production"
        (cd "$ROOT" && ansible-lint --profile production --offline)
        ;;
    conventions)
        "$ROOT/scripts/check-collection.sh"
        ;;
    sanity)
        "$ROOT/scripts/ansible-test.sh" sanity
        ;;
    units)
        ensure_venv test; ensure_collection
        say "unit tests"
        (cd "$ROOT" && python -m pytest -q -n 2 tests/unit)
        ;;
    integration)
        ensure_venv test; ensure_collection
        "$ROOT/scripts/ansible-test.sh" integration
        say "integration tests (real servers, network namespaces)"
        (cd "$ROOT" && python -m pytest -q -p no:cacheprovider tests/integration)
        ;;
    ee)
        # The execution environment built from docs/ee and used through ansible-runner (root).
        "$ROOT/scripts/ee-test.sh"
        ;;
    *)
        echo "unknown phase: $phase (setup lint conventions sanity units integration ee)" >&2
        exit 2
        ;;
    esac
done
say "all requested phases passed: ${phases[*]}"
