# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""dnsmasq backend of dhcp_scope: one drop-in file per subnet, read through one conf-file line.

The user's files get exactly one line, `conf-file=<dropin_dir>/subnet-….conf`,
appended to config_file; everything dhcp_scope says lives in that drop-in.
dnsmasq has no subnet blocks: options reach one subnet through a tag. On a
third-party server we use the `set:` tag the subnet's dhcp-range lines already
carry, else the tag dnsmasq gives every request from the interface that holds
the subnet; when neither is unambiguous we stop and say how to add a tag.

Standard library only: this runs on the DHCP server's host.
"""

from __future__ import annotations

import ipaddress
import json
import os

from ansible_collections.pbxops.autoprov.plugins.module_utils._dhcp.backend import (
    DhcpError,
    FileBackend,
    Plan,
    dropin_name,
    insert_line,
    line_number,
    read_text,
    remove_line,
    tag_name,
)

HEADER = "# Managed by pbxops.autoprov (dhcp_scope) for %s; changes here are overwritten.\n"
# dnsmasq's names for the option codes users also write by name.
_NAMED = {"router": 3, "dns-server": 6, "time-offset": 2, "ntp-server": 42, "tftp-server": 66, "bootfile-name": 67}
_DNSMASQ_TEXTLIKE = set("0123456789abcdefABCDEF.:,/- ")


class Line:
    """One `key=value` line of a dnsmasq config file."""

    def __init__(self, path, start, end, key, value):
        self.path, self.start, self.end, self.key, self.value = path, start, end, key, value

    def where(self, texts):
        return "%s line %d" % (self.path, line_number(texts[self.path], self.start))


def parse_lines(path, text):
    lines, offset = [], 0
    for raw in text.splitlines(True):
        body = raw.rstrip("\n")
        stripped = _strip_comment(body).strip()
        if stripped:
            key, _sep, value = stripped.partition("=")
            lines.append(Line(path, offset, offset + len(body), key.strip(), value.strip()))
        offset += len(raw)
    return lines


def _strip_comment(body):
    """dnsmasq starts a comment at a # that follows whitespace (or starts the line), outside quotes."""
    quoted, white = False, True
    for index, char in enumerate(body):
        if char == '"':
            quoted = not quoted
        elif not quoted and char == "#" and white:
            return body[:index]
        white = char.isspace()
    return body


def _dir_files(spec):
    """The files dnsmasq reads for conf-dir=DIR[,.ext-to-skip][,*.ext-to-read]."""
    directory, *filters = [part.strip() for part in spec.split(",")]
    wanted = [f[1:] for f in filters if f.startswith("*")]
    skipped = [f for f in filters if f and not f.startswith("*")]
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return directory, []
    files = []
    for name in names:
        if name.startswith(".") or name.endswith("~") or (name.startswith("#") and name.endswith("#")):
            continue
        if wanted and not any(name.endswith(s) for s in wanted):
            continue
        if any(name.endswith(s) for s in skipped):
            continue
        path = os.path.join(directory, name)
        if os.path.isfile(path):
            files.append(path)
    return directory, files


def _ipv4(text):
    try:
        return ipaddress.IPv4Address(text.strip())
    except ValueError:
        return None


class Range:
    """A dhcp-range line: the tags it sets, its first address and its netmask (when given)."""

    def __init__(self, line):
        self.line = line
        self.set_tags, self.start, self.netmask = [], None, None
        fields = [f.strip() for f in line.value.split(",")]
        index = 0
        while index < len(fields) and _ipv4(fields[index]) is None:
            field = fields[index]
            if field.startswith(("set:", "net:")):
                self.set_tags.append(field[4:])
            elif not field.startswith("tag:") and ":" not in field:
                self.set_tags.append(field)  # dnsmasq's old form: a bare tag
            index += 1
        if index == len(fields):
            return  # an IPv6 range, or not one we understand
        self.start = _ipv4(fields[index])
        rest = fields[index + 1 :]
        # start,end|mode[,netmask[,broadcast]][,lease time]
        if len(rest) > 1 and (_ipv4(rest[0]) or rest[0] in ("static", "proxy")):
            self.netmask = _ipv4(rest[1])

    def in_subnet(self, network):
        if self.start is None or self.start not in network:
            return False
        return self.netmask is None or str(self.netmask) == str(network.netmask)


