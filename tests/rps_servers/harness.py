"""rps_devices' engine run in-process against a contract server (plain HTTP on loopback): for unit tests."""

from __future__ import annotations

import json

from ansible_collections.pbxops.autoprov.plugins.module_utils._rps import engine

# An address literal (no DNS lookup); TEST-NET, so allow_private_url is set.
URL_A = "https://192.0.2.10/p/Zt4kq/"
URL_B = "https://192.0.2.20:8443/p/Zt4kq/"
URL_PASSWORD = "phones-http-S3cr3t"
PINS = {"7c2f80aa0001": "A1B2", "7c2f80aa0002": "C3D4", "7c2f80aa0009": "E5F6"}

# vendor -> (credentials, api path, two MACs of the vendor, a MAC it refuses, whether HTTP credentials go along)
VENDORS = {
    "snom": ({"key_id": "sraps-key-id", "secret": "sraps-secret-Hk4v"}, "/api/v1", ["000413aa0001", "00087baa0002"], "001565000009", True),
    "fanvil": (
        {"username": "fanvil-user", "password": "fanvil-pass-W3x"},
        "/xmlrpc.php",
        ["0c383eaa0001", "00a859aa0002"],
        "001565000009",
        False,
    ),
    "gigaset": (
        {"username": "gigaset-user", "password": "gigaset-pass-R7n"},
        "/apxml/rpc.do",
        ["7c2f80aa0001", "7c2f80aa0002"],
        "7c2f80aa0009",
        True,
    ),
    "htek": (
        {"username": "htek-user", "password": "htek-pass-M2c"},
        "/index.php/xmlrpc",
        ["001fc1aa0001", "001fc1aa0002"],
        "001565000009",
        True,
    ),
    "poly": ({"api_key": "poly-api-key-T9s"}, "/v1", ["0004f2aa0001", "64167faa0002"], "001565000009", True),
}


def ship_gigaset(fake):
    """The MAC-ID codes Gigaset knows; ...0009 is sold with another code than the one the tests give."""
    fake.shipped.update({mac.upper(): pin for mac, pin in PINS.items()})
    fake.shipped["7C2F80AA0009"] = "ZZZZ"


def params(vendor, fake, macs=None, **options):
    credentials, path, two, _refused, http_auth = VENDORS[vendor]
    macs = two if macs is None else macs
    result = dict(
        vendor=vendor,
        devices=[dict(mac=m, pin=PINS.get(m)) for m in macs],
        url=URL_A,
        url_username="phones" if http_auth else None,
        url_password=URL_PASSWORD if http_auth else None,
        update_password="on_create",
        credentials=dict(credentials),
        api_url=fake.base + path,
        server_name="autoprov",
        state="present",
        validate_certs=True,
        ca_path=None,
        timeout=5.0,
        retries=3,
        retry_backoff=0.01,
        max_retry_wait=1.0,
        allow_private_url=True,
        allow_plain_http=False,
    )
    result.update(options)
    return result


def run(vendor, fake, check_mode=False, macs=None, **options):
    return engine.run(params(vendor, fake, macs, **options), check_mode)


def actions(result):
    return {r["mac"].replace(":", ""): r["action"] for r in result["results"]}


def secrets(vendor):
    credentials = VENDORS[vendor][0]
    return [v for k, v in credentials.items() if k in ("password", "secret", "api_key")] + [URL_PASSWORD] + list(PINS.values())


def leaked(vendor, result):
    """Secrets found anywhere in a result (messages, URLs, diff)."""
    text = json.dumps(result)
    return [s for s in secrets(vendor) if s in text]
