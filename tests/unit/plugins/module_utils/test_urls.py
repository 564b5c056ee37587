from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.pbxops.autoprov.plugins.filter.urls import provisioning_url as url_filter
from ansible_collections.pbxops.autoprov.plugins.module_utils._urls import UrlError, provisioning_url


@pytest.mark.parametrize(
    "base, token, expected",
    [
        ("http://192.0.2.10:8080/", "Zt4pQ9xLm2Rv", "http://192.0.2.10:8080/Zt4pQ9xLm2Rv/"),
        ("http://192.0.2.10:8080", "Zt4pQ9xLm2Rv", "http://192.0.2.10:8080/Zt4pQ9xLm2Rv/"),
        ("HTTPS://pbx.example.net/prov", "Zt4pQ9xLm2Rv", "https://pbx.example.net/prov/Zt4pQ9xLm2Rv/"),
        ("http://[2001:db8::1]:8080/", None, "http://[2001:db8::1]:8080/"),
        ("tftp://192.0.2.10", None, "tftp://192.0.2.10/"),
    ],
)
def test_token_is_the_last_segment(base, token, expected):
    assert provisioning_url(base, token) == expected


def test_credentials_are_quoted_into_the_url_only_when_given():
    assert (
        provisioning_url("http://192.0.2.10/", "Zt4pQ9xLm2Rv", "prov", "p@ss:w/rd")
        == "http://prov:p%40ss%3Aw%2Frd@192.0.2.10/Zt4pQ9xLm2Rv/"
    )


@pytest.mark.parametrize(
    "base, token, message",
    [
        ("ftp:/nohost", None, "is not a provisioning URL"),
        ("gopher://192.0.2.10/", None, "is not a provisioning URL"),
        ("http://u:p@192.0.2.10/", None, "credentials in their own variables"),
        ("http://192.0.2.10/?a=1", None, "no query"),
        ("http://192.0.2.10:99999/", None, "port"),
        ("http://192.0.2.10/", "short", "8-128"),
        ("http://192.0.2.10/", "has/slash-token", "8-128"),
        ("", None, "missing"),
    ],
)
def test_bad_input_says_what_would_be_valid(base, token, message):
    with pytest.raises(UrlError, match=message):
        provisioning_url(base, token)


def test_filter_wraps_errors():
    with pytest.raises(AnsibleFilterError, match="pbxops.autoprov.provisioning_url: "):
        url_filter("nonsense")


def test_the_dhcp_url_has_its_segment_after_the_token_and_nothing_else_is_valid():
    assert provisioning_url("http://192.0.2.10:8080/", "Zt4pQ9xLm2Rv", via="dhcp") == "http://192.0.2.10:8080/Zt4pQ9xLm2Rv/dhcp/"
    assert url_filter("http://192.0.2.10:8080/p", None, via="dhcp") == "http://192.0.2.10:8080/p/dhcp/"
    with pytest.raises(UrlError, match="via: 'rps'; valid: dhcp"):
        provisioning_url("http://192.0.2.10:8080/", "Zt4pQ9xLm2Rv", via="rps")
