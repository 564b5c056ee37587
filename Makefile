# The README's two promises: `make demo` and `make test` on a fresh machine.
SHELL := /bin/bash
.PHONY: demo demo-stop test setup lint conventions sanity units integration ee-test docs bench-render clean

demo:
	scripts/demo.sh

# Stops the demo's responder (the site playbook with the responder stopped).
demo-stop:
	. scripts/lib.sh && ansible-playbook -i inventories/demo --vault-password-file inventories/demo/vault-password.txt \
	  pbxops.autoprov.site -e autoprov_responder_state=stopped

test:
	scripts/test.sh

setup:
	scripts/test.sh setup

lint conventions sanity units integration:
	scripts/test.sh $@

# Builds docs/ee/execution-environment.yml with ansible-builder and podman and runs the site
# playbook inside the image through ansible-runner, as AWX does (root; docs/ee/README.md).
ee-test:
	scripts/ee-test.sh

# Regenerates docs/supported-devices.md from the catalog.
docs:
	scripts/gen-docs.sh

bench-render:
	bench/render

clean: demo-stop
	rm -rf .venv .ansible .cache demo-out tests/output
