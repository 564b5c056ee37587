# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write docs/catalog-sources.md from templates/<vendor>/reference.yml (scripts/gen-docs.sh runs this)."""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "catalog-sources.md"
TEMPLATES = ROOT / "templates"

INTRO = """# Where the catalog's facts come from

Generated from `templates/<vendor>/reference.yml` by `scripts/gen-docs.sh` (`make docs`);
a test fails when this page is stale. Each vendor's reference lists every setting its
templates write: the inventory field, the vendor's key, the value encoding, the models,
and the public sources that show it. Sources were read for facts only; no template text
was copied.

**Status.** *verified*: two independent sources (two projects, or a project and the
vendor's own guide) show the same key and encoding. *unverified*: one source. *our
model*: no public source shows it; the first suspect when a real device misbehaves.

**Tests.** `tests/unit/plugins/module_utils/_render/test_reference.py` renders the
fixture below through the templates for every model a row names, reads the file the
way the firmware does and asserts the row's value; another test fails when a template
writes a key that no row covers. The fixture: SIP server 192.0.2.20:5060 over UDP;
provisioning URL `http://192.0.2.10:8080/p/Tok3n/` with user `prov`, password
`Pr0v-s3cret`; NTP 192.0.2.30; time zone Europe/Berlin; language `de`; admin password
`Adm1n-s3cret`; resync every 720 minutes; VLAN 42; codecs G722, PCMA, PCMU; voicemail
`*97`; firmware `http://192.0.2.40/fw/<MODEL>.bin` version 1.2.3; MAC
00:00:5e:00:53:01; two lines (or the model's one): extension 10*n*, auth user a10*n*,
password `Line<n>-s3cret`, name `User <n>`, label `L<n>`; one BLF key (201, Anna).
A row's *given* changes the fixture for that row.

Common to every vendor: PnP (SUBSCRIBE to 224.0.1.75, NOTIFY body = URL) follows RFC
6080 and the vendors' PnP pages (docs/status-and-probe.md); time zones come from the
system's tz database (`_render/timezone.py`), and each vendor file turns them into the
vendor's form.
"""


def _status(reference, item):
    origins = {reference["sources"][s]["origin"] for s in item.get("sources") or ()}
    return "verified" if len(origins) >= 2 else "unverified" if origins else "**our model**"


def _cell(text):
    return str(text if text is not None else "").replace("|", "\\|").replace("\n", " ")


def _sources(item):
    return ", ".join(item.get("sources") or ()) or "-"


def vendor_section(vendor, reference):
    out = ["## %s" % vendor, "", "| source | origin | where |", "|---|---|---|"]
    out += ["| %s | %s | %s |" % (sid, _cell(s["origin"]), _cell(s["where"])) for sid, s in reference["sources"].items()]
    if reference.get("facts"):
        out += ["", "| fact | status | sources | note |", "|---|---|---|---|"]
        for fact in reference["facts"]:
            out.append("| %s | %s | %s | %s |" % (_cell(fact["fact"]), _status(reference, fact), _sources(fact), _cell(fact.get("note"))))
    out += ["", "| setting | key | file | encoding | models | status | sources | note |", "|---|---|---|---|---|---|---|---|"]
    for row in reference["settings"]:
        models = ", ".join(row.get("models") or ["all"])
        key = "`%s`%s" % (row["key"], " (not set)" if row.get("absent") else "")
        status = _status(reference, row)
        cells = (row["setting"], key, "`%s`" % row["file"], row.get("encoding"), models, status, _sources(row), row.get("note"))
        out.append("| %s |" % " | ".join(_cell(c) for c in cells))
    return "\n".join(out)


def references():
    return {p.parent.name: yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted(TEMPLATES.glob("*/reference.yml"))}


def render():
    sections = [INTRO.rstrip("\n")]
    for vendor, reference in references().items():
        sections.append(vendor_section(vendor, reference))
    missing = sorted(p.name for p in TEMPLATES.iterdir() if p.is_dir() and not (p / "reference.yml").exists())
    if missing:
        sections.append("## Not traced yet\n\n" + ", ".join(missing))
    return "\n\n".join(sections) + "\n"


def main(argv):
    text = render()
    if "--check" in argv:
        if OUTPUT.read_text(encoding="utf-8") != text:
            print("%s is stale; run scripts/gen-docs.sh (make docs)" % OUTPUT.relative_to(ROOT), file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
