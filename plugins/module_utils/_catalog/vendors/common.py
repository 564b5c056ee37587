# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every vendor file in this directory holds, and the pieces they share.

A vendor is one file here, named by its key (the `vendor` of the inventory). It defines
VENDOR and MODELS, and PROBE if its phones announce themselves by PnP. ../index.py
imports them all; it is generated (scripts/gen-docs.sh, `make docs`) and a test
fails when it is stale. _catalog/catalog.py reads the data; nothing else should.
Where each fact comes from is recorded in docs/catalog-sources.md.

VENDOR: the vendor.
  name            how the vendor is printed
  oui_org         regex (case-insensitive) on the IEEE organisation of the MAC's OUI
  user_agent      regex on the HTTP User-Agent; named groups model, firmware and,
                  where the vendor sends it, mac
  pnp_names       spellings of the vendor in a PnP SUBSCRIBE's Event (lowercase)
  pnp_url         the NOTIFY body: {url} is the provisioning URL (ends in /),
                  {mac}/{MAC} the device's MAC, bare lower/upper case
  methods         how its devices can find their config: pnp, dhcp, rps
  rps             the RPS client (rps_devices vendor) or None
  resync_event    the SIP Event of the NOTIFY that makes a device fetch its config
                  again (default check-sync;reboot=false)
  secret_keys     regexes that find secret values in rendered files, for masking
                  diffs of files we no longer have the secrets of; group "v" is
                  the value
  files           files a device of this vendor fetches: name pattern, template,
                  scope (device: one per MAC; shared: one per distinct name, for
                  every model using it), secret (holds passwords: served only
                  to its own device), optional (a device fetches it only on some paths:
                  status does not count it missing). Patterns: {mac}/{MAC} bare lower/upper,
                  {code} (a format spec such as {code:0>12} pads it), {model}
  languages       our language code -> the vendor's value
  key_types       the programmable-key types its templates can set (others are
                  refused with an error naming the device and key)
MODELS: a list of (model, kind, lines, keys, extra) rows; extra holds
  aliases, code (Yealink hardware code of y000000000XXX.cfg, Cisco product series
  number of $PSN.xml), methods narrower than the vendor's, and a note for the
  supported-devices table.
  kind: phone, dect (a DECT base: lines are its SIP accounts), ata (FXS ports),
  fxs (FXS gateway).

Hooks (optional functions of a vendor file; the renderer calls them for each device):
  lint(device, settings, model, tz)     -> [(field, message)]: values the firmware would
                  reject; field is a device field ("keys[2].index", "lines[0].label") or a
                  setting ("timezone", "resync_interval"); any problem stops the run before
                  a file is written (host, MAC, field and message are reported)
  context(device, settings, model, tz)  -> {name: value}: values the vendor's templates
                  need that Python computes better than Jinja (a time-zone code, say);
                  templates see them as derived.<name>
  device is the validated record (mac, model, kind, lines, keys, vars...), settings the
  PBX's settings with the device's vars applied, model the catalog Model, tz the
  time zone as _render/timezone.describe() gives it.

PROBE (pnp_probe only: how a booting phone of the vendor announces itself):
  uri_user        user part of the SUBSCRIBE's Request-URI, From and To; {mac}/{MAC}
                  bare lower/upper case (the spellings seen in the field differ by vendor)
  uri_host        host part of those URIs (a multicast address or a DNS name)
  contact_user    the Contact carries the same user part (else only host:port)
  vendor_param    "vendor" or "vender" in the Event header
  vendor_name     how the phone writes its vendor there
  model, firmware a sample model and firmware for the probe's defaults
  sip_user_agent  SIP User-Agent header or None; http_user_agent: the User-Agent the
                  phone fetches its files with. {model} {firmware} {mac} {MAC}
                  {mac_colon} {MAC_COLON}
Sources: Snom service wiki PnP trace (MAC%3a, DNS host, no User-Agent), a Yealink
W52P capture (bare MAC prefix, Contact with user), a Grandstream GRP2612W capture
(MAC%3A), Fanvil's OEM PnP trace (MAC=, no From tag); Htek: MAC: and vender=.
"""

from __future__ import annotations

# A MAC in any of the notations vendors send (compare after removing : and -).
MAC = r"(?P<mac>(?:[0-9A-Fa-f]{2}[:-]?){5}[0-9A-Fa-f]{2})"
KEY_TYPES = ["line", "blf", "speeddial", "park", "intercom", "dtmf", "url"]


def xml_secret(*elements):
    """A regex for the text of the named XML elements (attributes allowed)."""
    return r"<(?:%s)(?:\s[^>]*)?>(?P<v>[^<]*)<" % "|".join(elements)
