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
                  status does not count it missing), holds_credentials (a shared file that
                  carries the PBX's HTTP provisioning credentials, not a device's secrets,
                  because a factory device fetches it without them and learns them there:
                  Cisco's $PSN.xml). Patterns: {mac}/{MAC} bare lower/upper,
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


def dst_rule(tz):
    """The daylight-saving rule of a time zone (timezone.describe()) with a positive saving, or None.

    {offset_minutes, start, end, saving_minutes}: start/end as describe() gives them (month,
    week 5 = last, weekday 0 = Sunday, local minutes). A zone whose rule saves a negative
    amount (Europe/Dublin: IST in summer is its standard time, GMT in winter its "daylight"
    time) is turned around: winter time is the standard, summer time the daylight saving,
    which is the same clock and the form phones take (their saving fields count upwards).
    """
    if not tz.get("dst_start"):
        return None
    saving = tz["dst_saving_minutes"]
    if saving >= 0:
        return {"offset_minutes": tz["offset_minutes"], "start": tz["dst_start"], "end": tz["dst_end"], "saving_minutes": saving}
    return {"offset_minutes": tz["offset_minutes"] + saving, "start": tz["dst_end"], "end": tz["dst_start"], "saving_minutes": -saving}


def offset_text(minutes, zero="0"):
    """A UTC offset as vendors write it: +1, -5, +5:30, -3:30; zero as given."""
    if not minutes:
        return zero
    hours, rest = divmod(abs(minutes), 60)
    return "%s%d%s" % ("-" if minutes < 0 else "+", hours, ":%02d" % rest if rest else "")


def dst_hours_problem(tz, rule, vendor):
    """Why a rule's change times do not fit a phone's whole-hour 0-23 fields, or None."""
    for name in ("start", "end"):
        minutes = rule[name]["minutes"]
        if minutes % 60 or not 0 <= minutes < 24 * 60:
            return "%s changes daylight saving time at %d:%02d local time (POSIX rule %s); %s's DST fields take whole hours 0-23" % (
                tz["name"],
                int(minutes / 60),
                abs(minutes) % 60,
                tz["posix"],
                vendor,
            )
    return None
