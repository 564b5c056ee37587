# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ISC dhcpd backend of dhcp_scope: one managed include per subnet, in one include line.

dhcpd scopes options by block: an option for one subnet must be written inside
that subnet's `{ }`, and an include statement is read where it stands. So on a
third-party server the one line we add to the user's files is
`include "<dropin_dir>/subnet-….conf";` just before the subnet's closing
brace; the drop-in holds the options (vendor-limited ones inside `if` blocks).
When the PBX is the server, the include goes at the end of config_file and the
drop-in holds the whole subnet declaration. Statements written later in a
scope win in dhcpd; we refuse to shadow an option the subnet sets itself.

Standard library only: this runs on the DHCP server's host.
"""

from __future__ import annotations

import ipaddress
import os
import re

from ansible_collections.pbxops.autoprov.plugins.module_utils._dhcp.backend import (
    DhcpError,
    FileBackend,
    Plan,
    dropin_name,
    insert_line,
    line_bounds,
    line_number,
    read_text,
    remove_line,
)

HEADER = "# Managed by pbxops.autoprov (dhcp_scope) for %s; changes here are overwritten.\n"
DHCPD_NAMES = {
    2: "time-offset",
    42: "ntp-servers",
    43: "vendor-encapsulated-options",
    66: "tftp-server-name",
    67: "bootfile-name",
    150: "tftp-server-address",
    160: "v4-captive-portal",
}
_KNOWN_CODES = {name: code for code, name in DHCPD_NAMES.items()}
_KNOWN_CODES.update({"routers": 3, "domain-name-servers": 6})
_SECRET = re.compile(r'(\bsecret\s+)("(?:[^"\\]|\\.)*"|[^\s;]+)')
_TOKEN = re.compile(r'\s+|#[^\n]*|"(?:[^"\\]|\\.)*"|[{};]|[^\s{};"#]+')


class Token:
    __slots__ = ("text", "start", "end")

    def __init__(self, text, start, end):
        self.text, self.start, self.end = text, start, end


class Stmt:
    """A dhcpd statement: its words, its span in its file and, for `… { }`, the statements inside."""

    def __init__(self, path, words, start, end, block=None, open_at=None, close_at=None):
        self.path, self.words, self.start, self.end = path, words, start, end
        self.block, self.open_at, self.close_at = block, open_at, close_at
        self.included = None  # statements of the file an include statement reads

    def word(self, index):
        return self.words[index].text if index < len(self.words) else None


def tokenize(path, text):
    tokens, pos = [], 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match:
            raise DhcpError("%s line %d: cannot read %r" % (path, line_number(text, pos), text[pos : pos + 20]))
        word = match.group(0)
        if not word[0].isspace() and word[0] != "#":
            tokens.append(Token(word, pos, match.end()))
        pos = match.end()
    return tokens


def parse(path, text):
    tokens = tokenize(path, text)
    statements, index = _block(path, text, tokens, 0)
    if index < len(tokens):
        raise DhcpError("%s line %d: unexpected }" % (path, line_number(text, tokens[index].start)))
    return statements


def _block(path, text, tokens, index):
    statements, words = [], []
    while index < len(tokens):
        token = tokens[index]
        if token.text == "}":
            break
        if token.text == ";":
            statements.append(Stmt(path, words, (words[0] if words else token).start, token.end))
            words = []
        elif token.text == "{":
            inner, close = _block(path, text, tokens, index + 1)
            if close >= len(tokens):
                raise DhcpError("%s line %d: block not closed" % (path, line_number(text, token.start)))
            start = words[0].start if words else token.start
            statements.append(Stmt(path, words, start, tokens[close].end, inner, token.start, tokens[close].start))
            words, index = [], close
        else:
            words.append(token)
        index += 1
    if words:
        raise DhcpError("%s line %d: statement without ;" % (path, line_number(text, words[0].start)))
    return statements, index


def _unquote(text):
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text


def walk(statements):
    """Every statement, depth first, with the statements of included files where the include stands."""
    for stmt in statements:
        yield stmt
        if stmt.block:
            yield from walk(stmt.block)
        if stmt.included:
            yield from walk(stmt.included)


def option_line(option):
    name = DHCPD_NAMES.get(option["code"], "unknown-%d" % option["code"])
    kind, value = option["type"], option["value"]
    if kind == "string":
        text = '"%s"' % value
    elif kind == "ipv4-list" and option["code"] in DHCPD_NAMES:
        text = ", ".join(value)
    elif kind in ("uint8", "uint16", "uint32", "int32") and option["code"] in DHCPD_NAMES:
        text = str(value)
    else:  # codes dhcpd does not know take bytes
        text = ":".join(option["hex"][i : i + 2] for i in range(0, len(option["hex"]), 2))
    return "option %s %s;" % (name, text)


def mask_secrets(text):
    """The config text with TSIG key secrets (key { secret …; }) hidden."""
    return _SECRET.sub(r'\1"********"', text)


def vendor_condition(vendor_class):
    return 'if substring(option vendor-class-identifier, 0, %d) = "%s" {' % (len(vendor_class), vendor_class)


class IscDhcpd(FileBackend):
    name = "isc_dhcpd"
    unit = "isc-dhcp-server"
    default_config = "/etc/dhcp/dhcpd.conf"

    def __init__(self, params, scope, runner):
        super().__init__(params, scope, runner)
        self.dropin_dir = os.path.normpath(params.get("dropin_dir") or os.path.join(os.path.dirname(self.config_file), "pbxops-autoprov"))
        self.dropin = os.path.join(self.dropin_dir, dropin_name(scope, ".conf"))
        self.network = ipaddress.ip_network(scope["subnet"])

    def check_argv(self):
        return [self.runner.which("dhcpd") or "dhcpd", "-t", "-4", "-cf", self.config_file]

    def _read(self, path, texts, seen=()):
        text = read_text(path)
        if text is None:
            if path == self.config_file:
                raise DhcpError("the dhcpd config file %s does not exist" % path)
            raise DhcpError("%s is included by the dhcpd config but does not exist" % path)
        texts[path] = text
        statements = parse(path, text)
        for stmt in walk(statements):
            if stmt.word(0) == "include" and len(stmt.words) == 2 and stmt.block is None:
                target = _unquote(stmt.word(1))
                if not os.path.isabs(target):
                    target = os.path.join(os.path.dirname(self.config_file), target)
                if os.path.dirname(os.path.normpath(target)) == os.path.normpath(self.dropin_dir) or target in seen:
                    continue
                stmt.included = self._read(target, texts, tuple(seen) + (path,))
        return statements

    def _subnet(self, statements):
        for stmt in walk(statements):
            if stmt.word(0) == "subnet" and stmt.word(2) == "netmask" and stmt.block is not None:
                try:
                    network = ipaddress.ip_network("%s/%s" % (stmt.word(1), stmt.word(3)), strict=False)
                except ValueError:
                    continue
                if network == self.network:
                    return stmt
        return None

    def _ours(self, statements):
        return [
            s
            for s in walk(statements)
            if s.word(0) == "include" and len(s.words) == 2 and os.path.normpath(_unquote(s.word(1))) == os.path.normpath(self.dropin)
        ]

    def _conflicts(self, statements, subnet, texts):
        codes = dict(_KNOWN_CODES)
        for stmt in walk(statements):  # option NAME code N = TYPE;
            if stmt.word(0) == "option" and stmt.word(2) == "code" and (stmt.word(3) or "").isdigit():
                codes[stmt.word(1)] = int(stmt.word(3))
        wanted = {o["code"] for o in self.scope["options"] if not o["vendor_class"]}
        for stmt in subnet.block:
            if stmt.word(0) != "option" or stmt.word(2) == "code" or not stmt.word(1):
                continue
            name = stmt.word(1).split(".", 1)[-1]
            code = int(name[8:]) if re.match(r"^unknown-\d+$", name) else codes.get(name)
            if code in wanted:
                raise DhcpError(
                    "%s line %d: the subnet %s already sets option %d (%s) itself; dhcp_scope adds its options next to "
                    "the subnet's own and does not replace them: remove that line first"
                    % (stmt.path, line_number(texts[stmt.path], stmt.start), self.scope["subnet"], code, name)
                )

    def _options_text(self, indent):
        out, vendor = [], None
        for option in self.scope["options"]:
            if option["vendor_class"] != vendor:
                if vendor is not None:
                    out.append(indent + "}\n")
                vendor = option["vendor_class"]
                if vendor is not None:
                    out.append(indent + vendor_condition(vendor) + "\n")
            out.append(indent + ("  " if vendor else "") + option_line(option) + "\n")
        if vendor is not None:
            out.append(indent + "}\n")
        return "".join(out)

    def _render(self):
        scope = self.scope
        if not scope["create"]:
            return HEADER % scope["subnet"] + "# Included inside the subnet's block.\n" + self._options_text("")
        out = [HEADER % scope["subnet"], "subnet %s netmask %s {\n" % (scope["network"], scope["netmask"])]
        out.extend("  range %s %s;\n" % (first, last) for first, last in scope["pools"])
        if scope["routers"]:
            out.append("  option routers %s;\n" % ", ".join(scope["routers"]))
        if scope["dns_servers"]:
            out.append("  option domain-name-servers %s;\n" % ", ".join(scope["dns_servers"]))
        if scope["lease_time"]:
            out.append("  default-lease-time %d;\n  max-lease-time %d;\n" % (scope["lease_time"], scope["lease_time"]))
        out.append(self._options_text("  "))
        out.append("}\n")
        return "".join(out)

    def plan(self):
        texts = {}
        statements = self._read(self.config_file, texts)
        include = 'include "%s";' % self.dropin
        ours = self._ours(statements)
        new = dict(texts)
        plan = Plan(mask=mask_secrets)
        old_dropin = read_text(self.dropin)
        if self.scope["state"] == "absent":
            for stmt in sorted(ours, key=lambda s: -s.start):
                new[stmt.path] = _remove_include(new[stmt.path], stmt)
            dropin = None
        else:
            subnet = self._subnet(statements)
            if self.scope["create"]:
                if subnet is not None:
                    raise DhcpError(
                        "%s line %d declares the subnet %s, and dhcp_scope did not create it; create: true only creates "
                        "new subnets. Use create: false to add the provisioning options to it"
                        % (subnet.path, line_number(texts[subnet.path], subnet.start), self.scope["subnet"])
                    )
                if not ours:
                    new[self.config_file] = insert_line(texts[self.config_file], len(texts[self.config_file]), include)
            else:
                if subnet is None:
                    raise DhcpError(
                        "no subnet %s netmask %s { } in %s; with create: false dhcp_scope only adds options to a subnet "
                        "dhcpd already serves" % (self.scope["network"], self.scope["netmask"], ", ".join(sorted(texts)))
                    )
                self._conflicts(statements, subnet, texts)
                if not ours:
                    new[subnet.path] = _insert_in_block(texts[subnet.path], subnet, include)
            dropin = self._render()
        for path in texts:
            plan.set_file(path, texts[path], new[path])
        plan.set_file(self.dropin, old_dropin, dropin)
        return plan


def _insert_in_block(text, block, include):
    """Put the include just before the block's closing brace: on a line of its own, or inline when the brace shares its line."""
    start, _end = line_bounds(text, block.close_at)
    if text[start : block.close_at].strip():
        return text[: block.close_at] + include + " " + text[block.close_at :]
    indent = None
    for stmt in block.block:
        line_start = line_bounds(text, stmt.start)[0]
        if not text[line_start : stmt.start].strip():
            indent = text[line_start : stmt.start]
    if indent is None:
        indent = text[start : block.close_at] + "  "
    return insert_line(text, start, indent + include)


def _remove_include(text, stmt):
    """Undo _insert_in_block / the top-level insert_line exactly."""
    start, end = line_bounds(text, stmt.start)
    if not text[start : stmt.start].strip() and not text[stmt.end : end].strip():
        return remove_line(text, start, end)
    stop = stmt.end + 1 if text[stmt.end : stmt.end + 1] == " " else stmt.end
    return text[: stmt.start] + text[stop:]
