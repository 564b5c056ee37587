# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter pbxops.autoprov.provisioning_url (docs in provisioning_url.yml)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.pbxops.autoprov.plugins.module_utils import _urls


def provisioning_url(base, token=None, username=None, password=None, via=None):
    try:
        return _urls.provisioning_url(base, token, username, password, via)
    except _urls.UrlError as exc:
        raise AnsibleFilterError("pbxops.autoprov.provisioning_url: %s" % exc)


class FilterModule:
    def filters(self):
        return {"provisioning_url": provisioning_url}
