"""Every backend but Yealink through rps_devices' engine, in-process against its contract server (docs/rps.md).

Register, rerun, change the URL, unregister; a MAC of another account and a MAC the
vendor refuses fail by MAC while the others go through; 429, 5xx and stalls are
retried; no secret appears in a result.
"""

from __future__ import annotations

import pytest
from rps_servers import harness
from rps_servers.fanvil import FanvilFake
from rps_servers.gigaset import GigasetFake
from rps_servers.htek import HtekFake
from rps_servers.poly import PolyFake
from rps_servers.snom import SnomFake

FAKES = {"snom": SnomFake, "fanvil": FanvilFake, "gigaset": GigasetFake, "htek": HtekFake, "poly": PolyFake}
# What a run may send without changing anything at the vendor.
READ_CALLS = {
    "fanvil": {"redirect.checkDevice"},
    "gigaset": {"autoprov.checkDevice"},
    "htek": {"redirect.checkDevice", "redirect.listDevices"},
}


@pytest.fixture(params=sorted(FAKES))
def vendor_fake(request):
    fake = FAKES[request.param]()
    if request.param == "gigaset":
        harness.ship_gigaset(fake)
    yield request.param, fake
    fake.close()


def writes(vendor, fake):
    """The requests that changed something at the vendor, since the last clear()."""
    if vendor in READ_CALLS:
        return [c for c in fake.calls if c not in READ_CALLS[vendor]]
    return [entry for entry in fake.log if entry[0] != "GET"]


def clear(fake):
    del fake.log[:], fake.calls[:]


def test_register_rerun_change_unregister(vendor_fake):
    vendor, fake = vendor_fake
    macs = harness.VENDORS[vendor][2]
    first = harness.run(vendor, fake)
    assert first["changed"] and set(harness.actions(first).values()) == {"registered"}, first
    assert all(harness.URL_A.split("//")[1] in fake.url_of(m) for m in macs)

    clear(fake)
    again = harness.run(vendor, fake)
    if vendor == "gigaset":  # its service shows that a MAC is ours, not where it points
        assert set(harness.actions(again).values()) == {"updated"} and "not its URL" in again["results"][0]["message"]
        assert "autoprov.registerDevice" in writes(vendor, fake)
    else:
        assert not again["changed"] and set(harness.actions(again).values()) == {"unchanged"}
        assert writes(vendor, fake) == []

    clear(fake)
    preview = harness.run(vendor, fake, check_mode=True, url=harness.URL_B)
    # Check mode sends nothing at all (not even a lookup) and says what a real run would call.
    assert set(harness.actions(preview).values()) == {"not_checked"} and not preview["changed"]
    assert fake.log == [] and fake.calls == [] and preview["api_stats"]["requests"] == 0
    assert preview["calls"] == ["look up %d MAC(s)" % len(macs), "register or re-point those that differ"]
    assert "nothing was sent to the" in preview["msg"] and fake.base in preview["msg"]
    moved = harness.run(vendor, fake, url=harness.URL_B)
    assert set(harness.actions(moved).values()) == {"updated"}
    assert all(harness.URL_B.split("//")[1] in fake.url_of(m) for m in macs)
    assert harness.leaked(vendor, first) == harness.leaked(vendor, moved) == []

    gone = harness.run(vendor, fake, state="absent", url=None, url_username=None, url_password=None)
    assert set(harness.actions(gone).values()) == {"unregistered"}
    assert all(fake.url_of(m) is None for m in macs)
    clear(fake)
    still_gone = harness.run(vendor, fake, state="absent", url=None, url_username=None, url_password=None)
    assert not still_gone["changed"] and writes(vendor, fake) == []


WORDS = {
    "snom": ("taken_mac_or_forbidden", "is not a Snom MAC address"),
    "fanvil": ("Error: device_had_existed", "Error: mac_format_error"),
    "gigaset": ("mac_already_in_use:7C2F80AA0002", "mac_not_exist:7C2F80AA0009"),
    "htek": ("registered elsewhere", "Error:Invalid MAC"),
    "poly": ("registered with a different Poly ZTP account (HTTP 409)", "not a Poly device"),
}


