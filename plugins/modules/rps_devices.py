#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: rps_devices
short_description: Register or unregister phones' MACs with the provisioning URL at their vendor's redirect service (RPS)
version_added: 0.1.0
description:
  - Tells a phone vendor's redirect and provisioning service (RPS) which provisioning URL each MAC belongs to, so a
    factory-fresh phone that boots anywhere on the internet is sent to this PBX. With O(state=absent) it removes the
    MACs from the account.
  - Asks the RPS what is registered before it writes; a MAC that already points at the URL is left alone.
  - Every MAC is accounted for in RV(results). A MAC owned by another account, a MAC the vendor refuses or a URL it
    refuses fails that MAC with the vendor's words; the others still go through, then the task fails listing the
    failures.
  - Retries with backoff on HTTP 429 (honouring C(Retry-After)), 500, 502, 503, 504, connection failures and
    timeouts. Uses the vendor's batch calls where it has them.
  - The public-URL rule (the reference PBX's "RPS FQDN") - the URL must be reachable from the internet. A private,
    loopback, link-local or reserved address (also when the name resolves to one) and a plain-HTTP URL without
    authentication are refused with an explanation unless O(allow_private_url) / O(allow_plain_http) say otherwise.
  - Vendors and their protocols are described in C(docs/rps.md). One task handles the whole device list.
author: pbxops maintainers (@pbxops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reads the RPS and reports what would change; a conflict the vendor only reveals on write shows in the real run.
  diff_mode:
    support: full
    details: Per-MAC before/after URL; credentials are never part of it.
  platform:
    platforms: posix
  idempotent:
    description: Can run again with the same input and changes nothing the second time.
    support: full
    details: >-
      Where the vendor never shows the stored HTTP password back, a password change alone is pushed with
      O(update_password=always). Gigaset shows that a MAC is in the account but not its URL, so its MACs are
      registered again on every run (reported as V(updated)).
requirements:
  - requests
  - netaddr
  - mohawk (for V(snom))
  - defusedxml (for V(fanvil), V(gigaset), V(htek))
notes:
  - "Runs where the task runs; use C(delegate_to: localhost) (and C(run_once) per account) so the calls leave from the controller."
options:
  vendor:
    description:
      - The vendor whose RPS to use. V(yealink), V(snom) (SRAPS), V(fanvil) (FDPS), V(gigaset), V(htek), V(poly) (ZTP).
      - A vendor of the device catalog is mapped to its client by the catalog's C(rps) key.
    type: str
    required: true
  devices:
    description: The devices; normally C(autoprov_devices) filtered by vendor.
    type: list
    elements: dict
    required: true
    suboptions:
      mac:
        description: MAC address, any common notation.
        type: str
        required: true
      serial:
        description: Serial number, for vendors that ask for one (none of the current clients sends it).
        type: str
      pin:
        description:
          - Per-device code some vendors require; for V(gigaset) the 4 letters or digits after the MAC on the label
            (MAC-ID C(XXXXXXXXXXXX-XXXX)).
        type: str
  url:
    description: The provisioning URL the phones are sent to (the PBX's public URL). Required with O(state=present).
    type: str
  url_username:
    description:
      - HTTP user the phones authenticate with at O(url). Kept in the vendor's server record (Yealink, Poly) or inside
        the URL it stores (Snom, Gigaset, Htek); Fanvil cannot carry it.
    type: str
  url_password:
    description: HTTP password for O(url_username). Never shown.
    type: str
  update_password:
    description: V(always) pushes O(url_password) to vendors that do not show it back even when nothing else changed.
    type: str
    choices: [on_create, always]
    default: on_create
  credentials:
    description:
      - The vendor account, from Ansible Vault. V(yealink) and V(snom) use O(credentials.key_id) and O(credentials.secret);
        V(fanvil), V(gigaset) and V(htek) use O(credentials.username) and O(credentials.password); V(poly) uses O(credentials.api_key).
    type: dict
    required: true
    suboptions:
      username:
        description: Account user name.
        type: str
      password:
        description: Account password.
        type: str
      key_id:
        description: Access key id (Yealink C(X-Ca-Key), Snom Hawk id).
        type: str
      secret:
        description: Access key secret (Yealink signing secret, Snom Hawk key).
        type: str
      api_key:
        description: API key (Poly C(API-KEY)).
        type: str
  api_url:
    description: Base URL of the vendor's API, for another region or a test service. Defaults to the vendor's public service.
    type: str
  server_name:
    description:
      - Prefix of the server object / profile name this module keeps at the vendor; a hash of URL and user
        follows it, so each URL gets its own object (Fanvil adds the MAC, one material server per MAC).
      - For V(gigaset) it is the provider name as it is.
    type: str
    default: autoprov
  state:
    description: V(present) points every MAC at O(url); V(absent) removes them from the account.
    type: str
    choices: [present, absent]
    default: present
  validate_certs:
    description: Verify the RPS API's TLS certificate. Only turn off for a test service.
    type: bool
    default: true
  ca_path:
    description: CA bundle (PEM) to verify the RPS API against instead of the system's.
    type: path
  timeout:
    description: Seconds to wait for each answer.
    type: float
    default: 30
  retries:
    description: Further attempts after a 429, a 5xx, a timeout or a failed connection.
    type: int
    default: 3
  retry_backoff:
    description: First wait in seconds between attempts; it doubles each time unless the RPS sends C(Retry-After).
    type: float
    default: 1
  max_retry_wait:
    description: Longest wait between attempts, also for C(Retry-After).
    type: float
    default: 60
  allow_private_url:
    description: Accept a URL whose host is private, loopback, link-local or reserved (phones that reach the PBX over a VPN).
    type: bool
    default: false
  allow_plain_http:
    description: Accept an C(http://) URL without O(url_username).
    type: bool
    default: false
seealso:
  - module: pbxops.autoprov.device_configs
"""

EXAMPLES = r"""
- name: Send the Yealink phones of this PBX to its public provisioning URL
  pbxops.autoprov.rps_devices:
    vendor: yealink
    devices: "{{ autoprov_devices | selectattr('vendor', 'eq', 'yealink') }}"
    url: "https://{{ autoprov_public_url }}/p/{{ autoprov_url_token }}/"
    url_username: phones
    url_password: "{{ vault_phone_http_password }}"
    credentials:
      key_id: "{{ vault_yealink_rps_key_id }}"
      secret: "{{ vault_yealink_rps_secret }}"
  delegate_to: localhost

- name: Gigaset needs the code after the MAC on the label
  pbxops.autoprov.rps_devices:
    vendor: gigaset
    devices:
      - mac: 7C:2F:80:12:34:56
        pin: 1A2B
    url: https://pbx.example.net/p/abc/
    credentials:
      username: "{{ vault_gigaset_user }}"
      password: "{{ vault_gigaset_password }}"
  delegate_to: localhost

- name: Take decommissioned Snom phones out of the SRAPS account
  pbxops.autoprov.rps_devices:
    vendor: snom
    state: absent
    devices: "{{ retired_phones }}"
    credentials:
      key_id: "{{ vault_sraps_key_id }}"
      secret: "{{ vault_sraps_secret }}"
  delegate_to: localhost
"""

RETURN = r"""
results:
  description: One entry per MAC, in input order.
  returned: always
  type: list
  elements: dict
  contains:
    mac:
      description: The MAC, colon notation.
      type: str
    action:
      description:
        - V(registered), V(updated) (moved to the URL), V(unregistered), V(unchanged) or V(failed).
        - In check mode, what would happen.
      type: str
    before:
      description: The URL the MAC pointed at in this account before, or null.
      type: str
    after:
      description: The URL it points at now, or null.
      type: str
    message:
      description: Why it failed or was left alone, in the vendor's words where the vendor gave any.
      type: str
  sample:
    - {mac: "00:15:65:aa:bb:01", action: registered, before: null, after: "https://pbx.example.net/p/abc/", message: null}
api_stats:
  description: Requests sent to the RPS and what went wrong on the way (retries, 429s, 5xx, timeouts).
  returned: always
  type: dict
  sample: {requests: 4, retries: 1, throttled: 1, server_errors: 0, timeouts: 0, connection_errors: 0}
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.pbxops.autoprov.plugins.module_utils import _mac
from ansible_collections.pbxops.autoprov.plugins.module_utils._rps import base as _rps_base
from ansible_collections.pbxops.autoprov.plugins.module_utils._rps import engine as _rps
from ansible_collections.pbxops.autoprov.plugins.module_utils._rps import snom as _rps_snom
from ansible_collections.pbxops.autoprov.plugins.module_utils._rps import xmlrpc as _rps_xmlrpc

# Libraries only some vendors need: vendor -> (library, importable).
XML_RPC = ("defusedxml", _rps_xmlrpc.HAS_DEFUSEDXML)
NEEDS = {"snom": ("mohawk", _rps_snom.HAS_MOHAWK), "fanvil": XML_RPC, "gigaset": XML_RPC, "htek": XML_RPC}

ARGUMENT_SPEC = dict(
    vendor=dict(type="str", required=True),
    devices=dict(
        type="list",
        elements="dict",
        required=True,
        options=dict(mac=dict(type="str", required=True), serial=dict(type="str"), pin=dict(type="str", no_log=True)),
    ),
    url=dict(type="str"),
    url_username=dict(type="str"),
    url_password=dict(type="str", no_log=True),
    update_password=dict(type="str", choices=["on_create", "always"], default="on_create", no_log=False),
    credentials=dict(
        type="dict",
        required=True,
        options=dict(
            username=dict(type="str"),
            password=dict(type="str", no_log=True),
            key_id=dict(type="str", no_log=False),
            secret=dict(type="str", no_log=True),
            api_key=dict(type="str", no_log=True),
        ),
    ),
    api_url=dict(type="str"),
    server_name=dict(type="str", default="autoprov"),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    validate_certs=dict(type="bool", default=True),
    ca_path=dict(type="path"),
    timeout=dict(type="float", default=30),
    retries=dict(type="int", default=3),
    retry_backoff=dict(type="float", default=1),
    max_retry_wait=dict(type="float", default=60),
    allow_private_url=dict(type="bool", default=False),
    allow_plain_http=dict(type="bool", default=False),
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    for name, present in (("requests", _rps_base.HAS_REQUESTS), ("netaddr", _mac.HAS_NETADDR)):
        if not present:
            module.fail_json(msg=missing_required_lib(name))
    library, present = NEEDS.get(str(module.params["vendor"]).lower(), (None, True))
    if not present:
        module.fail_json(msg=missing_required_lib(library))
    try:
        result = _rps.run(module.params, module.check_mode)
    except _rps.InputError as exc:
        module.fail_json(msg="rps_devices: nothing was sent; fix the input: " + "; ".join(exc.args[0]))
    for warning in result.pop("warnings"):
        module.warn(warning)
    if not module._diff:
        result.pop("diff", None)
    if result.get("failed"):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
