# The README's two promises: `make demo` and `make test` on a fresh machine.
.PHONY: demo test setup lint sanity units integration docs bench-render clean

demo:
	scripts/demo.sh

test:
	scripts/test.sh

setup:
	scripts/test.sh setup

lint sanity units integration:
	scripts/test.sh $@

# Regenerates docs/supported-devices.md from the catalog.
docs:
	scripts/gen-docs.sh

bench-render:
	bench/render

clean:
	rm -rf .venv .ansible .cache demo-out tests/output