def test_foreign_and_refused_macs_fail_by_mac_after_retries(vendor_fake):
    vendor, fake = vendor_fake
    good, foreign = harness.VENDORS[vendor][2]
    refused = harness.VENDORS[vendor][3]
    fake.give_to_other_account(foreign)
    fake.fail_next(429, 500, 503, retry_after=0)
    result = harness.run(vendor, fake, macs=[good, foreign, refused])
    assert result["failed"] and harness.actions(result) == {good: "registered", foreign: "failed", refused: "failed"}
    messages = {r["mac"].replace(":", ""): r["message"] for r in result["results"]}
    assert WORDS[vendor][0] in messages[foreign] and WORDS[vendor][1] in messages[refused], messages
    assert fake.url_of(good) and fake.url_of(foreign) is None
    assert result["api_stats"]["throttled"] == 1 and result["api_stats"]["server_errors"] == 2
    assert harness.leaked(vendor, result) == []


def test_stalled_service_is_retried_then_reported(vendor_fake):
    vendor, fake = vendor_fake
    fake.stall_next(1)
    recovered = harness.run(vendor, fake, timeout=0.3, retries=1)
    assert set(harness.actions(recovered).values()) == {"registered"} and recovered["api_stats"]["timeouts"] == 1
    fake.stall_next(2)
    stalled = harness.run(vendor, fake, timeout=0.3, retries=1)
    assert stalled["failed"] and "no answer within 0.3s, 2 attempts" in stalled["msg"]


def test_bad_account_fails_the_whole_task_without_secrets(vendor_fake):
    vendor, fake = vendor_fake
    credentials = {k: v + "-wrong" for k, v in harness.VENDORS[vendor][0].items()}
    result = harness.run(vendor, fake, credentials=credentials)
    assert result["failed"] and result["results"] == [] and "401" in result["msg"], result
    assert not [credentials[k] for k in ("password", "secret", "api_key") if credentials.get(k, "@") in result["msg"]]


def test_a_device_key_puts_each_devices_own_pair_into_the_vendors_that_keep_a_url_per_mac(vendor_fake):
    """Snom (one setting_server URL per endpoint) and Gigaset (registerDevice takes each MAC's URL) get each MAC's
    own pair (docs/responder.md, auth.device_key); vendors whose MACs share a server record keep the PBX-wide one."""
    import hashlib
    import hmac
    from urllib.parse import urlsplit

    vendor, fake = vendor_fake
    if not harness.VENDORS[vendor][4]:
        pytest.skip("%s's records carry no HTTP credentials" % vendor)
    key, macs = "rps-device-key-0123456789", harness.VENDORS[vendor][2]

    def own(mac):
        return hmac.new(key.encode(), b"pbxops.autoprov device password\0" + mac.encode(), hashlib.sha256).hexdigest()[:24]

    first = harness.run(vendor, fake, device_key=key)
    assert set(harness.actions(first).values()) == {"registered"}, first
    text = repr(first)
    assert key not in text and not any(own(m) in text for m in macs) and harness.leaked(vendor, first) == []
    for mac in macs:
        stored = fake.url_of(mac)
        if vendor in ("snom", "gigaset"):
            parts = urlsplit(stored)
            assert (parts.username, parts.password) == (mac, own(mac)), stored
        else:
            assert own(mac) not in repr(stored) and mac + ":" not in repr(stored)
    if vendor != "gigaset":  # Gigaset shows that a MAC is ours, not where it points: it is pointed again each run
        clear(fake)
        again = harness.run(vendor, fake, device_key=key)
        assert set(harness.actions(again).values()) == {"unchanged"} and writes(vendor, fake) == []
    derived = harness.run(vendor, fake, derive_device_key=True)  # the key of the PBX-wide password: a new pair
    expected = {"snom": "updated", "gigaset": "updated"}.get(vendor, "unchanged")
    assert set(harness.actions(derived).values()) == {expected}, derived


def test_a_short_device_key_is_refused_before_any_call_and_never_shown():
    fake = FAKES["snom"]()
    try:
        with pytest.raises(harness.engine.InputError) as exc:
            harness.run("snom", fake, device_key="Sh0rt-k3y")
        assert "device_key: shorter than 16 characters" in str(exc.value) and "Sh0rt-k3y" not in str(exc.value)
        assert fake.log == []
    finally:
        fake.close()
