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
  - pbxops.autoprov.attributes
attributes:
  check_mode:
    support: full
    details: >-
      Sends nothing to the RPS, not even a lookup (the vendor's service is not ours to load or log into on a dry run).
      The input is checked as in a real run; every MAC is reported as V(not_checked) and RV(msg) and RV(calls) say
      what a real run would ask the RPS. Which MACs differ shows in the real run, which reads before it writes.
  diff_mode:
    support: full
    details: Per-MAC before/after URL; credentials are never part of it.
  idempotent:
    description: Can run again with the same input and changes nothing the second time.
    support: full
    details: >-
      Where the vendor never shows the stored HTTP password back (Yealink on both APIs, Poly), a password change alone
      is pushed with O(update_password=always). Gigaset shows that a MAC is in the account but not its URL, so its
      MACs are registered again on every run (reported as V(updated)).
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
      - The vendor whose RPS to use. V(yealink) (RPS JSON API v1), V(yealink_ymcs) (YMCS Open API v2), V(snom) (SRAPS),
        V(fanvil) (FDPS), V(gigaset), V(htek), V(poly) (ZTP).
      - A vendor of the device catalog is mapped to its client by the catalog's C(rps) key (Yealink to V(yealink)).
        Yealink accounts created for YMCS have only the v2 API (AccessKey ID and Secret at System > Integration > API in
        YMCS), so use V(yealink_ymcs) for them. V(yealink) needs the older "RPS Json" access key.
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
        description:
          - Serial number. V(yealink_ymcs) adds a device that has one with its serial (C(addDevices)), and one without
            by MAC alone (C(addDevicesByMac)), which Yealink enables per account.
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
        the URL it stores (Snom, Gigaset, Htek); Fanvil cannot carry it. Yealink keeps at most 32 characters of it and of
        O(url_password).
    type: str
  url_password:
    description: HTTP password for O(url_username). Never shown.
    type: str
  device_key:
    description:
      - The PBX's device key (as device_configs' O(pbxops.autoprov.device_configs#module:device_key)). Where the vendor
        keeps one URL per MAC (V(snom), V(gigaset)), each MAC's URL then carries that device's own pair - user name
        its MAC, password derived from the key - instead of O(url_username) and O(url_password), so one record opens
        one device's files. Vendors whose MACs share a server record (V(yealink), V(yealink_ymcs), V(poly), V(htek))
        keep the PBX-wide pair. Never shown.
    type: str
  derive_device_key:
    description: Without O(device_key), derive the device key from O(url_password), as the config host does.
    type: bool
    default: false
  update_password:
    description: V(always) pushes O(url_password) to vendors that do not show it back even when nothing else changed.
    type: str
    choices: [on_create, always]
    default: on_create
  credentials:
    description:
      - The vendor account, from Ansible Vault. V(yealink) and V(snom) use O(credentials.key_id) and O(credentials.secret);
        V(yealink_ymcs) uses O(credentials.client_id), O(credentials.client_secret) and O(credentials.region) (or O(api_url));
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
      client_id:
        description: OAuth 2.0 client id (YMCS AccessKey ID).
        type: str
      client_secret:
        description: OAuth 2.0 client secret (YMCS AccessKey Secret).
        type: str
      region:
        description:
          - The YMCS region of the account (the Domain shown at System > Integration > API), V(us), V(eu) or V(au),
            for the service C(https://<region>-api.ymcs.yealink.com). O(api_url) overrides it.
        type: str
  api_url:
    description:
      - Base URL of the vendor's API, for another region or a test service. Defaults to the vendor's public service
        (for V(yealink_ymcs), the one of O(credentials.region)).
    type: str
  server_name:
    description:
      - Prefix of the server object / profile name this module keeps at the vendor; a hash of URL and user
        follows it, so each URL gets its own object (Fanvil adds the MAC, one material server per MAC).
      - For V(gigaset) it is the provider name as it is.
      - Yealink server names are at most 20 characters of letters, digits, space, C(.), C(_) and C(-), so the prefix
        has at most 11 characters and 20 less its length (at least 8) hex digits follow it.
    type: str
    default: autoprov
  return_pins:
    description:
      - Return each device's PIN (V(yealink_ymcs) only, from C(listDevicePins)) in RV(results[].pin). Some Yealink phones
        ask for it when the RPS redirects them.
      - The PINs are secrets (whoever has one can finish that phone's redirect), so the task must set C(no_log) to V(true);
        register the result and keep the PINs in a vault. Without this option no PIN is read.
    type: bool
    default: false
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

- name: Send the Yealink phones to the PBX through a YMCS account (API v2), and keep their PINs
  pbxops.autoprov.rps_devices:
    vendor: yealink_ymcs
    devices: "{{ autoprov_devices | selectattr('vendor', 'eq', 'yealink') }}"
    url: "https://{{ autoprov_public_url }}/p/{{ autoprov_url_token }}/"
    credentials:
      client_id: "{{ vault_ymcs_access_key_id }}"
      client_secret: "{{ vault_ymcs_access_key_secret }}"
      region: eu
    return_pins: true
  delegate_to: localhost
  no_log: true
  register: ymcs

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
        - In check mode V(not_checked) (the RPS was not asked).
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
    pin:
      description:
        - The device's PIN at the RPS, null when it has none or is not in the account. A secret, present only with
          O(return_pins=true), which needs C(no_log) on the task.
      type: str
      returned: when O(return_pins=true)
  sample:
    - {mac: "00:15:65:aa:bb:01", action: registered, before: null, after: "https://pbx.example.net/p/abc/", message: null}
calls:
  description: In check mode, what a real run would ask the RPS, in order (nothing was sent).
  returned: check mode
  type: list
  elements: str
  sample: ["look up 2 MAC(s)", "register or re-point those that differ"]
msg:
  description: In check mode, the RPS and the calls a real run would make; on failure, what failed.
  returned: check mode, failure
  type: str
  sample: >-
    check mode: nothing was sent to the Yealink RPS (https://api-dm.yealink.com:8445); a real run would
    look up 2 MAC(s), then register or re-point those that differ
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
    device_key=dict(type="str", no_log=True),
    derive_device_key=dict(type="bool", default=False),
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
            client_id=dict(type="str", no_log=False),
            client_secret=dict(type="str", no_log=True),
            region=dict(type="str"),
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
    return_pins=dict(type="bool", default=False),
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    for name, present in (("requests", _rps_base.HAS_REQUESTS), ("netaddr", _mac.HAS_NETADDR)):
        if not present:
            module.fail_json(msg=missing_required_lib(name))
    library, present = NEEDS.get(str(module.params["vendor"]).lower(), (None, True))
    if not present:
        module.fail_json(msg=missing_required_lib(library))
    if module.params["return_pins"] and not module.no_log:
        module.fail_json(
            msg="rps_devices: nothing was sent; return_pins: the device PINs are secrets: set no_log: true on the task "
            "and read them from its registered result"
        )
    try:
        result = _rps.run(module.params, module.check_mode)
    except _rps.InputError as exc:
        module.fail_json(msg="rps_devices: nothing was sent; fix the input: " + "; ".join(exc.args[0]))
    if module.params["return_pins"]:
        # Ansible reads a list under "results" as loop results and shows them even under no_log, unless each
        # one says no_log itself: the entries carry the PINs.
        for entry in result["results"]:
            entry["_ansible_no_log"] = True
    for warning in result.pop("warnings"):
        module.warn(warning)
    if not module._diff:
        result.pop("diff", None)
    if result.get("failed"):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
