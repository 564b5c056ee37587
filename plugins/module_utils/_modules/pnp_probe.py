# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""pbxops.autoprov.pnp_probe: argument spec and body (the module file holds the documentation)."""

from __future__ import annotations

import traceback

from ansible_collections.pbxops.autoprov.plugins.module_utils import _mac, _urls
from ansible_collections.pbxops.autoprov.plugins.module_utils._catalog import catalog as _catalog
from ansible_collections.pbxops.autoprov.plugins.module_utils._sip import probe as pnp

ARGUMENT_SPEC = dict(
    vendor=dict(type="str", required=True, choices=pnp.vendors()),
    mac=dict(type="str", required=True),
    model=dict(type="str"),
    firmware=dict(type="str"),
    target=dict(type="str", default="%s:%d" % (pnp.PNP_GROUP, pnp.SIP_PORT)),
    interface=dict(type="str"),
    source=dict(type="str"),
    source_port=dict(type="int", default=0),
    timeout=dict(type="float", default=5.0),
    require_answer=dict(type="bool", default=True),
    fetch=dict(type="bool", default=False),
    files=dict(type="list", elements="str"),
    username=dict(type="str"),
    password=dict(type="str", no_log=True),
    validate_certs=dict(type="bool", default=True),
)
MUTUALLY_EXCLUSIVE = [("interface", "source")]


def default_files(vendor, model_name, mac):
    """The files the catalog says a device of this vendor and model fetches (none if the catalog lacks them)."""
    models = _catalog.find_models(model_name, vendor) if vendor in _catalog.VENDORS else []
    if not models:
        return []
    return [_catalog.file_name(f["name"], models[0], mac) for f in _catalog.VENDORS[vendor].files]


def run(module):
    """The module's body: SUBSCRIBE as the vendor's phone does, report the URL, optionally fetch the files."""
    p = module.params
    vendor = p["vendor"]
    try:
        mac = _mac.normalize(p["mac"])
    except _mac.MacError as exc:
        module.fail_json(msg="mac: %s" % exc)
    model = pnp.announced_model(vendor, p["model"]) if p["model"] else pnp.profile(vendor)["model"]
    firmware = p["firmware"] or pnp.profile(vendor)["firmware"]
    agent = pnp.user_agent(vendor, "http", mac, model, firmware)
    try:
        source = pnp.interface_address(p["interface"]) if p["interface"] else p["source"]
        result = pnp.probe(vendor, mac, model, firmware, p["target"], source, p["source_port"], p["timeout"])
    except pnp.ProbeError as exc:
        module.fail_json(msg="%s (device %s, vendor %s): %s" % (p["target"], mac, vendor, exc))
    except OSError as exc:
        module.fail_json(msg="%s: %s" % (p["target"], exc), exception=traceback.format_exc())
    # Credentials in the NOTIFY's URL (vendors that take them there) are used, never shown.
    bare_url, url_user, url_password = _urls.split_credentials(result["url"])
    if url_user is not None:
        result["url"] = bare_url.replace("://", "://%s%s@" % (url_user, ":***" if url_password else ""), 1)
    result.update(answered=bool(result["url"]), url_has_credentials=url_user is not None, user_agent=agent, fetched=[], changed=False)

    if not result["answered"]:
        if p["require_answer"]:
            module.fail_json(msg=_no_answer(p["target"], mac, vendor, result), **result)
        module.exit_json(**result)
    if p["fetch"]:
        names = p["files"] or default_files(vendor, model, mac)
        urls = pnp.file_urls(bare_url, names)
        if not urls:
            module.fail_json(
                msg="%s: the catalog lists no files for %s model %r; name them with files" % (mac, vendor, model),
                **result,
            )
        username, password = (p["username"], p["password"]) if p["username"] is not None else (url_user, url_password)
        result["fetched"] = pnp.fetch(urls, agent, username, password, p["validate_certs"], p["timeout"])
    module.exit_json(**result)


def _no_answer(target, mac, vendor, result):
    if result["subscribe_status"] is None:
        return (
            "%s: no answer to the %s SUBSCRIBE of device %s within the timeout. Is the responder running and listening "
            "there, and is %s a device of its manifest (unknown MACs are recorded, not answered)?" % (target, vendor, mac, mac)
        )
    if result["subscribe_status"] >= 300:
        return "%s: the SUBSCRIBE of device %s was refused with SIP status %d" % (target, mac, result["subscribe_status"])
    return "%s: the SUBSCRIBE of device %s got %d but no NOTIFY came to %s within the timeout" % (
        target,
        mac,
        result["subscribe_status"],
        result["source"],
    )
