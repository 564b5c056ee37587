#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: resync
short_description: Ask devices to fetch their configuration again (SIP NOTIFY check-sync)
version_added: 0.1.0
description:
  - Runs on the PBX host. Sends each device of O(devices) an out-of-dialog SIP C(NOTIFY) with the C(Event)
    its vendor acts on (C(check-sync;reboot=false); Poly C(check-sync); Cisco C(resync)), so it fetches its
    configuration now instead of at its next periodic check. Meant for the devices whose files
    M(pbxops.autoprov.device_configs) just changed (its RV(pbxops.autoprov.device_configs#module:changed_devices)).
  - The NOTIFY goes to the address the device last fetched a file from or sent its PnP SUBSCRIBE from (the
    responder's status database), at O(port); O(addresses) overrides that per device, for example with the
    address it registered from at the PBX.
  - Every NOTIFY is under way at once, from one UDP socket, and is retransmitted on RFC 3261 timers (0.5 s
    doubling to 4 s) until the device answers finally or O(timeout) passes.
  - Reports the outcome per device. A device that is off or refuses is reported, never a failure; bad
    input (a MAC that is no MAC or not in the manifest, an unreadable database, a bad address) fails before
    anything is sent, naming the PBX, the device and the field.
  - Python standard library only on the PBX.
author: pbxops maintainers (@pbxops)
extends_documentation_fragment:
  - pbxops.autoprov.responder_state
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Sends nothing; reports per device what would be sent (RV(devices[].request_uri), RV(devices[].event)) with outcome V(skipped).
  diff_mode:
    support: none
  platform:
    platforms: posix
  idempotent:
    description: Whether a second run with the same input reports no change.
    support: none
    details:
      - Every run sends its NOTIFYs again (a request to act, not a state). Give it the devices whose
        configuration changed in this run, and a rerun without changes sends nothing and reports no change.
options:
  devices:
    description:
      - The devices to ask, as MACs in any common notation, normally
        RV(pbxops.autoprov.device_configs#module:changed_devices). An empty list sends nothing.
      - Not C(autoprov_devices) items, whose lines hold SIP passwords (module arguments show in verbose
        output); use C(autoprov_devices | map(attribute='mac')) to ask every device.
    type: list
    elements: raw
    required: true
  addresses:
    description:
      - Where to send a device's NOTIFY instead of the address from the status database, as a dict MAC
        (any notation) to V(host) or V(host:port) (IPv6 V([address]:port)); for example the contact address the
        device registered at the PBX with. Entries for devices not in O(devices) are not used.
    type: dict
    default: {}
  port:
    description: SIP port of the devices, for addresses without a port (all from the status database).
    type: int
    default: 5060
  timeout:
    description:
      - Seconds to wait for the devices' answers; meanwhile each unanswered NOTIFY is sent again at 0.5, 1.5,
        3.5, 7.5 s ... (RFC 3261 timers E and F, whose full wait is 32 s). One wait for all devices together.
    type: float
    default: 8.0
  source_address:
    description: Local address to send from (and to put in Via and Contact). Default is the address of the route to each device.
    type: str
  event:
    description:
      - The C(Event) header to send to every device, instead of each vendor's from the catalog
        (C(check-sync;reboot=false); Poly C(check-sync); Cisco C(resync)). For example
        V(check-sync;reboot=true) to make them reboot.
    type: str
  pbx_name:
    description: Name of this PBX in error messages (the provision role passes the inventory hostname). Default is the host's name.
    type: str
notes:
  - The request URI is C(sip:EXTENSION@ADDRESS:PORT) with the device's first extension (manifest), else its MAC.
  - Phones act on such a NOTIFY only where their configuration allows it (Yealink C(sip.notify_reboot_enable),
    Cisco C(Resync_From_SIP), Poly C(voIpProt.SIP.specialEvent.checkSync.alwaysReboot)); some accept it only from
    their registrar. A phone that challenges the NOTIFY (C(401)/C(407)) is reported as V(rejected).
  - The status database records the address of served requests and PnP SUBSCRIBEs; refused requests (which
    anyone can make in a device's name) are not used.
seealso:
  - module: pbxops.autoprov.device_configs
  - module: pbxops.autoprov.provision_status
"""

EXAMPLES = r"""
- name: Render and ship the configs
  pbxops.autoprov.device_configs:
    devices: "{{ autoprov_devices }}"
    dest: "{{ autoprov_config_root }}"
    sip_server: "{{ autoprov_sip_server }}"
    server_url: "{{ autoprov_server_url }}"
  register: configs

- name: Ask the devices whose configuration changed to fetch it now
  pbxops.autoprov.resync:
    devices: "{{ configs.changed_devices }}"
    pbx_name: "{{ inventory_hostname }}"
  register: resync
  become: true

- name: Send to the addresses the phones registered from, on their SIP port
  pbxops.autoprov.resync:
    devices: ["00:15:65:aa:bb:01", "0004.13aa.bb02"]
    config_root: /var/lib/autoprov/configs
    db: /var/lib/autoprov-responder/status.sqlite
    addresses:
      "00:15:65:aa:bb:01": 192.0.2.31:5062
      "00:04:13:aa:bb:02": 192.0.2.32

- name: Show who did not take it
  ansible.builtin.debug:
    msg: "{{ resync.devices | rejectattr('outcome', 'eq', 'delivered') | map(attribute='mac') | list }}"
"""

RETURN = r"""
devices:
  description: One entry per device of O(devices), in that order.
  returned: always
  type: list
  elements: dict
  contains:
    mac:
      description: The MAC, 12 lowercase hex digits.
      type: str
      sample: 001565aabb01
    vendor:
      description: Vendor key (manifest).
      type: str
      sample: yealink
    address:
      description: Where the NOTIFY went (or would go), C(host:port), or null.
      type: str
      sample: 192.0.2.31:5060
    address_from:
      description: Where the address came from, V(addresses) or V(status_db), or null.
      type: str
    last_seen:
      description: When the device was last seen at that address (UTC, ISO 8601), for addresses from the status database.
      type: str
    event:
      description: The Event header sent.
      type: str
      sample: check-sync;reboot=false
    request_uri:
      description: The NOTIFY's Request-URI.
      type: str
      sample: sip:201@192.0.2.31:5060
    outcome:
      description:
        - V(delivered) (answered 2xx), V(rejected) (a final answer 300-699, see RV(devices[].sip_status)), V(timeout) (no
          final answer within O(timeout); off, gone, or not listening), V(unreachable) (this host could not send
          there, see RV(devices[].error)), V(no_address) (never seen and no O(addresses) entry), V(skipped) (check mode).
      type: str
      sample: delivered
    sip_status:
      description: The device's final SIP status (for V(timeout), a provisional one it sent, if any), or null.
      type: int
      sample: 200
    sip_reason:
      description: The reason phrase of that answer.
      type: str
      sample: OK
    transmissions:
      description: How many times the NOTIFY was sent (1 plus retransmissions).
      type: int
    elapsed_ms:
      description: Milliseconds from the first send to the final answer (or the end of the wait).
      type: float
    error:
      description: Why the NOTIFY could not be sent (outcome V(unreachable)), else null.
      type: str
summary:
  description: Number of devices per outcome.
  returned: always
  type: dict
  sample: {delivered: 2, timeout: 1, no_address: 1}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.pbxops.autoprov.plugins.module_utils._modules import resync


def main():
    module = AnsibleModule(argument_spec=resync.ARGUMENT_SPEC, supports_check_mode=True)
    resync.run(module)


if __name__ == "__main__":
    main()
