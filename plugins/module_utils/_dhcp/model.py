# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The DHCP scope model shared by every backend of dhcp_scope.

build_scope() checks what a task asks for (with netaddr, on the controller) and
returns a plain dict: the subnet, its pools and the options with their exact
bytes. The backends on the DHCP host only read that dict, so they need nothing
but the Python standard library there.
"""

from __future__ import annotations

import re
from collections import namedtuple
from urllib.parse import urlsplit

try:
    from netaddr import INET_PTON, AddrFormatError, IPAddress, IPNetwork, IPRange

    HAS_NETADDR = True
except ImportError:  # pragma: no cover - reported by the action plugin
    HAS_NETADDR = False

from ansible_collections.pbxops.autoprov.plugins.module_utils import _urls
from ansible_collections.pbxops.autoprov.plugins.module_utils._dhcp.spec import OPTION_TYPES
from ansible_collections.pbxops.autoprov.plugins.module_utils._urls import SCHEMES as _URL_SCHEMES

OptionDef = namedtuple("OptionDef", "code name type")

# The provisioning options dhcp_scope knows by code; other codes need a `type`.
KNOWN_OPTIONS = {
    2: OptionDef(2, "time-offset", "int32"),
    42: OptionDef(42, "ntp-servers", "ipv4-list"),
    43: OptionDef(43, "vendor-encapsulated-options", "hex"),
    66: OptionDef(66, "tftp-server-name", "string"),
    67: OptionDef(67, "boot-file-name", "string"),
    150: OptionDef(150, "tftp-server-address", "ipv4-list"),
    160: OptionDef(160, "provisioning-url-160", "string"),
}
# Codes that hold a URL or a host name: checked like provisioning_url.
URL_OPTIONS = (66, 160)

# Codes a task may not set through `options`, and why.
_PROTOCOL = "is set by the DHCP server itself"
RESERVED_OPTIONS = {
    0: "is the pad byte",
    1: "(subnet mask) follows from subnet",
    3: "(routers) is set with routers when the PBX is the DHCP server (create: true)",
    6: "(DNS servers) is set with dns_servers when the PBX is the DHCP server (create: true)",
    51: "(lease time) is set with lease_time when the PBX is the DHCP server (create: true)",
    255: "is the end marker",
}
RESERVED_OPTIONS.update({code: _PROTOCOL for code in (50, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 81, 82)})

MIN_LEASE_TIME = 120  # dnsmasq raises anything shorter to 2 minutes
MAX_LEASE_TIME = 0xFFFFFFFE
_INT_RANGES = {"uint8": (0, 0xFF, 1), "uint16": (0, 0xFFFF, 2), "uint32": (0, 0xFFFFFFFF, 4), "int32": (-(2**31), 2**31 - 1, 4)}
# Text that every backend can quote without escapes: printable ASCII, no quote or backslash.
_TEXT = re.compile(r"^[\x20-\x7e]+$")
_TEXT_FORBIDDEN = ('"', "\\")
_VENDOR_CLASS = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._:/+()-]{0,63}$")
_HOSTNAME = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$")
_URL_CHARS = re.compile(r"^[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+$")
_HEX = re.compile(r"^[0-9A-Fa-f]{2}([:\s-]?[0-9A-Fa-f]{2})*$")
_CIDR = re.compile(r"^\d{1,3}(\.\d{1,3}){3}/\d{1,2}$")


class ScopeError(ValueError):
    """The task asked for something that is not a valid scope; .problems lists every reason."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


def _ipv4(value):
    """An IPAddress for a dotted-quad IPv4 address, or None."""
    if not isinstance(value, str):
        return None
    try:
        return IPAddress(value.strip(), 4, flags=INET_PTON)
    except (AddrFormatError, ValueError, TypeError):
        return None


def check_host_or_url(value):
    """None when value is a URL (http, https, tftp, ftp, ftps) or a host name / IPv4 address; else the reason."""
    if not isinstance(value, str) or not value:
        return "must be a URL such as http://192.0.2.10:8080/p/TOKEN/ or a host name"
    if len(value) > 255:
        return "is %d characters long; a DHCP option holds at most 255" % len(value)
    if "://" not in value:
        if _ipv4(value) or _HOSTNAME.match(value):
            return None
        return "%r is neither a URL (scheme://host/path) nor a host name or IPv4 address" % value
    if not _URL_CHARS.match(value) or re.search(r"%(?![0-9A-Fa-f]{2})", value):
        return "%r holds characters a URL may not contain (spaces, quotes, backslashes or a bad %%-escape)" % value
    parts = urlsplit(value)
    if parts.scheme.lower() not in _URL_SCHEMES:
        return "%r has the scheme %r; use one of %s" % (value, parts.scheme, ", ".join(_URL_SCHEMES))
    if "@" in parts.netloc:
        return "carries credentials; give them as provisioning_username and provisioning_password (never shown)"
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return "%r has an invalid port" % value
    host = parts.hostname or ""
    if not (_ipv4(host) or _HOSTNAME.match(host) or (parts.netloc.startswith("[") and _valid_ipv6(host))):
        return "%r has no valid host (an IPv4 address or a DNS name)" % value
    return None


