"""Basic and Digest (RFC 7616 test vectors, nonce lifetime, replay)."""

from __future__ import annotations

import base64
import hashlib

import pytest

from autoprov_responder import auth
from autoprov_responder.config import AuthConfig, Credentials

MUFASA = Credentials("Mufasa", "Circle of Life")


def only(creds):
    """identify(): this one user name proves this one pair."""
    return lambda user: [("shared", None, creds)] if user == creds.username else []


def verdict(a, header, target="/p/a.cfg", method="GET", creds=MUFASA, **kw):
    return a.check(header, method, target, only(creds), **kw)[0]


def _digest(a, creds, nonce, uri="/dir/index.html", algorithm="SHA-256", nc="00000001", method="GET"):
    h = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}[algorithm]

    def hx(text):
        return h(text.encode()).hexdigest()

    cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
    response = hx(
        ":".join((hx("%s:%s:%s" % (creds.username, a.realm, creds.password)), nonce, nc, cnonce, "auth", hx("%s:%s" % (method, uri))))
    )
    return (
        'Digest username="%s", realm="%s", uri="%s", algorithm=%s, nonce="%s", nc=%s, cnonce="%s", qop=auth, response="%s", opaque="x"'
        % (creds.username, a.realm, uri, algorithm, nonce, nc, cnonce, response)
    )


