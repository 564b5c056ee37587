# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A device's own HTTP pair for its files, derived from the PBX's device key (autoprov_http_device_key).

The user name is the MAC (12 lowercase hex digits), the password the first 24 hex digits of
HMAC-SHA256(key, label + MAC): docs/responder.md, `auth.device_key`. The responder derives the
same pair on the PBX to check it and keeps its own copy of these lines (it runs on the standard
library alone, apart from the collection); tests/unit/plugins/module_utils/_render/test_credentials.py
holds both to the same answers.
"""

from __future__ import annotations

import hashlib
import hmac

KEY_MIN = 16  # as the responder demands of auth.device_key
_LABEL = b"pbxops.autoprov device password\0"


def device_pair(key, mac):
    """(user name, password) of the device with bare MAC `mac` under device key `key`."""
    return mac, hmac.new(key.encode("utf-8"), _LABEL + mac.encode("ascii"), hashlib.sha256).hexdigest()[:24]
