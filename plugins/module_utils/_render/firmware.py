# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Firmware per model (autoprov_firmware): checked, and turned into the image URL the templates write.

Phones want the URL of one image file (Yealink static.firmware.url, Snom <firmware>,
Cisco Upgrade_Rule, Poly APP_FILE_PATH...), never a directory, and a model the
inventory names no firmware for is left with what it runs: its templates write no
firmware setting at all. A relative `file` is fetched from `firmware_url` (default:
the config host's firmware/ directory next to the configurations).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from ansible_collections.pbxops.autoprov.plugins.module_utils import _urls
from ansible_collections.pbxops.autoprov.plugins.module_utils._catalog import catalog

_FILE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,200}$")
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$")
_IMAGE_SCHEMES = ("http", "https", "tftp", "ftp")
FIELDS = ("file", "url", "version")


def default_base(server_url):
    """The config host's firmware directory: the provisioning URL without credentials, then firmware/."""
    bare = _urls.split_credentials(server_url)[0] if server_url else None
    return bare + "firmware/" if bare else None


def _image_url(where, item, base):
    if ("file" in item) == ("url" in item):
        return None, "%s: give either file (an image name in the firmware directory) or url (the image's full URL)" % where
    if "file" in item:
        name = str(item["file"])
        if not _FILE.match(name) or ".." in name:
            return None, "%s.file: %r is not a file name; a plain name such as T46S-66.86.0.15.rom (no / or ..)" % (where, name)
        if not base:
            return None, "%s.file: no firmware_url and no server_url to fetch it from" % where
        return base + name, None
    url = str(item["url"])
    parts = urlsplit(url)
    if parts.scheme.lower() not in _IMAGE_SCHEMES or not parts.hostname or parts.path in ("", "/") or parts.path.endswith("/"):
        return None, "%s.url: %r is not the URL of an image file; use %s://host/path/image" % (where, url, "|".join(_IMAGE_SCHEMES))
    if parts.username or parts.password:
        return None, "%s.url: credentials in a firmware URL would be written into every device's file; serve images without them" % where
    return url, None


def _check_item(host, key, item, base):
    where = "%s: firmware[%r] (autoprov_firmware)" % (host, key)
    models = catalog.find_models(str(key))
    if not models:
        return None, ["%s: %r is not a model of the catalog (docs/supported-devices.md)" % (where, key)]
    if len({m.vendor for m in models}) > 1:
        vendors = ", ".join(sorted("%s %s" % (catalog.VENDORS[m.vendor].name, m.name) for m in models))
        return None, ["%s: %r names models of several vendors (%s); write the vendor in front" % (where, key, vendors)]
    if not isinstance(item, dict):
        return None, ["%s: must be a mapping with file or url, and version" % where]
    errors = ["%s.%s: unknown field; valid: %s" % (where, field, ", ".join(FIELDS)) for field in sorted(set(item) - set(FIELDS))]
    version = str(item.get("version") or "")
    if not _VERSION.match(version):
        errors.append("%s.version: %r; the image's firmware version, such as 66.86.0.15 (status compares it)" % (where, version))
    url, problem = _image_url(where, item, base)
    if problem:
        errors.append(problem)
    if errors:
        return None, errors
    return (models[0].name, {"url": url, "version": version, "file": url.rsplit("/", 1)[1]}), []


def resolve(host, firmware, firmware_url, server_url):
    """({model name: {url, version, file}}, errors) from the inventory's firmware map."""
    if not firmware:
        return {}, []
    if not isinstance(firmware, dict):
        return {}, ["%s: firmware (autoprov_firmware): must map a model to {file or url, version}" % host]
    base = firmware_url or default_base(server_url)
    if firmware_url and not (urlsplit(firmware_url).scheme.lower() in _IMAGE_SCHEMES and firmware_url.endswith("/")):
        return {}, ["%s: firmware_url (autoprov_firmware_url): %r; the directory URL of the images, ending in /" % (host, firmware_url)]
    resolved, errors = {}, []
    for key, item in firmware.items():
        entry, problems = _check_item(host, key, item, base)
        errors.extend(problems)
        if entry:
            if entry[0] in resolved:
                errors.append("%s: firmware (autoprov_firmware): model %s is named twice" % (host, entry[0]))
            resolved[entry[0]] = entry[1]
    return resolved, errors
