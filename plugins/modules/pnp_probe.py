#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: pnp_probe
short_description: Behave as a booting phone, send a PnP SUBSCRIBE and report the provisioning URL the NOTIFY carries
version_added: 0.1.0
description:
  - "Sends the SIP C(SUBSCRIBE) (C(Event: ua-profile)) that a factory-fresh phone of O(vendor) sends when it
    boots, in that vendor's own form (how it spells its MAC in the Request-URI, C(vendor) or C(vender), its
    User-Agent), to the PnP multicast group C(224.0.1.75:5060) or to one host (O(target))."
  - Waits for the C(200 OK) and the C(NOTIFY), answers the C(NOTIFY) with C(200 OK) as a phone does, and
    returns the URL of its body.
  - With O(fetch=true) it then downloads the device's files from that URL with the vendor's HTTP
    User-Agent (and O(username)/O(password) when given), and returns status, size and SHA-256 of each,
    never their contents.
  - A diagnostic for administrators ("does the PnP responder answer this phone, and with what?"). Runs
    on the host it is delegated to, which must be in the phones' LAN segment for multicast; Python
    standard library only.
author: pbxops maintainers (@pbxops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - pbxops.autoprov.attributes
  - pbxops.autoprov.attributes.READ_ONLY
  - pbxops.autoprov.catalog.VENDOR
attributes:
  check_mode:
    support: full
    details: The probe changes nothing on any host, so it runs in check mode as well (the responder records the request).
  idempotent:
    support: full
    details: Never reports a change.
options:
  vendor:
    description: The vendor whose phone to imitate (the choices are the catalog's vendors).
    type: str
    required: true
  mac:
    description: MAC address of the imitated phone (any common notation).
    type: str
    required: true
  model:
    description:
      - Model the phone announces (C(model=) in the Event header, and in its User-Agent), as printed on it
        (V(D785)) or as it announces itself (V(snomD785)). Defaults to a sample model of O(vendor).
    type: str
  firmware:
    description: Firmware version the phone announces. Defaults to a sample version of O(vendor).
    type: str
  target:
    description:
      - Where to send the SUBSCRIBE. V(224.0.1.75) or V(224.0.1.75:5060) multicast to the PnP group (needs
        O(interface) or O(source)); V(host:port) sends it to one responder (unicast, for example
        V(127.0.0.1:5060) on the PBX itself).
    type: str
    default: 224.0.1.75:5060
  interface:
    description: Network interface to send from (its IPv4 address becomes the source). Mutually exclusive with O(source).
    type: str
  source:
    description: Local IPv4 address to send from. Default for unicast is the address the route to O(target) uses.
    type: str
  source_port:
    description: Local UDP port; V(0) takes a free (ephemeral) port, as many phones do.
    type: int
    default: 0
  timeout:
    description: Seconds to wait for the answer (the SUBSCRIBE is retransmitted on RFC 3261 timers meanwhile), and for each file download.
    type: float
    default: 5.0
  require_answer:
    description:
      - Fail when no NOTIFY with a URL comes back within O(timeout). With V(false) the result says
        O(ignore:answered=false) instead (for example to check that an unknown MAC is not answered).
    type: bool
    default: true
  fetch:
    description: Download the device's files from the URL in the NOTIFY with the vendor's User-Agent.
    type: bool
    default: false
  files:
    description:
      - Names of the files to download, relative to the NOTIFY's URL. Default are the files the device catalog
        lists for O(vendor) and O(model) (for example V(001565aabbcc.boot) and V(001565aabbcc.cfg) for
        Yealink); when the NOTIFY names a file rather than a directory, that file.
    type: list
    elements: str
  username:
    description: User name for the config host (HTTP Basic or Digest). Default are the credentials in the NOTIFY's URL, if any.
    type: str
  password:
    description: Password for the config host. Never shown.
    type: str
  validate_certs:
    description: Check the config host's certificate for C(https) URLs.
    type: bool
    default: true
  url:
    description:
      - For a vendor whose phones this module cannot probe by PnP (the catalog has no PnP profile for it - Cisco,
        Poly and Yeastar today), the provisioning URL the phone gets from DHCP option 66 or the RPS; the module then
        skips PnP and, with O(fetch=true), fetches the files from it as the phone would (with the vendor's
        User-Agent where the catalog knows it, else none).
      - May carry the HTTP credentials (V(http://user:password@host/...)); never shown. Ignored for PnP vendors.
    type: str
notes:
  - Multicast leaves only through the chosen interface, with a TTL of 1, as a phone's does.
  - The responder answers only MACs of its manifest unless it is told to answer every device; other MACs are recorded as discovered.
seealso:
  - module: pbxops.autoprov.provision_status
"""

EXAMPLES = r"""
- name: Ask the PBX's responder over the LAN, as a Yealink T46S would
  pbxops.autoprov.pnp_probe:
    vendor: yealink
    mac: "00:15:65:aa:bb:01"
    interface: eth0
  register: probe

- name: Show the URL the phone would get
  ansible.builtin.debug:
    var: probe.url

- name: Unicast to the responder on this host, then fetch the files with the phone's User-Agent
  pbxops.autoprov.pnp_probe:
    vendor: snom
    model: snomD785
    mac: 000413aabb01
    target: 127.0.0.1:5060
    fetch: true
    username: "{{ autoprov_provisioning_user }}"
    password: "{{ vault_provisioning_password }}"

- name: An unknown MAC must not be answered
  pbxops.autoprov.pnp_probe:
    vendor: fanvil
    mac: 0c383e000001
    target: 127.0.0.1:5060
    timeout: 2
    require_answer: false
  register: unknown
  failed_when: unknown.answered
"""

RETURN = r"""
answered:
  description: Whether a NOTIFY with a URL came back.
  returned: always
  type: bool
url:
  description: The body of the NOTIFY (the provisioning URL), or null. A password in it is shown as C(***).
  returned: always
  type: str
  sample: http://192.0.2.10:8080/p/Zt4hq/
url_has_credentials:
  description: Whether the NOTIFY's URL carried HTTP credentials (used for O(fetch) unless O(username) is given).
  returned: always
  type: bool
subscribe_status:
  description: The SIP status of the answer to the SUBSCRIBE (null when none came).
  returned: always
  type: int
  sample: 200
answered_by:
  description: Address and port the answer to the SUBSCRIBE came from.
  returned: always
  type: str
  sample: 192.0.2.10:5060
notify:
  description: The NOTIFY as received (C(from), C(event), C(subscription_state), C(content_type)), or null.
  returned: always
  type: dict
source:
  description: Address and port the probe sent from (and where the NOTIFY was expected).
  returned: always
  type: str
target:
  description: Where the SUBSCRIBE was sent.
  returned: always
  type: str
subscribe:
  description: The SUBSCRIBE as sent.
  returned: always
  type: str
elapsed_ms:
  description: Milliseconds from the first SUBSCRIBE to the NOTIFY (or the end of the wait).
  returned: always
  type: float
user_agent:
  description: The HTTP User-Agent used to fetch the files.
  returned: always
  type: str
  sample: Yealink SIP-T46S 66.86.0.15 00:15:65:aa:bb:01
fetched:
  description: One entry per file downloaded (O(fetch=true)) with C(url), C(status) (HTTP), C(bytes), C(sha256), C(error).
  returned: always
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.pbxops.autoprov.plugins.module_utils._modules import pnp_probe


def main():
    module = AnsibleModule(argument_spec=pnp_probe.ARGUMENT_SPEC, mutually_exclusive=pnp_probe.MUTUALLY_EXCLUSIVE, supports_check_mode=True)
    pnp_probe.run(module)


if __name__ == "__main__":
    main()
