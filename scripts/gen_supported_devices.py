# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write docs/supported-devices.md from the device catalog (scripts/gen-docs.sh runs this)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "supported-devices.md"
KINDS = {"phone": "desk phone", "dect": "DECT base", "ata": "ATA (FXS ports)", "fxs": "FXS gateway"}


def _catalog():
    sys.path.insert(0, str(ROOT / ".ansible" / "collections"))
    from ansible_collections.pbxops.autoprov.plugins.module_utils._catalog import catalog as _catalog

    return _catalog


EXAMPLE_MAC = "00aabbccddee"


def _file_names(catalog, vendor, model):
    return ", ".join("`%s`" % catalog.file_name(spec["name"], model, EXAMPLE_MAC) for spec in vendor.files)


def _file_spec(spec):
    role = " (passwords: served to its own device only)" if spec.get("secret") else " (model-wide)" if spec["scope"] == "shared" else ""
    return "`%s`%s" % (spec["name"], role)


def _vendor_section(catalog, vendor):
    example = catalog.models_of(vendor.key)[0]
    out = [
        "## %s" % vendor.name,
        "",
        "- Methods: %s%s" % (", ".join(vendor.methods), "" if "dhcp" in vendor.methods else " (not DHCP)"),
        "- RPS client: %s" % (vendor.rps or "none"),
        "- Files: %s; for a %s with MAC %s: %s"
        % (", ".join(_file_spec(spec) for spec in vendor.files), example.name, EXAMPLE_MAC, _file_names(catalog, vendor, example)),
        "- PnP vendor names: %s; NOTIFY body: `%s`" % (", ".join(vendor.pnp_names) or "no PnP", vendor.pnp_url),
        "- User-Agent pattern: `%s`" % (vendor.user_agent.pattern if vendor.user_agent else "none"),
        "- Programmable key types: %s" % (", ".join(vendor.key_types) or "none"),
        "- Languages: %s" % (", ".join("%s=%s" % item for item in sorted(vendor.languages.items())) or "none written"),
        "",
        "| Model | Kind | Lines | Keys | Methods | Model-wide file | Also matches | Notes |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for model in catalog.models_of(vendor.key):
        shared = [catalog.file_name(s["name"], model) for s in vendor.files if s["scope"] == "shared"]
        out.append(
            "| %s | %s | %d | %d | %s | %s | %s | %s |"
            % (
                model.name,
                KINDS[model.kind],
                model.lines,
                model.keys,
                ", ".join(model.methods),
                ", ".join("`%s`" % name for name in shared) or "-",
                ", ".join(model.aliases) or "-",
                model.note or "",
            )
        )
    return out + [""]


def render():
    catalog = _catalog()
    lines = [
        "# Supported devices",
        "",
        "Generated from the catalog (`plugins/module_utils/_catalog/vendors/`) by `scripts/gen-docs.sh` (`make docs`);",
        "do not edit by hand. Where the facts come from: [catalog-sources.md](catalog-sources.md).",
        "",
        "Model names are matched as printed on the device, ignoring case, spaces, dashes and prefixes",
        "such as `SIP-`, `CP-` or the vendor's name (`SIP-T46S`, `t46s`, `Yealink T46S` are one model).",
        "*Lines* are the SIP accounts (FXS ports for ATAs and gateways) the templates provision,",
        "*keys* the programmable keys. `<mac>` is 12 lowercase hex digits, `<MAC>` uppercase.",
        "",
        "| Vendor | Models | Methods | RPS |",
        "|---|---|---|---|",
    ]
    for vendor in catalog.VENDORS.values():
        lines.append(
            "| %s | %d | %s | %s |" % (vendor.name, len(catalog.models_of(vendor.key)), ", ".join(vendor.methods), vendor.rps or "-")
        )
    lines.append("")
    for vendor in catalog.VENDORS.values():
        lines.extend(_vendor_section(catalog, vendor))
    return "\n".join(lines).rstrip("\n") + "\n"


def main(argv):
    text = render()
    if "--check" in argv:
        if not OUTPUT.exists() or OUTPUT.read_text(encoding="utf-8") != text:
            print("%s is stale: run scripts/gen-docs.sh (make docs)" % OUTPUT.relative_to(ROOT), file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    print("wrote %s" % OUTPUT.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
