# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one place where a PBX's provisioning URL is built.

PnP NOTIFYs, DHCP option 66, RPS and the files' own resync setting all hand out
the URL built here: the base URL (scheme, host, port, optional path) of the
config host, then the PBX's secret path token as the last segment, so that
rotating the token changes every path at once. HTTP credentials go into the URL
only where a caller asks (vendors that take them there).
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote, urlsplit, urlunsplit

SCHEMES = ("http", "https", "tftp", "ftp", "ftps")
# The path segment after the token in the URL DHCP option 66 hands out: the responder serves the
# same files under it and the status database keeps the path, so `status` can say which phones
# arrived by DHCP (our model: no vendor reads it; phones append their file names to the URL).
DHCP = "dhcp"
VIA = (DHCP,)
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{8,128}$")


class UrlError(ValueError):
    pass


def provisioning_url(base, token=None, username=None, password=None, via=None):
    """base + token + '/' (+ via + '/', one of VIA), optionally with user:password@; raises UrlError
    with what would be valid."""
    if not isinstance(base, str) or not base:
        raise UrlError("the base URL is missing; write e.g. http://192.0.2.10:8080/")
    parts = urlsplit(base.strip())
    if parts.scheme.lower() not in SCHEMES or not parts.hostname:
        raise UrlError("%r is not a provisioning URL; use %s://host[:port][/path/]" % (base, "|".join(SCHEMES)))
    if parts.username or parts.password:
        raise UrlError("put HTTP credentials in their own variables, not in the base URL")
    if parts.query or parts.fragment:
        raise UrlError("%r: a provisioning URL has no query or fragment" % base)
    try:
        port = parts.port
    except ValueError:
        raise UrlError("%r: the port is not a number from 1 to 65535" % base) from None
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    if token:
        if not _TOKEN.match(str(token)):
            raise UrlError("the URL token must be 8-128 letters, digits, '-' or '_' (it is a path segment)")
        path += "%s/" % token
    if via:
        if via not in VIA:
            raise UrlError("via: %r; valid: %s" % (via, ", ".join(sorted(VIA))))
        path += "%s/" % via
    host = parts.hostname
    if ":" in host:
        host = "[%s]" % host
    netloc = host + (":%d" % port if port else "")
    return with_credentials(urlunsplit((parts.scheme.lower(), netloc, path, "", "")), username, password)


def with_credentials(url, username, password):
    """The URL with user:password@ (quoted) in it, for vendors that take HTTP credentials only there."""
    if not username:
        return url
    parts = urlsplit(url)
    userinfo = quote(username, safe="") + (":" + quote(password, safe="") if password else "")
    return urlunsplit((parts.scheme, "%s@%s" % (userinfo, parts.netloc.rpartition("@")[2]), parts.path, parts.query, parts.fragment))


def split_credentials(url):
    """(url without user:password@, username, password), the credentials unquoted; (url, None, None) without."""
    if not url:
        return url, None, None
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, None, None
    bare = urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, parts.query, parts.fragment))
    username = unquote(parts.username) if parts.username is not None else None
    password = unquote(parts.password) if parts.password is not None else None
    return bare, username, password