@pytest.mark.parametrize(
    "algorithm, expected",
    [("MD5", "8ca523f5e9506fed4657c9700eebdbec"), ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1")],
)
def test_rfc7616_vectors(algorithm, expected, monkeypatch):
    """RFC 7616 3.9.1: our computation matches the RFC's responses for its nonce."""
    a = auth.Authenticator("http-auth@example.org")
    monkeypatch.setattr(a, "_nonce_fresh", lambda nonce, source="": True)
    header = _digest(a, MUFASA, "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", algorithm=algorithm)
    assert 'response="%s"' % expected in header
    assert verdict(a, header, "/dir/index.html") == auth.OK


def test_digest_nonces_expire_and_cannot_be_replayed():
    now = [1000000.0]
    a = auth.Authenticator("autoprov", nonce_ttl=300, clock=lambda: now[0])
    nonce = a.challenges()[0].split('nonce="')[1].split('"')[0]
    assert nonce != a.challenges()[0].split('nonce="')[1].split('"')[0]  # unique per challenge
    header = _digest(a, MUFASA, nonce, uri="/p/a.cfg")
    assert verdict(a, header) == auth.OK
    assert verdict(a, header) == auth.FAILED  # same nc again: a replay
    assert verdict(a, _digest(a, MUFASA, nonce, uri="/p/a.cfg", nc="00000002")) == auth.OK
    assert verdict(a, _digest(a, MUFASA, nonce, uri="/p/b.cfg")) == auth.FAILED  # uri must be the target
    assert verdict(a, _digest(a, MUFASA, nonce, uri="/p/a.cfg", method="HEAD", nc="00000003")) == auth.FAILED
    assert verdict(a, _digest(a, Credentials("Mufasa", "x"), nonce, uri="/p/a.cfg", nc="00000004")) == auth.FAILED
    forged = nonce[:-1] + ("0" if nonce[-1] != "0" else "1")
    assert verdict(a, _digest(a, MUFASA, forged, uri="/p/a.cfg")) == auth.FAILED
    now[0] += 301
    assert verdict(a, _digest(a, MUFASA, nonce, uri="/p/a.cfg", nc="00000009")) == auth.STALE
    assert "stale=true" in a.challenges(stale=True)[0]


@pytest.mark.parametrize(
    "header, expected",
    [
        (None, auth.MISSING),
        ("", auth.MISSING),
        ("Basic " + base64.b64encode(b"Mufasa:Circle of Life").decode(), auth.OK),
        ("basic " + base64.b64encode(b"Mufasa:Circle of Life").decode(), auth.OK),
        ("Basic " + base64.b64encode(b"Mufasa:circle of life").decode(), auth.FAILED),
        ("Basic " + base64.b64encode(b"Mufasa").decode(), auth.FAILED),
        ("Basic !!!", auth.FAILED),
        ("Bearer abc", auth.FAILED),
        ('Digest username="Mufasa"', auth.FAILED),
        ("Digest ,,,", auth.FAILED),
        ('Digest username="Mufasa", qop=auth-int, nc=1, cnonce="x", nonce="y", uri="/", response="z", realm="autoprov"', auth.FAILED),
    ],
)
def test_headers(header, expected):
    assert auth.Authenticator("autoprov").check(header, "GET", "/", only(MUFASA))[0] == expected


def test_challenges_offer_sha256_md5_and_basic():
    values = auth.Authenticator("autoprov").challenges()
    assert [v.split()[0] for v in values] == ["Digest", "Digest", "Basic"]
    assert "algorithm=SHA-256" in values[0] and "algorithm=MD5" in values[1] and all('realm="autoprov"' in v for v in values)


def test_a_digest_answer_is_never_replayable_while_its_nonce_is_valid():
    """Before: the count of a nonce was forgotten once 10,000 others were used, and it could be replayed.
    Now counts are kept until the nonce expires; past max_tracked live nonces, new ones are answered stale."""
    now = [1000000.0]
    a = auth.Authenticator("autoprov", nonce_ttl=300, clock=lambda: now[0], max_tracked=12000)

    def fresh():
        return a.challenges(source="192.0.2.7")[0].split('nonce="')[1].split('"')[0]

    first = _digest(a, MUFASA, fresh(), uri="/p/a.cfg")
    assert verdict(a, first, source="192.0.2.7") == auth.OK
    assert verdict(a, first, source="192.0.2.8") == auth.FAILED  # a nonce is bound to the address it was issued to
    for _unused in range(11000):
        assert verdict(a, _digest(a, MUFASA, fresh(), uri="/p/a.cfg"), source="192.0.2.7") == auth.OK
    assert verdict(a, first, source="192.0.2.7") == auth.FAILED  # still a replay
    for _unused in range(1000):
        verdict(a, _digest(a, MUFASA, fresh(), uri="/p/a.cfg"), source="192.0.2.7")
    assert verdict(a, _digest(a, MUFASA, fresh(), uri="/p/a.cfg"), source="192.0.2.7") == auth.STALE  # full: ask again
    assert verdict(a, first, source="192.0.2.7") == auth.FAILED
    now[0] += 301  # all expired: their counts go with them, and room is made
    assert verdict(a, first, source="192.0.2.7") == auth.STALE
    assert verdict(a, _digest(a, MUFASA, fresh(), uri="/p/a.cfg"), source="192.0.2.7") == auth.OK


# --- rotation: the previous PBX-wide pair during its grace window ---------------------------------
NEW = Credentials("phones", "new-secret-2")
OLD = Credentials("phones", "old-secret-1")


def rotated(until=2000000.0):
    return AuthConfig("autoprov", "secret", NEW, {}, previous=OLD, previous_until=until)


def test_the_previous_pair_is_tried_after_the_current_one_until_its_window_ends():
    cfg = rotated()
    assert [i[0] for i in cfg.identify("phones", None, now=1999999.0)] == ["shared", "previous"]
    assert [i[0] for i in cfg.identify("phones", None, now=2000000.0)] == ["shared"]
    assert cfg.identify("someone", None, now=1.0) == []


@pytest.mark.parametrize("scheme", ["basic", "digest"])
def test_a_phone_with_the_old_password_gets_in_inside_the_window_and_not_after(scheme):
    cfg, now = rotated(), [1999990.0]
    a = auth.Authenticator("autoprov", nonce_ttl=300, clock=lambda: now[0])

    def header(creds):
        if scheme == "basic":
            return "Basic " + base64.b64encode(("%s:%s" % (creds.username, creds.password)).encode()).decode()
        nonce = a.challenges()[0].split('nonce="')[1].split('"')[0]
        return _digest(a, creds, nonce, uri="/p/a.cfg")

    def check(creds):
        verdict, identity = a.check(header(creds), "GET", "/p/a.cfg", lambda user: cfg.identify(user, None, now[0]))
        return verdict, identity and identity[0]

    assert check(NEW) == (auth.OK, "shared")
    assert check(OLD) == (auth.OK, "previous")
    now[0] = 2000001.0
    assert check(OLD) == (auth.FAILED, None)
    assert check(NEW) == (auth.OK, "shared")


def test_derived_device_pairs_follow_the_password_and_the_old_ones_last_the_window(tmp_path):
    """auth.derive_device_key: the key is HMAC-SHA256(PBX-wide password, label) (docs/responder.md); a rotation's
    window also lets in each device's pair derived from the replaced password, for that device's files only."""
    import hmac
    import json

    from autoprov_responder import config

    mac, other = "001565aabb01", "001565aabb02"

    def pair(password):
        key = hmac.new(password.encode(), b"pbxops.autoprov device key\0", hashlib.sha256).hexdigest()
        return Credentials(
            mac, hmac.new(key.encode(), b"pbxops.autoprov device password\0" + mac.encode(), hashlib.sha256).hexdigest()[:24]
        )

    path = tmp_path / "responder.json"
    previous = {"password": OLD.password, "until": "2033-05-18T03:33:20Z"}  # epoch 2000000000
    path.write_text(
        json.dumps(
            {
                "root": str(tmp_path),
                "url": "http://192.0.2.10/p/",
                "auth": dict(username="phones", password=NEW.password, derive_device_key=True, previous=previous),
            }
        )
    )
    cfg = config.load(str(path)).auth
    assert cfg.device_credentials(mac).password == pair(NEW.password).password
    inside, after = 1999999999.0, 2000000000.0
    assert [(k, c.password) for k, _m, c in cfg.identify(mac, mac, now=inside)] == [
        ("device", pair(NEW.password).password),
        ("previous", pair(OLD.password).password),
    ]
    assert [k for k, _m, _c in cfg.identify(mac, mac, now=after)] == ["device"]
    assert cfg.identify(mac, other, now=inside) == []  # not another device's file, old pair or new
    explicit = json.loads(path.read_text())
    explicit["auth"]["device_key"] = "an-explicit-key-0123456789"
    path.write_text(json.dumps(explicit))
    cfg = config.load(str(path)).auth
    assert cfg.device_key == "an-explicit-key-0123456789" and cfg.previous_device_key is None  # an explicit key stays
    path.write_text(
        json.dumps({"root": str(tmp_path), "url": "http://192.0.2.10/p/", "auth": {"device_key": "k" * 20, "derive_device_key": True}})
    )
    with pytest.raises(config.ConfigError) as exc:
        config.load(str(path))
    assert "auth.derive_device_key: needs the PBX-wide pair" in str(exc.value)