def _valid_ipv6(host):
    try:
        IPAddress(host, 6)
        return True
    except (AddrFormatError, ValueError):
        return False


def _check_text(value, where):
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None, "%s: must be a string" % where
    text = str(value)
    if not _TEXT.match(text) or any(c in text for c in _TEXT_FORBIDDEN):
        return None, "%s: %r must be printable ASCII without double quotes or backslashes" % (where, text)
    if len(text.encode("ascii")) > 255:
        return None, "%s: is %d bytes long; a DHCP option holds at most 255" % (where, len(text))
    return text, None


def _encode(code, kind, value, where):
    """(normalised value, hex of the option's bytes) or raise ScopeError."""
    if kind == "string":
        text, problem = _check_text(value, where)
        if problem:
            raise ScopeError([problem])
        if code in URL_OPTIONS:
            problem = check_host_or_url(text)
            if problem:
                raise ScopeError(["%s: %s" % (where, problem)])
        return text, text.encode("ascii").hex()
    if kind == "hex":
        text = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
        if not _HEX.match(text):
            raise ScopeError(["%s: %r is not hex bytes; write e.g. 01:04:c0:a8:00:01 or 0104c0a80001" % (where, value)])
        data = re.sub(r"[:\s-]", "", text).lower()
        if len(data) // 2 > 255:
            raise ScopeError(["%s: %d bytes; a DHCP option holds at most 255" % (where, len(data) // 2)])
        return ":".join(data[i : i + 2] for i in range(0, len(data), 2)), data
    if kind == "ipv4-list":
        items = value if isinstance(value, list) else str(value).split(",")
        addresses = [_ipv4(str(item)) for item in items]
        if not items or any(a is None for a in addresses):
            raise ScopeError(["%s: %r is not a list of IPv4 addresses (e.g. [192.0.2.10, 192.0.2.11])" % (where, value)])
        if len(addresses) > 63:
            raise ScopeError(["%s: %d addresses; a DHCP option holds at most 63" % (where, len(addresses))])
        return [str(a) for a in addresses], "".join("%08x" % int(a) for a in addresses)
    low, high, size = _INT_RANGES[kind]
    try:
        number = int(str(value).strip(), 0) if not isinstance(value, bool) else None
    except ValueError:
        number = None
    if number is None or not low <= number <= high:
        raise ScopeError(["%s: %r is not a %s (%d..%d)" % (where, value, kind, low, high)])
    return number, (number & ((1 << (8 * size)) - 1)).to_bytes(size, "big").hex()


def _parse_option(index, item):
    where = "options[%d]" % index
    code = item.get("code")
    if not isinstance(code, int) or isinstance(code, bool) or not 1 <= code <= 254:
        raise ScopeError(["%s.code: %r is not a DHCP option code (1..254)" % (where, code)])
    where = "%s (option %d)" % (where, code)
    if code in RESERVED_OPTIONS:
        raise ScopeError(["%s: option %d %s; it cannot be set through options" % (where, code, RESERVED_OPTIONS[code])])
    known = KNOWN_OPTIONS.get(code)
    kind = item.get("type")
    if known and kind and kind != known.type:
        raise ScopeError(["%s.type: option %d (%s) is %s, not %s" % (where, code, known.name, known.type, kind)])
    kind = kind or (known.type if known else None)
    if kind is None:
        raise ScopeError(["%s.type: dhcp_scope does not know option %d; give its type, one of %s" % (where, code, ", ".join(OPTION_TYPES))])
    if item.get("value") is None:
        raise ScopeError(["%s.value: missing" % where])
    vendor_class = item.get("vendor_class")
    if vendor_class is not None and not _VENDOR_CLASS.match(vendor_class):
        raise ScopeError(
            [
                "%s.vendor_class: %r must be 1-64 characters: letters, digits, space and . _ : / + ( ) -, "
                "starting with a letter or digit (it is matched against the start of the client's option 60)" % (where, vendor_class)
            ]
        )
    value, data = _encode(code, kind, item["value"], where + ".value")
    return dict(
        code=code,
        name=known.name if known else None,
        type=kind,
        value=value,
        hex=data,
        vendor_class=vendor_class,
        vendor_slug=vendor_slug(vendor_class) if vendor_class else None,
    )


def vendor_slug(vendor_class):
    """The vendor class as part of a tag or class name: letters and digits, the rest as -."""
    return "".join(c if c.isalnum() else "-" for c in vendor_class).strip("-")


def _parse_pool(index, text, network):
    pool, problem = _pool_range(index, text)
    if problem:
        raise ScopeError([problem])
    where = "pools[%d]" % index
    inner_first, inner_last = network.first, network.last
    if network.prefixlen <= 30:  # the network and broadcast addresses are never handed out
        inner_first, inner_last = inner_first + 1, inner_last - 1
    if pool.first < inner_first or pool.last > inner_last:
        raise ScopeError(
            [
                "%s: %s is not inside the subnet %s; valid addresses are %s-%s"
                % (where, _range_text(pool), network, IPAddress(inner_first), IPAddress(inner_last))
            ]
        )
    return pool


def _pool_range(index, text):
    """(IPRange, None) or (None, the problem)."""
    where = "pools[%d]" % index
    try:
        if "/" in text:
            if not _CIDR.match(text.strip()):
                raise ValueError
            block = IPNetwork(text.strip(), 4)
            pool = IPRange(block.first, block.last)
        elif "-" in text:
            start, end = (part.strip() for part in text.split("-", 1))
            first, last = _ipv4(start), _ipv4(end)
            if first is None or last is None:
                raise ValueError
            if first > last:
                return None, "%s: %r starts after it ends" % (where, text)
            pool = IPRange(first, last)
        else:
            raise ValueError
    except (AddrFormatError, ValueError, TypeError):
        return None, "%s: %r is not a pool; write FIRST-LAST (10.0.0.100-10.0.0.199) or a CIDR block in the subnet" % (where, text)
    return pool, None


def _range_text(pool):
    return "%s-%s" % (IPAddress(pool.first), IPAddress(pool.last))


def _parse_subnet(value):
    text = value.strip() if isinstance(value, str) else ""
    try:
        if not _CIDR.match(text):
            raise ValueError
        network = IPNetwork(text, 4)
    except (AddrFormatError, ValueError, TypeError):
        raise ScopeError(["subnet: %r is not an IPv4 subnet in CIDR form such as 192.0.2.0/24" % (value,)])
    if network.ip != network.network:
        raise ScopeError(["subnet: %s has host bits set; did you mean %s?" % (text, network.cidr)])
    if not 8 <= network.prefixlen <= 30:
        raise ScopeError(["subnet: %s: the prefix length must be between /8 and /30" % text])
    return network


def _addresses(field, values, network=None):
    found, problems = [], []
    for index, value in enumerate(values or []):
        address = _ipv4(value)
        if address is None:
            problems.append("%s[%d]: %r is not an IPv4 address" % (field, index, value))
        elif network is not None and (address not in network or address in (network.network, network.broadcast)):
            problems.append("%s[%d]: %s is not a host address of the subnet %s" % (field, index, address, network))
        else:
            found.append(address)
    return found, problems


def _default_pbx_address(provisioning_url, network):
    """The provisioning URL's host when it is an IPv4 address inside the subnet."""
    if not provisioning_url:
        return None
    host = urlsplit(provisioning_url).hostname if "://" in provisioning_url else provisioning_url
    address = _ipv4(host or "")
    return address if address is not None and address in network else None


def build_scope(params):
    """Check the task's parameters and return the scope dict the backends use; raise ScopeError listing every problem."""
    if not HAS_NETADDR:
        raise ScopeError(["the Python library netaddr is missing on the controller (pip install netaddr)"])
    network = _parse_subnet(params.get("subnet"))
    problems = []
    create = bool(params.get("create"))
    present = params.get("state", "present") == "present"
    url = params.get("provisioning_url")
    options = _scope_options(params, url, problems)
    routers, found = _addresses("routers", params.get("routers"), network)
    problems.extend(found)
    dns_servers, found = _addresses("dns_servers", params.get("dns_servers"))
    problems.extend(found)
    pbx_address = _pbx_address(params.get("pbx_address"), url, network, problems)
    pools = _scope_pools(params.get("pools") or [], network, problems)
    problems.extend(_pool_conflicts(pools, routers, pbx_address))
    lease_time = params.get("lease_time")
    if lease_time is not None and not MIN_LEASE_TIME <= lease_time <= MAX_LEASE_TIME:
        problems.append("lease_time: %s seconds; give %d..%d" % (lease_time, MIN_LEASE_TIME, MAX_LEASE_TIME))
    problems.extend(_role_problems(params, network, create, present, url))
    if problems:
        raise ScopeError(problems)
    return dict(
        subnet=str(network.cidr),
        network=str(network.network),
        netmask=str(network.netmask),
        prefixlen=network.prefixlen,
        create=create,
        state="present" if present else "absent",
        pools=[[str(IPAddress(p.first)), str(IPAddress(p.last))] for _i, p in sorted(pools, key=lambda ip: ip[1].first)],
        routers=[str(a) for a in routers],
        dns_servers=[str(a) for a in dns_servers],
        lease_time=lease_time,
        pbx_address=str(pbx_address) if pbx_address is not None else None,
        options=sorted(options, key=lambda o: (o["vendor_class"] is not None, o["vendor_class"] or "", o["code"])),
    )


def _scope_options(params, url, problems):
    """Option 66 from provisioning_url, then the task's options, with their conflicts."""
    options = []
    if url is not None:
        try:
            options.append(_parse_option(-1, dict(code=66, value=url)))
        except ScopeError as exc:
            problems.extend(p.replace("options[-1] (option 66).value", "provisioning_url") for p in exc.problems)
    if params.get("provisioning_username"):
        if url is None or "://" not in url:
            problems.append("provisioning_username: needs provisioning_url to be a URL (the credentials go into it)")
        elif len(_urls.with_credentials(url, params["provisioning_username"], params.get("provisioning_password"))) > 255:
            problems.append("provisioning_url: with the credentials it is longer than the 255 bytes a DHCP option holds")
    for index, item in enumerate(params.get("options") or []):
        try:
            options.append(_parse_option(index, item))
        except ScopeError as exc:
            problems.extend(exc.problems)
    problems.extend(_option_conflicts(options, url is not None))
    return options


def _pbx_address(given, url, network, problems):
    """The PBX's address: as given, else the provisioning URL's host when it is in the subnet."""
    if not given:
        return _default_pbx_address(url, network)
    address = _ipv4(given)
    if address is None:
        problems.append("pbx_address: %r is not an IPv4 address" % given)
    return address


def _scope_pools(texts, network, problems):
    pools = []
    for index, text in enumerate(texts):
        try:
            pools.append((index, _parse_pool(index, text, network)))
        except ScopeError as exc:
            problems.extend(exc.problems)
    return pools


def _role_problems(params, network, create, present, url):
    """What the PBX's role (DHCP server with create, else a guest on a third-party server) allows."""
    problems = []
    if not create:
        for field in ("pools", "routers", "dns_servers", "lease_time"):
            if params.get(field) not in (None, []):
                problems.append(
                    "%s: only with create: true (the PBX is the DHCP server); on a third-party server dhcp_scope "
                    "changes nothing but the provisioning options of the existing subnet" % field
                )
    elif present and not params.get("pools"):
        problems.append("pools: the PBX as DHCP server (create: true) needs at least one pool, e.g. [%s]" % _example_pool(network))
    if present and not create and url is None and not params.get("options"):
        problems.append("provisioning_url or options: nothing to add to the subnet; give provisioning_url (option 66) or options")
    return problems


def _option_conflicts(options, from_url):
    problems, seen, unlimited, limited = [], set(), set(), set()
    for option in options:
        key = (option["code"], option["vendor_class"])
        if key in seen:
            target = "vendor class %r" % option["vendor_class"] if option["vendor_class"] else "every client"
            extra = " (provisioning_url already is option 66)" if option["code"] == 66 and from_url and not option["vendor_class"] else ""
            problems.append("options: option %d is given twice for %s%s" % (option["code"], target, extra))
        seen.add(key)
        (limited if option["vendor_class"] else unlimited).add(option["code"])
    slugs = {}
    for option in options:
        if option["vendor_class"]:
            slugs.setdefault(option["vendor_slug"], set()).add(option["vendor_class"])
    for classes in slugs.values():
        if len(classes) > 1:
            problems.append("options: the vendor classes %s differ only in punctuation; tags are named after them" % sorted(classes))
    for code in sorted(unlimited & limited):
        problems.append(
            "options: option %d is given both for every client and for a vendor class; servers rank these differently "
            "(Kea prefers the subnet's value), so give it either for every client or per vendor class" % code
        )
    return problems


def _pool_conflicts(pools, routers, pbx_address):
    problems = []
    for position, (index, pool) in enumerate(pools):
        for other_index, other in pools[position + 1 :]:
            if pool.first <= other.last and other.first <= pool.last:
                problems.append("pools[%d]: %s overlaps pools[%d] %s" % (index, _range_text(pool), other_index, _range_text(other)))
        for label, address in [("the router", r) for r in routers] + [("the PBX address", pbx_address)]:
            if address is not None and pool.first <= int(address) <= pool.last:
                problems.append("pools[%d]: %s contains %s %s; pools must leave it out" % (index, _range_text(pool), label, address))
    return problems


def _example_pool(network):
    first = network.first + (100 if network.size >= 256 else max(2, network.size // 2))
    last = min(network.last - 1, first + 99)
    return "%s-%s" % (IPAddress(first), IPAddress(last))
