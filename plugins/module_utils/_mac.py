# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""MAC addresses: parse any common notation, print the forms vendors use.

Private to this collection. netaddr does the parsing and holds the IEEE OUI
registry; it is a controller requirement (requirements.txt).
"""

from __future__ import annotations

import re

from ansible_collections.pbxops.autoprov.plugins.module_utils import _types

try:
    from netaddr import EUI, AddrFormatError, NotRegisteredError

    HAS_NETADDR = True
except ImportError:  # pragma: no cover - reported by the callers
    HAS_NETADDR = False

# The spellings users and vendors write; netaddr parses each of them.
FORMATS = {
    "bare": "001565aabbcc",
    "bare_upper": "001565AABBCC",
    "colon": "00:15:65:aa:bb:cc",
    "colon_upper": "00:15:65:AA:BB:CC",
    "dash": "00-15-65-aa-bb-cc",
    "dash_upper": "00-15-65-AA-BB-CC",
    "cisco": "0015.65aa.bbcc",
}

_HEX12 = re.compile(r"^[0-9a-f]{12}$")


class MacError(ValueError):
    """A value that is not a usable device MAC address; the text says why."""


def normalize(value) -> str:
    """Return the canonical form (12 lowercase hex digits) or raise MacError."""
    if not isinstance(value, str):
        raise MacError("must be a string such as 00:15:65:aa:bb:cc, not %s" % _types.type_name(value))
    text = value.strip()
    if not HAS_NETADDR:
        bare = re.sub(r"[^0-9a-fA-F]", "", text).lower()
        if not _HEX12.match(bare) or not re.match(r"^[0-9a-fA-F:.\-\s]+$", text):
            raise MacError("%r is not a MAC address" % value)
    else:
        try:
            bare = "%012x" % int(EUI(text, version=48))
        except (AddrFormatError, TypeError, ValueError):
            raise MacError(
                "%r is not a MAC address; write 12 hex digits, e.g. 00:15:65:aa:bb:cc, 00-15-65-AA-BB-CC, "
                "0015.65aa.bbcc or 001565aabbcc" % value
            ) from None
    if bare == "000000000000" or int(bare[:2], 16) & 1:
        raise MacError("%r is not a device address (all zero, or a multicast/broadcast address)" % value)
    return bare


def fmt(value, style: str = "bare") -> str:
    """Normalise then print in one of FORMATS."""
    bare = normalize(value)
    if style not in FORMATS:
        raise MacError("unknown MAC format %r; valid: %s" % (style, ", ".join(FORMATS)))
    upper = style.endswith("_upper")
    base = style[: -len("_upper")] if upper else style
    if base == "bare":
        out = bare
    elif base == "cisco":
        out = ".".join(bare[i : i + 4] for i in range(0, 12, 4))
    else:
        sep = ":" if base == "colon" else "-"
        out = sep.join(bare[i : i + 2] for i in range(0, 12, 2))
    return out.upper() if upper else out


def oui_organisation(value) -> str | None:
    """The organisation the IEEE registered the MAC's OUI to, if netaddr knows it."""
    if not HAS_NETADDR:
        return None
    try:
        return EUI(normalize(value)).oui.registration().org
    except (NotRegisteredError, IndexError, KeyError):
        return None
