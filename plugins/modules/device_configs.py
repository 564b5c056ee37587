#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: device_configs
short_description: Render and ship the configuration files of every phone and gateway of one PBX
version_added: 0.1.0
description:
  - Renders, on the controller, every file the devices of one PBX download (per-device files and the
    model-wide files such as Yealink C(y0000000000XX.cfg) or Poly C(000000000000.cfg)) from the
    collection's device catalog and templates, or from O(template_dir).
  - Ships only the files whose content changed into O(dest) on the target, each written atomically,
    and removes the files of devices that left the list (O(prune)). The target needs nothing but
    Python's standard library.
  - Keeps a manifest (C(.autoprov-manifest.json)) in O(dest) that lists every file it wrote, the MAC it
    belongs to and whether it holds secrets. Prune only removes files the manifest lists; the
    responder uses it to know which MACs belong to this PBX.
  - Validates the whole list first (MACs, duplicates in this PBX and across the play, vendors, models,
    lines and keys against the model, secrets, methods, templates) and fails with every problem,
    naming host, MAC and field, before anything is written.
  - One task handles the whole device list; do not loop over devices.
author: pbxops maintainers (@pbxops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - pbxops.autoprov.attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: Per-file unified diffs; SIP passwords, the admin password and every value under a secret key are masked.
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
  idempotent:
    description: A second run with the same input reports no change and sends no file content to the target.
    support: full
options:
  devices:
    description:
      - The devices of this PBX, normally C(autoprov_devices).
      - Each item has V(mac) (any common notation), V(model) (as printed on the device), optional
        V(vendor) (deduced from the MAC's OUI when missing), optional V(method) (V(pnp), V(dhcp), V(rps)),
        V(lines) (list of V(extension), V(secret), optional V(display_name), V(label), V(auth_user),
        V(server), V(port), V(transport), V(voicemail)), optional V(keys) (list of V(type) one of
        V(line), V(blf), V(speeddial), V(park), V(intercom), V(dtmf), V(url); V(value), V(label),
        V(line), V(index)), optional V(vars) (template variables for this device; a key named like a
        setting overrides it for this device), optional V(description), V(serial), V(pin), V(auth).
      - See C(docs/inventory.md) in the collection.
    type: list
    elements: dict
    default: []
  dest:
    description: The config root on the target, the directory the responder serves.
    type: path
    required: true
  sip_server:
    description: SIP registrar/proxy the lines register with. Required when O(devices) is not empty.
    type: str
  sip_port:
    description: SIP port of O(sip_server).
    type: int
    default: 5060
  sip_transport:
    description: SIP transport for lines that do not set one.
    type: str
    default: udp
    choices: [udp, tcp, tls]
  server_url:
    description:
      - The provisioning URL the devices fetch from and resync against (the directory holding the files).
        Required when O(devices) is not empty.
      - Credentials in the URL (V(https://user:pass@host/...)) are moved out of it and written only into
        per-device files, as each vendor expects them.
    type: str
  method:
    description:
      - The PBX's provisioning method (C(autoprov_method)). V(pnp) and V(dhcp) make PnP and DHCP
        available, V(rps) also RPS; a device whose model supports none of them, or whose own
        V(method) is not available or not supported by its model, is an error.
    type: str
    choices: [pnp, dhcp, rps]
  template_dir:
    description:
      - A directory of templates on the controller searched before the built-in ones, with the same
        relative names (for example V(yealink/device.cfg.j2)).
    type: path
  prune:
    description: Remove files this module wrote earlier for devices that are no longer in O(devices).
    type: bool
    default: true
  reopen:
    description:
      - MACs of devices of O(devices) whose provisioning window opens again now (docs/responder.md,
        "Provisioning window"); the next address that fetches their secret files gets them and is bound
        to them. A device that is new or whose files change opens its window by itself; use this for a
        phone that was replaced or did not boot in time. Each run with a MAC here reports a change.
    type: list
    elements: str
    default: []
  follow_moves:
    description:
      - A device that the manifest on the target lists, that O(devices) no longer has and that another inventory
        host's C(autoprov_devices) lists now has moved there (docs/inventory.md, "Moving phones between PBXes").
        Until it has fetched at its new PBX it keeps files here, rendered with the new PBX's settings (its SIP
        server, provisioning URL and credentials), so that it is pointed at the new PBX wherever it asks; see
        RV(moves).
      - The new PBX's settings come from its C(autoprov__render_settings), which the provision role sets for each
        PBX of the play. A new PBX that is not in the run leaves the device's files here as they are (a warning
        says so). V(false) prunes a moved device like one that left the fleet.
    type: bool
    default: true
  moves_done:
    description:
      - MACs of moved devices (RV(moves)) that have fetched at their new PBX; their files here are pruned. The
        provision role gives the MACs whose new PBX's status shows a fetch.
    type: list
    elements: str
    default: []
  owner:
    description: Owner of the written files (name or uid). Default is the connecting user.
    type: str
  group:
    description: Group of the written files (name or gid), typically the responder's group.
    type: str
  mode:
    description: Permissions of the written files.
    type: raw
    default: '0640'
  ntp_server:
    description: NTP server the devices use.
    type: str
    default: pool.ntp.org
  timezone:
    description: IANA time zone name (for example V(Europe/Berlin)); converted to each vendor's form.
    type: str
    default: UTC
  language:
    description: Two-letter language code of the device user interface.
    type: str
    default: en
  admin_password:
    description: Administrator password set on every device. Never shown in output or diffs.
    type: str
  device_key:
    description:
      - Key (16 or more characters, from Vault) that gives each device its own HTTP pair for its own files, user
        name its MAC (12 lowercase hex digits), password derived from the key and the MAC (docs/responder.md,
        C(auth.device_key)); the responder, given the same key, accepts that pair for that device's files only.
      - Without it (and without O(derive_device_key)), every device's files carry the PBX-wide pair of
        O(server_url), which opens every device's file. Files shared by several devices (Cisco's C($PSN.xml)) keep
        the PBX-wide pair either way. Never shown.
    type: str
  derive_device_key:
    description:
      - Without O(device_key), derive the device key from the password of O(server_url) (the responder's
        C(auth.derive_device_key) does the same), so each device's files carry its own pair and that pair changes
        with the PBX-wide password (a rotation's grace window then covers both). The provision role sets it from
        C(autoprov_http_device_passwords).
    type: bool
    default: false
  resync_interval:
    description: Minutes between the devices' periodic checks of the provisioning URL; V(0) disables them.
    type: int
    default: 1440
  firmware_url:
    description:
      - Directory URL (ending in V(/)) the relative O(firmware) image files are fetched from.
      - Default is the config host's C(firmware/) directory next to the configurations (O(server_url) + C(firmware/)).
    type: str
  firmware:
    description:
      - Firmware per model. A key is a catalog model name (with the vendor in front where two vendors share it).
        Its value is a mapping with C(file) (an image file name in O(firmware_url)) or C(url) (the image's full URL),
        and C(version) (the firmware version the image holds).
      - The templates write the image's URL where each vendor wants it (the image file, never a directory).
        Models not named here get no firmware setting, so their devices keep what they run.
    type: dict
    default: {}
  vlan:
    description: Voice VLAN ID for the devices, if any.
    type: int
  codecs:
    description: Audio codecs in order of preference.
    type: list
    elements: str
    default: [G722, PCMA, PCMU]
  voicemail:
    description: Voicemail access number for lines that do not set one.
    type: str
  vars:
    description: Template variables for every device of this PBX; a device's own V(vars) win.
    type: dict
    default: {}
  fleet_check:
    description:
      - Also fail when a MAC of this PBX is a device of another host of the play (its C(autoprov_devices)).
    type: bool
    default: true
  pbx_name:
    description: Name of this PBX in the manifest and in messages. Defaults to the inventory hostname.
    type: str
  validate_only:
    description:
      - Check the settings and every device and render every file on the controller, then stop - nothing is read
        or written on the target (with O(compare), read only). The provision role runs this first, so that a bad
        inventory changes nothing anywhere (RV(files) then lists the files a real run would manage).
    type: bool
    default: false
  compare:
    description:
      - With O(validate_only), also ask the target what a real run would change, reading only (one module call,
        nothing written). RV(in_sync) says whether anything would, and RV(plan) is the target's plan for a real
        run that follows. The provision role checks this way first; a no-change rerun then skips its real run.
    type: bool
    default: false
  plan:
    description:
      - The RV(plan) of a O(compare) run of the same files just before. A real run uses it instead of asking
        the target again when it was made for exactly the files, manifest and settings this run ships (its key
        says so); otherwise, and in diff mode (the diff needs the old contents), it plans anew.
    type: dict
  sync:
    description: Internal, set by the action plugin. Do not set it in a task.
    type: dict
  contents:
    description: Internal, set by the action plugin. Do not set it in a task.
    type: dict
notes:
  - Rendering runs on the controller with Jinja2; the target only receives file contents.
  - Secrets come from Ansible Vault; they are never printed, and files that hold them are marked in the
    manifest so that the responder serves them only to their own device.
  - On the target the action plugin runs the same code two ways (RV(target_calls)). Directly where that
    behaves as the module - the connection takes standard input, without privilege escalation or with
    pipelining enabled, and the target's Python is known (C(ansible_python_interpreter), an interpreter
    discovered on the host earlier, or a configured path), the target's Python runs the collection's
    file code, sent with the arguments on its standard input, without Ansible's module wrapper (which
    compiles Ansible's own module code anew on every call, about 0.25 CPU-seconds). Otherwise, and with
    E(ANSIBLE_KEEP_REMOTE_FILES), as this module. Either way the contents travel on standard input or in
    the module's arguments, never on a command line.
seealso:
  - module: pbxops.autoprov.provision_status
  - module: pbxops.autoprov.pnp_probe
"""

EXAMPLES = r"""
- name: Render and ship the configs of every device of this PBX
  pbxops.autoprov.device_configs:
    devices: "{{ autoprov_devices }}"
    dest: /var/lib/autoprov/configs
    sip_server: 192.0.2.10
    server_url: "http://192.0.2.10:8080/p/{{ autoprov_url_token }}/"
    group: autoprov
    timezone: Europe/Berlin
    admin_password: "{{ vault_phone_admin_password }}"

- name: Use site templates first, keep files of removed devices
  pbxops.autoprov.device_configs:
    devices: "{{ autoprov_devices }}"
    dest: /srv/provisioning
    sip_server: pbx.example.net
    sip_transport: tls
    sip_port: 5061
    server_url: https://pbx.example.net/prov/
    template_dir: "{{ inventory_dir }}/templates"
    prune: false

- name: Upgrade the T46S phones to one image (served from the config host's firmware/ directory)
  pbxops.autoprov.device_configs:
    devices: "{{ autoprov_devices }}"
    dest: /var/lib/autoprov/configs
    sip_server: 192.0.2.10
    server_url: "http://192.0.2.10:8080/p/{{ autoprov_url_token }}/"
    firmware:
      T46S: {file: T46S-66.86.0.15.rom, version: 66.86.0.15}
      Cisco 8851: {url: "http://192.0.2.10/images/sip88xx.12-0-1MPP-1234.loads", version: 12.0.1MPP}
"""

RETURN = r"""
files:
  description: Files written (or that would be written in check mode).
  returned: always
  type: list
  elements: str
  sample: [001565aabbcc.cfg, y000000000066.cfg]
changed_devices:
  description:
    - MACs (bare, lowercase) of the devices that fetch a file that was written (their own, or a model-wide one they
      share); candidates for a resync.
  returned: always
  type: list
  elements: str
  sample: [001565aabbcc]
moves:
  description:
    - The devices that moved from this PBX to another PBX of the inventory (O(follow_moves)), by MAC.
    - C(state) V(pointed) (its files here point it at C(to)), V(kept) (C(to) is not in this run, its files here
      are as they were), V(done) (it fetched at C(to), its files here are pruned).
  returned: always
  type: list
  elements: dict
  sample: [{mac: 001565aabbcc, to: pbx-new, state: pointed}]
removed:
  description: Files removed because their device left the list.
  returned: always
  type: list
  elements: str
unchanged:
  description: Number of files that were already current.
  returned: always
  type: int
devices:
  description: Number of devices rendered.
  returned: always
  type: int
manifest:
  description: Path of the manifest on the target.
  returned: always
  type: str
  sample: /var/lib/autoprov/configs/.autoprov-manifest.json
backups:
  description: Copies kept of files that stood where one of ours goes and were not written by this module.
  returned: always
  type: list
  elements: str
reused_plan:
  description: This run used O(plan) instead of asking the target again.
  returned: unless O(validate_only)
  type: bool
target_calls:
  description: How each call to the target went, in order - V(direct) (the target's Python, without the
    module wrapper) or V(module) (see the notes).
  returned: when the target was called
  type: list
  elements: str
  sample: [direct]
in_sync:
  description: A real run would change nothing on the target (O(compare) only).
  returned: when O(validate_only) and O(compare)
  type: bool
plan:
  description:
    - What a real run would change (file names only, never contents or digests), with the key of what it was made
      for; pass it as O(plan) to that run. None when RV(in_sync), when devices left this PBX (the real run plans
      again and follows their moves), or when the target cannot be planned.
  returned: when O(validate_only) and O(compare)
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.pbxops.autoprov.plugins.module_utils._files import sync as _filesync
from ansible_collections.pbxops.autoprov.plugins.module_utils._render.spec import ARGUMENT_SPEC


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    sync = module.params["sync"]
    # The action plugin reads plan or backups and returns a result of its own; the arguments (every
    # file's digest, the manifest) echoed back would only be masked, encoded and parsed for nothing.
    lean = {"module_args": {"dest": module.params["dest"], "phase": (sync or {}).get("phase")}}
    if not sync:
        module.fail_json(
            invocation=lean, msg="pbxops.autoprov.device_configs renders on the controller; run it as a task, not as a bare module"
        )
    result = _filesync.serve(module.params, module.check_mode)
    if result.get("failed"):
        module.fail_json(invocation=lean, **result)
    module.exit_json(invocation=lean, **result)


if __name__ == "__main__":
    main()
