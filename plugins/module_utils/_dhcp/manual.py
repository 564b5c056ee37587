# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""backend none: the options a DHCP server we do not manage (the customer's router) must hand out, for a person to set.

The values are the ones dhcp_scope would write (build_scope computed and checked
them); nothing is sent anywhere. The HTTP password is never printed: option 66
shows ******** in its place and says where the real value comes from.
"""

from __future__ import annotations

from urllib.parse import quote

from ansible_collections.pbxops.autoprov.plugins.module_utils import _urls

MASK = "********"


def _shown(option, provisioning_url, username, password):
    """(value as the person types it, hex or None) of one computed option."""
    if option["code"] == 66 and option["vendor_class"] is None and option["value"] == provisioning_url and username:
        # The router needs the URL with user and password; we show the place of the password.
        shown = _urls.with_credentials(option["value"], username, MASK if password else None)
        return shown.replace(quote(MASK, safe=""), MASK), None
    value = option["value"]
    return (", ".join(value) if isinstance(value, list) else value), option["hex"]


def instructions(scope, provisioning_url, username, password):
    """({code, name, type, value, hex, vendor_class} per option, text for the person) for the scope's options."""
    entries, lines = [], []
    for option in scope["options"]:
        value, data = _shown(option, provisioning_url, username, password)
        entry = dict(
            code=option["code"], name=option["name"], type=option["type"], value=value, hex=data, vendor_class=option["vendor_class"]
        )
        entries.append(entry)
        who = " (only for vendor class %r)" % option["vendor_class"] if option["vendor_class"] else ""
        line = "option %d%s%s: %s" % (option["code"], " (%s)" % option["name"] if option["name"] else "", who, value)
        lines.append(line + (" [hex %s]" % data if data and option["type"] != "string" else ""))
    verb = "Set these options on" if scope["state"] == "present" else "Remove these options from"
    text = "%s the DHCP server of subnet %s by hand (backend none: nothing was changed):\n- %s" % (
        verb,
        scope["subnet"],
        "\n- ".join(lines) if lines else "(no options)",
    )
    if any(MASK in str(e["value"]) for e in entries):
        text += "\n%s stands for the HTTP password (autoprov_http_password, e.g. ansible-vault view on the file that holds it)" % MASK
    return entries, text
