"""Files generated from the vendor files (scripts/gen-docs.sh, `make docs`): these fail when a committed one is stale."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def load_generator():
    spec = importlib.util.spec_from_file_location("gen_supported_devices", ROOT / "scripts" / "gen_supported_devices.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_table_matches_the_catalog():
    generator = load_generator()
    committed = (ROOT / "docs" / "supported-devices.md").read_text(encoding="utf-8")
    assert committed == generator.render(), "docs/supported-devices.md is stale: run scripts/gen-docs.sh (make docs)"


def test_table_lists_every_model():
    from ansible_collections.pbxops.autoprov.plugins.module_utils._catalog import catalog as _catalog

    text = load_generator().render()
    for model in _catalog.MODELS:
        assert "\n| %s | " % model.name in text


def test_registries_list_every_vendor_file():
    spec = importlib.util.spec_from_file_location("gen_registry", ROOT / "scripts" / "gen_registry.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for path, render in module.OUTPUTS.items():
        assert path.read_text(encoding="utf-8") == render(), "%s is stale: run scripts/gen-docs.sh (make docs)" % path.relative_to(ROOT)


def test_catalog_sources_page_matches_the_references():
    spec = importlib.util.spec_from_file_location("gen_catalog_sources", ROOT / "scripts" / "gen_catalog_sources.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    committed = (ROOT / "docs" / "catalog-sources.md").read_text(encoding="utf-8")
    assert committed == module.render(), "docs/catalog-sources.md is stale: run scripts/gen-docs.sh (make docs)"


def test_every_catalog_vendor_has_a_reference_for_its_keys():
    from ansible_collections.pbxops.autoprov.plugins.module_utils._catalog import catalog as _catalog

    missing = sorted(key for key in _catalog.VENDORS if not (ROOT / "templates" / key / "reference.yml").is_file())
    assert not missing, "vendors without templates/<vendor>/reference.yml (every key they write is untraced): %s" % missing
