from __future__ import annotations

from ansible_collections.pbxops.autoprov.plugins.module_utils._render import moves


class BrokenVars(dict):
    def get(self, key, default=None):
        raise RuntimeError("an undefined variable of that host")


HOSTVARS = {
    "old": {"autoprov_devices": [{"mac": "00:15:65:00:00:01"}]},
    "broken": BrokenVars(),
    "new": {
        "autoprov_devices": [{"mac": "not a mac"}, {"mac": "00-15-65-00-00-02"}],
        moves.SETTINGS_VAR: {"sip_server": "x", "vlan": None, "dest": "/x"},
    },
    "other": {"autoprov_devices": "not a list"},
}


def test_owners_finds_each_mac_at_the_host_that_lists_it_now_and_skips_broken_hosts():
    found = moves.owners({"001565000002": {}, "001565000001": {}, "001565000009": {}}, HOSTVARS, list(HOSTVARS), "old")
    assert found == {"001565000002": ("new", {"mac": "00-15-65-00-00-02"})}  # never this PBX itself, nor an unlisted MAC


def test_settings_of_a_host_outside_the_run_is_none_and_only_render_options_pass():
    assert moves.settings_of(HOSTVARS, "old") is None and moves.settings_of(HOSTVARS, "broken") is None
    assert moves.settings_of(HOSTVARS, "missing") is None
    assert moves.settings_of(HOSTVARS, "new") == {"sip_server": "x"}  # no dest (the writer's), no unset vlan


def test_render_options_are_the_role_settings_and_device_configs_options():
    from pathlib import Path

    import jinja2
    import yaml
    from jinja2 import nodes

    from ansible_collections.pbxops.autoprov.plugins.module_utils._render.spec import ARGUMENT_SPEC

    role_vars = yaml.safe_load((Path(__file__).parents[5] / "roles" / "provision" / "vars" / "main.yml").read_text())
    # One template of a dict literal (set_fact templates it once): its keys.
    (literal,) = jinja2.Environment().parse(role_vars["autoprov__render"]).find_all(nodes.Dict)
    assert sorted(pair.key.value for pair in literal.items) == sorted(moves.RENDER_OPTIONS)
    assert set(moves.RENDER_OPTIONS) <= set(ARGUMENT_SPEC)
