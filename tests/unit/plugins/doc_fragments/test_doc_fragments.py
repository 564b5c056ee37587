"""Doc fragments and the argument specs they document stay paired."""

from __future__ import annotations

import re

import yaml

from ansible_collections.pbxops.autoprov.plugins.doc_fragments import attributes, catalog, responder_state
from ansible_collections.pbxops.autoprov.plugins.module_utils import _responder_state
from ansible_collections.pbxops.autoprov.plugins.module_utils._catalog import catalog as _catalog
from ansible_collections.pbxops.autoprov.plugins.module_utils._modules import pnp_probe
from ansible_collections.pbxops.autoprov.plugins.module_utils._rps.clients import CLIENTS
from ansible_collections.pbxops.autoprov.plugins.modules import rps_devices


def test_responder_state_fragment_documents_exactly_the_argument_spec():
    documented = yaml.safe_load(responder_state.ModuleDocFragment.DOCUMENTATION)["options"]
    spec = _responder_state.argument_spec()
    assert set(documented) == set(spec)
    for name, option in spec.items():
        assert documented[name]["type"] == option["type"], name
        assert documented[name].get("default") == option.get("default"), name


def test_attribute_fragments_parse_and_name_only_attributes():
    for text in (attributes.ModuleDocFragment.DOCUMENTATION, attributes.ModuleDocFragment.READ_ONLY):
        doc = yaml.safe_load(text)
        assert list(doc) == ["attributes"]
        assert all("support" in value for value in doc["attributes"].values())


def test_catalog_fragment_lists_the_vendors_pnp_probe_accepts():
    documented = yaml.safe_load(catalog.ModuleDocFragment.VENDOR)["options"]["vendor"]["choices"]
    assert documented == sorted(_catalog.VENDORS) == pnp_probe.ARGUMENT_SPEC["vendor"]["choices"]


def test_rps_devices_documents_every_rps_client_and_no_other():
    """The vendor option's prose names the clients; adding a client file without naming it here fails."""
    first = yaml.safe_load(rps_devices.DOCUMENTATION)["options"]["vendor"]["description"][0]
    assert set(re.findall(r"V\((\w+)\)", first)) == set(CLIENTS)
