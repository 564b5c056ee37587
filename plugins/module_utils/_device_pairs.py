# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A device's own HTTP pair (its files, its PnP NOTIFY, its RPS record), derived from the PBX's device key.

The user name is the MAC (12 lowercase hex digits), the password the first 24 hex digits of
HMAC-SHA256(key, label + MAC): docs/responder.md, `auth.device_key`. The key is
autoprov_http_device_key, or else derived from the PBX-wide password (`auth.derive_device_key`).
The responder derives the same on the PBX to check it and keeps its own copy of these lines (it
runs on the standard library alone, apart from the collection);
tests/unit/plugins/module_utils/_render/test_device_pairs.py holds both to the same answers.
"""

from __future__ import annotations

import hashlib
import hmac

KEY_MIN = 16  # as the responder demands of auth.device_key
_LABEL = b"pbxops.autoprov device password\0"
_KEY_LABEL = b"pbxops.autoprov device key\0"


def key_from_password(password):
    """The device key that follows the PBX-wide password: HMAC-SHA256(password, label), 64 hex digits."""
    return hmac.new(password.encode("utf-8"), _KEY_LABEL, hashlib.sha256).hexdigest()


def device_key(explicit, derive, password):
    """The key the devices' pairs come from: the explicit one, else (derive) the password's, else None."""
    if explicit:
        return explicit
    return key_from_password(password) if derive and password else None


def device_pair(key, mac):
    """(user name, password) of the device with bare MAC `mac` under device key `key`."""
    return mac, hmac.new(key.encode("utf-8"), _LABEL + mac.encode("ascii"), hashlib.sha256).hexdigest()[:24]
