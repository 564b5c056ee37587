"""Configuration: defaults, overrides, every problem named with the key and what is valid; --check."""

from __future__ import annotations

import json

import pytest

from autoprov_responder import cli, config


def write(tmp_path, data):
    path = tmp_path / "responder.json"
    path.write_text(json.dumps(data))
    return str(path)


def test_defaults_and_overrides(tmp_path):
    path = write(tmp_path, {"root": str(tmp_path), "url": "http://192.0.2.10:8080/p/Zt4/"})
    c = config.load(path)
    assert c.sip_listen == [("0.0.0.0", 5060)] and c.http_listen == [("0.0.0.0", 8080)] and c.tftp_listen == []
    assert c.url_path == "/p/Zt4/" and c.db == str(tmp_path / "status.sqlite") and c.auth is None and c.ua_check is True
    assert c.lockout == {"misses": 10, "auth_failures": 5, "device_failures": 20, "window": 300, "duration": 900, "max_duration": 86400}
    assert c.pnp_rate == {"per_source": 20, "window": 10, "unknown": 10, "block": 300, "notify": 5, "amplification": 3}
    assert c.provisioning_window == 86400
    c = config.load(path, {"sip_listen": ["10.0.0.1:5070"], "interfaces": ["eth1"], "answer_unknown": True, "http_listen": ["[::]:8081"]})
    assert c.sip_listen == [("10.0.0.1", 5070)] and c.interfaces == ["eth1"] and c.answer_unknown and c.http_listen == [("::", 8081)]


def test_every_problem_is_reported(tmp_path):
    path = write(
        tmp_path,
        {
            "url": "ftp://x/p",
            "sip_listen": ["nonsense", "[::]:5060"],
            "http_listen": ["0.0.0.0:99999"],
            "allow": ["10.0.0.0/33"],
            "auth": {"username": "a:b", "password": "", "per_device": {"xyz": {}}},
            "lockout": {"misses": 0, "extra": 1},
            "https_listen": ["0.0.0.0:8443"],
            "log_level": "loud",
            "bogus": 1,
        },
    )
    with pytest.raises(config.ConfigError) as exc:
        config.load(path)
    text = "\n".join(exc.value.problems)
    for needle in (
        "root: missing",
        "url: 'ftp://x/p' is not an http://",
        "sip_listen: 'nonsense' is not a listen address",
        "sip_listen: [::]:5060: PnP is IPv4",
        "http_listen: '0.0.0.0:99999'",
        "allow: '10.0.0.0/33' is not a CIDR",
        "auth.username",
        "auth.password: must be a non-empty string",
        "auth.per_device: 'xyz' is not a MAC",
        "lockout.misses: must be a number > 0",
        "lockout.extra: unknown key",
        "https_listen: needs tls_cert and tls_key",
        "log_level: 'loud'",
        "bogus: unknown key",
    ):
        assert needle in text, needle


def test_passwords_never_in_messages(tmp_path):
    path = write(tmp_path, {"root": str(tmp_path), "url": "http://u:TopSecret1@192.0.2.1/p", "auth": {"username": "u", "password": 5}})
    with pytest.raises(config.ConfigError) as exc:
        config.load(path)
    assert "TopSecret1" not in str(exc.value) and "url: the path '/p' must end in '/'" in str(exc.value)
    assert config.mask_url("http://u:TopSecret1@h:8/p/") == "http://u:***@h:8/p/"


def test_check_flag(tmp_path, capsys):
    root = tmp_path / "root"
    root.mkdir()
    path = write(tmp_path, {"root": str(root), "url": "http://192.0.2.10:8080/p/", "interfaces": ["no-such-if0"]})
    assert cli.main(["--config", path, "--check"]) == 2
    assert "no interface named 'no-such-if0'" in capsys.readouterr().err
    path = write(
        tmp_path,
        {
            "root": str(root),
            "url": "http://192.0.2.10:8080/p/",
            "https_listen": ["0.0.0.0:8443"],
            "tls_cert": "nope.pem",
            "tls_key": "nope.key",
        },
    )
    assert cli.main(["--config", path, "--check"]) == 2
    assert "tls_cert/tls_key: cannot load" in capsys.readouterr().err
    (root / ".autoprov-manifest.json").write_text('{"format": 1}')
    path = write(tmp_path, {"root": str(root), "url": "http://192.0.2.10:8080/p/"})
    assert cli.main(["--config", path, "--check"]) == 2
    assert "format 1; this responder reads format 2" in capsys.readouterr().err
    (root / ".autoprov-manifest.json").write_text('{"format": 2, "devices": {}, "files": {}, "vendors": {}}')
    assert cli.main(["--config", path, "--check"]) == 0
    assert "configuration OK" in capsys.readouterr().out
    assert cli.main(["--root", str(root), "--url", "http://192.0.2.10/", "--check"]) == 0  # flags alone
    assert cli.main(["--config", str(tmp_path / "missing.json"), "--check"]) == 2


def test_a_rotations_previous_pair_and_its_window(tmp_path):
    base = {"root": str(tmp_path), "url": "http://192.0.2.10:8080/p/Zt4/"}
    auth = {"username": "phones", "password": "new-secret-2", "previous": {"password": "old-secret-1", "until": "2026-12-18T00:00:00Z"}}
    c = config.load(write(tmp_path, dict(base, auth=auth)))
    assert (c.auth.previous.username, c.auth.previous.password) == ("phones", "old-secret-1")  # the user name stays
    assert c.auth.previous_until == 1797552000.0  # 2026-12-18T00:00:00Z
    bad = {"username": "phones", "password": "new-secret-2", "previous": {"password": "old-secret-1", "until": "next week"}}
    with pytest.raises(config.ConfigError) as exc:
        config.load(write(tmp_path, dict(base, auth=bad)))
    assert "auth.previous.until: 'next week'; give the end of the grace window in UTC" in str(exc.value)
    assert "old-secret-1" not in str(exc.value)
    with pytest.raises(config.ConfigError) as exc:
        previous = {"password": "x", "until": "2026-12-18T00:00:00Z"}
        config.load(write(tmp_path, dict(base, auth={"device_key": "k" * 32, "previous": previous})))
    assert "auth.previous: needs the current pair" in str(exc.value)
