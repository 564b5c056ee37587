"""Every setting we write lands on the key and in the encoding its public references give (templates/<vendor>/reference.yml).

The rows are the facts, traced to sources; these tests render the fixture of
reference.py through the real templates and read the files as the firmware does.
"""

from __future__ import annotations

import pytest
import reference as ref

from ansible_collections.pbxops.autoprov.plugins.module_utils._catalog import catalog

REFERENCES = ref.references()


def _cases():
    for vendor, reference in sorted(REFERENCES.items()):
        for number, row in enumerate(reference.get("settings") or []):
            for model in ref.models_of(vendor, row.get("models")):
                yield pytest.param(vendor, number, model.name, id="%s-%d-%s-%s" % (vendor, number, row.get("key"), model.name))


@pytest.mark.parametrize("vendor, number, model_name", list(_cases()))
def test_setting_lands_on_its_key(vendor, number, model_name):
    reference = REFERENCES[vendor]
    row = reference["settings"][number]
    model = catalog.find_models(model_name, vendor)[0]
    files = ref.render(vendor, model, row.get("given"))
    name = ref.file_name(row["file"], model)
    assert name in files, "%s %s writes no %s (it writes %s)" % (vendor, model.name, name, sorted(files))
    found = ref.read(reference["format"], files[name], row["key"])
    if row.get("absent"):
        assert found is None, "%s: %s must not be set, found %r" % (name, row["key"], found)
    else:
        assert found == ref.expected(row["value"], model), "%s %s: %s (%s)" % (vendor, model.name, row["key"], row["setting"])


@pytest.mark.parametrize("vendor", sorted(REFERENCES))
def test_reference_is_well_formed(vendor):
    reference = REFERENCES[vendor]
    assert reference["vendor"] == vendor and reference["format"] in ref.FORMATS
    for source_id, source in reference["sources"].items():
        assert set(source) == {"origin", "where"}, source_id
    rows = reference.get("settings") or []
    assert rows, "a reference without settings"
    for number, row in enumerate(rows):
        where = "%s settings[%d]" % (vendor, number)
        assert set(row) <= set(ref.ROW_FIELDS), "%s: unknown fields %s" % (where, sorted(set(row) - set(ref.ROW_FIELDS)))
        assert row.get("setting") and row.get("key") and row.get("file"), where
        assert row.get("feature") in ref.FEATURES, "%s: feature %r; valid: %s" % (where, row.get("feature"), ", ".join(ref.FEATURES))
        assert ("value" in row) != bool(row.get("absent")), "%s: value or absent: true" % where
        assert set(row.get("sources") or ()) <= set(reference["sources"]), "%s: unknown source ids" % where
        assert ref.models_of(vendor, row.get("models")), "%s: models %r match no catalog model" % (where, row.get("models"))
    for number, fact in enumerate(reference.get("facts") or []):
        assert set(fact) <= {"fact", "sources", "note"} and fact.get("fact"), "%s facts[%d]" % (vendor, number)
        assert set(fact.get("sources") or ()) <= set(reference["sources"]), "%s facts[%d]: unknown source ids" % (vendor, number)


@pytest.mark.parametrize("vendor", sorted(REFERENCES))
def test_every_key_we_write_has_a_reference_row(vendor):
    """What the templates write for the fixture (and for each row's given) is all accounted for by some row."""
    reference = REFERENCES[vendor]
    patterns = [p for row in reference["settings"] for p in ref.covers(row)]
    givens = [None] + [row.get("given") for row in reference["settings"] if row.get("given")]
    unknown = set()
    for model in catalog.models_of(vendor):
        for given in givens:
            try:
                files = ref.render(vendor, model, given)
            except AssertionError:
                continue  # a given that does not fit this model (more lines than it has)
            for content in files.values():
                for key in ref.emitted_keys(reference["format"], content):
                    if not any(p.match(key) for p in patterns):
                        unknown.add(key)
    assert not unknown, "%s writes keys no reference row covers: %s" % (vendor, ", ".join(sorted(unknown)))