def option_value(option):
    """The value part of a dhcp-option line, so that dnsmasq sends the option's exact bytes."""
    kind, value = option["type"], option["value"]
    if kind == "string":
        # dnsmasq guesses the type of unquoted-looking text (digits, addresses, hex): send those as bytes.
        if option["code"] in (66, 67) or not set(value) <= _DNSMASQ_TEXTLIKE:
            return '"%s"' % value
        return _hex(option["hex"])
    if kind == "ipv4-list":
        return ",".join(value)
    return _hex(option["hex"])


def _hex(data):
    if len(data) == 2:  # one byte: dnsmasq reads "xx" alone as text, so give it as a byte-sized number
        return "%db" % int(data, 16)
    return ":".join(data[i : i + 2] for i in range(0, len(data), 2))


def vendor_tag(tag, option):
    return "%s-vc-%s" % (tag, option["vendor_slug"])


class Dnsmasq(FileBackend):
    name = "dnsmasq"
    unit = "dnsmasq"
    default_config = "/etc/dnsmasq.conf"

    def __init__(self, params, scope, runner):
        super().__init__(params, scope, runner)
        default_dir = os.path.join(os.path.dirname(self.config_file), "dnsmasq.pbxops-autoprov")
        self.dropin_dir = os.path.normpath(params.get("dropin_dir") or default_dir)
        self.dropin = os.path.join(self.dropin_dir, dropin_name(scope, ".conf"))
        self.network = ipaddress.ip_network(scope["subnet"])

    def check_argv(self):
        argv = [self.runner.which("dnsmasq") or "dnsmasq", "--test", "--conf-file=%s" % self.config_file]
        return argv + ["--conf-dir=%s" % d for d in self.params.get("config_dirs") or []]

    # -- reading the user's config

    def _read(self):
        """{path: text} and the lines of every config file dnsmasq reads, except our drop-ins."""
        texts, lines, todo = {}, [], [self.config_file]
        for spec in self.params.get("config_dirs") or []:
            directory, files = _dir_files(spec)
            self._refuse_dropin_dir(directory, "config_dirs")
            todo.extend(files)
        while todo:
            path = todo.pop(0)
            if path in texts or os.path.dirname(os.path.normpath(path)) == self.dropin_dir:
                continue
            text = read_text(path)
            if text is None:
                if path == self.config_file:
                    raise DhcpError("the dnsmasq config file %s does not exist" % path)
                continue
            texts[path] = text
            for line in parse_lines(path, text):
                lines.append(line)
                if line.key == "conf-file" and line.value:
                    todo.append(line.value)
                elif line.key == "conf-dir" and line.value:
                    directory, files = _dir_files(line.value)
                    self._refuse_dropin_dir(directory, line.where(texts))
                    todo.extend(files)
        return texts, lines

    def _refuse_dropin_dir(self, directory, where):
        if os.path.normpath(directory) == os.path.normpath(self.dropin_dir):
            raise DhcpError(
                "%s makes dnsmasq read %s, dhcp_scope's dropin_dir, as a conf-dir; our files would be read twice. "
                "Choose another dropin_dir" % (where, self.dropin_dir)
            )

    # -- choosing the tag that scopes options to the subnet

    def _interfaces(self):
        """{interface: [IPv4Interface]} of this host (iproute2's JSON)."""
        rc, out, err = self.runner.run(["ip", "-j", "-4", "addr", "show"])
        if rc != 0:
            raise DhcpError("cannot list this host's interfaces (ip -j -4 addr show): %s" % (err or out).strip())
        found = {}
        for link in json.loads(out or "[]"):
            for info in link.get("addr_info") or []:
                if info.get("family") == "inet":
                    found.setdefault(link["ifname"], []).append(ipaddress.ip_interface("%s/%s" % (info["local"], info["prefixlen"])))
        return found

    def _subnet_tag(self, ranges, all_ranges):
        tags = [set(r.set_tags) for r in ranges]
        common = set.intersection(*tags) if tags else set()
        if common:
            return sorted(common)[0], "the set: tag of the subnet's dhcp-range"
        local = self._interfaces()
        interfaces = [name for name, addrs in local.items() if any(a.network == self.network for a in addrs)]
        if len(interfaces) == 1:
            networks = [a.network for a in local[interfaces[0]]]
            others = [r for r in all_ranges if r.start is not None and r not in ranges and any(r.start in n for n in networks)]
            if not others:
                return interfaces[0], "the interface %s, which holds the subnet" % interfaces[0]
        raise DhcpError(
            "cannot tell requests for %s from others: its dhcp-range has no set: tag, and %s. Give the dhcp-range a tag, "
            "e.g. dhcp-range=set:phones,%s,… (dhcp_scope then uses it)"
            % (
                self.scope["subnet"],
                "no single interface of this host holds only that subnet"
                if len(interfaces) != 1
                else "the interface %s also serves other ranges" % interfaces[0],
                ranges[0].start if ranges else self.scope["network"],
            )
        )

    def _conflicts(self, lines, texts, tag):
        codes = {o["code"] for o in self.scope["options"] if not o["vendor_class"]}
        for line in lines:
            if line.key not in ("dhcp-option", "dhcp-option-force"):
                continue
            fields = [f.strip() for f in line.value.split(",")]
            tags = set()
            while fields and fields[0].startswith(("tag:", "net:")):
                tags.add(fields.pop(0)[4:])
            if not fields or fields[0].startswith(("encap:", "vi-encap:", "vendor:")):
                continue
            name = fields[0][7:] if fields[0].startswith("option:") else fields[0]
            code = int(name) if name.isdigit() else _NAMED.get(name)
            if code in codes and tags == {tag}:
                raise DhcpError(
                    "%s already sets option %d for the tag %s (the subnet %s); dhcp_scope adds its options next to yours "
                    "and does not replace them: remove that line first" % (line.where(texts), code, tag, self.scope["subnet"])
                )

    # -- the drop-in

    def _render(self, tag):
        scope = self.scope
        out = [HEADER % scope["subnet"]]
        if scope["create"]:
            lease = ",%d" % scope["lease_time"] if scope["lease_time"] else ""
            for first, last in scope["pools"]:
                out.append("dhcp-range=set:%s,%s,%s,%s%s\n" % (tag, first, last, scope["netmask"], lease))
            if scope["routers"]:
                out.append("dhcp-option=tag:%s,option:router,%s\n" % (tag, ",".join(scope["routers"])))
            if scope["dns_servers"]:
                out.append("dhcp-option=tag:%s,option:dns-server,%s\n" % (tag, ",".join(scope["dns_servers"])))
        for option in scope["options"]:
            tags = "tag:%s," % tag
            if option["vendor_class"]:
                vtag = vendor_tag(tag_name(scope), option)
                line = "dhcp-vendorclass=set:%s,%s\n" % (vtag, option["vendor_class"])
                if line not in out:
                    out.append(line)
                tags += "tag:%s," % vtag
            out.append("dhcp-option=%s%d,%s\n" % (tags, option["code"], option_value(option)))
        return "".join(out)

    def plan(self):
        texts, lines = self._read()
        main = texts[self.config_file]
        include = "conf-file=%s" % self.dropin
        ours = [line for line in lines if line.key == "conf-file" and os.path.normpath(line.value) == self.dropin]
        old_dropin = read_text(self.dropin)
        plan = Plan()
        if self.scope["state"] == "absent":
            new_main = main
            for line in sorted((x for x in ours if x.path == self.config_file), key=lambda x: -x.start):
                new_main = remove_line(new_main, line.start, line.end)
            plan.set_file(self.config_file, main, new_main)
            plan.set_file(self.dropin, old_dropin, None)
            return plan
        all_ranges = [Range(line) for line in lines if line.key == "dhcp-range"]
        ranges = [r for r in all_ranges if r.in_subnet(self.network)]
        if self.scope["create"]:
            if ranges:
                raise DhcpError(
                    "%s already serves the subnet %s (dhcp-range), and dhcp_scope did not create it; create: true only "
                    "creates new subnets. Use create: false to add the provisioning options to it"
                    % (ranges[0].line.where(texts), self.scope["subnet"])
                )
            tag = tag_name(self.scope)
        else:
            if not ranges:
                raise DhcpError(
                    "no dhcp-range for the subnet %s in %s; with create: false dhcp_scope only adds options to a subnet "
                    "dnsmasq already serves" % (self.scope["subnet"], ", ".join(sorted(texts)))
                )
            tag, why = self._subnet_tag(ranges, all_ranges)
            plan.notes.append("options scoped to %s by %s" % (self.scope["subnet"], why))
            self._conflicts(lines, texts, tag)
        new_main = main if ours else insert_line(main, len(main), include)
        plan.set_file(self.config_file, main, new_main)
        plan.set_file(self.dropin, old_dropin, self._render(tag))
        return plan
