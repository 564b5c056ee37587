# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Edit a Kea config file in place, keeping every comment, include and blank line.

Kea reads JSON with `//`, `#` and `/* */` comments and `<?include "file"?>`
directives. A JSON parser would drop all of that, so this module parses the
text into nodes that remember where they start and end (file and offset) and
changes only the bytes of the elements dhcp_scope owns: replace_owned() below
inserts or removes whole array elements (and, when it created it, the array's
key), so that removing them later gives back the file byte for byte.

Standard library only: this runs on the DHCP server's host.
"""

from __future__ import annotations

import json
import os
import re

_INCLUDE = re.compile(r'<\?include\s+"([^"]*)"\s*\?>')
_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_STRING = re.compile(r'"(?:[^"\\\x00-\x1f]|\\(?:["\\/bfnrt]|u[0-9A-Fa-f]{4}))*"')
_LITERALS = {"true": True, "false": False, "null": None}


class JsoncError(ValueError):
    pass


class Token:
    __slots__ = ("kind", "value", "path", "start", "end")

    def __init__(self, kind, value, path, start, end):
        self.kind, self.value, self.path, self.start, self.end = kind, value, path, start, end


class Node:
    """A JSON value with its position: first and last token (each knows its file)."""

    def __init__(self, kind, value, first, last):
        self.kind = kind  # object, array, scalar
        self.value = value  # the Python value
        self.first = first
        self.last = last
        self.members = []  # object: (key, key token, Node)
        self.items = []  # array: Node


def _tokens(texts, path, seen):
    text = texts[path]
    pos, size = 0, len(text)
    while pos < size:
        char = text[pos]
        if char in " \t\r\n":
            pos += 1
        elif text.startswith("//", pos) or char == "#":
            end = text.find("\n", pos)
            pos = size if end < 0 else end
        elif text.startswith("/*", pos):
            end = text.find("*/", pos + 2)
            if end < 0:
                raise JsoncError("%s line %d: comment not closed" % (path, text.count("\n", 0, pos) + 1))
            pos = end + 2
        elif text.startswith("<?", pos):
            match = _INCLUDE.match(text, pos)
            if not match:
                raise JsoncError("%s line %d: unknown <? directive" % (path, text.count("\n", 0, pos) + 1))
            target = resolve_include(path, match.group(1))
            if target in seen:
                raise JsoncError("%s: include loop through %s" % (path, target))
            if target not in texts:
                raise JsoncError("%s line %d: included file %s is missing" % (path, text.count("\n", 0, pos) + 1, target))
            yield from _tokens(texts, target, seen | {target})
            pos = match.end()
        elif char in "{}[]:,":
            yield Token(char, char, path, pos, pos + 1)
            pos += 1
        elif char == '"':
            match = _STRING.match(text, pos)
            if not match:
                raise JsoncError("%s line %d: bad string" % (path, text.count("\n", 0, pos) + 1))
            yield Token("scalar", json.loads(match.group(0)), path, pos, match.end())
            pos = match.end()
        else:
            match = _NUMBER.match(text, pos)
            word = re.match(r"[a-z]+", text[pos:])
            if match and match.end() > pos:
                yield Token("scalar", json.loads(match.group(0)), path, pos, match.end())
                pos = match.end()
            elif word and word.group(0) in _LITERALS:
                yield Token("scalar", _LITERALS[word.group(0)], path, pos, pos + len(word.group(0)))
                pos += len(word.group(0))
            else:
                raise JsoncError("%s line %d: unexpected %r" % (path, text.count("\n", 0, pos) + 1, text[pos : pos + 20]))


def resolve_include(including, target):
    """Kea include paths; relative ones are taken from the including file's directory."""
    return target if os.path.isabs(target) else os.path.normpath(os.path.join(os.path.dirname(including), target))


def include_targets(text, path):
    """The files a Kea config text includes (to load them before parsing)."""
    return [resolve_include(path, m.group(1)) for m in _INCLUDE.finditer(text)]


class _Parser:
    def __init__(self, tokens):
        self.tokens = list(tokens)
        self.pos = 0

    def _take(self, kind=None):
        if self.pos >= len(self.tokens):
            raise JsoncError("unexpected end of the config")
        token = self.tokens[self.pos]
        if kind and token.kind != kind:
            raise JsoncError("%s: expected %r at offset %d, found %r" % (token.path, kind, token.start, token.value))
        self.pos += 1
        return token

    def _peek(self):
        return self.tokens[self.pos].kind if self.pos < len(self.tokens) else None

    def value(self):
        token = self._take()
        if token.kind == "scalar":
            return Node("scalar", token.value, token, token)
        if token.kind == "{":
            node = Node("object", {}, token, None)
            while self._peek() != "}":
                key = self._take("scalar")
                if not isinstance(key.value, str):
                    raise JsoncError("%s: object key at offset %d is not a string" % (key.path, key.start))
                self._take(":")
                child = self.value()
                node.members.append((key.value, key, child))
                node.value[key.value] = child.value
                if self._peek() == ",":
                    self._take(",")
                elif self._peek() != "}":
                    raise JsoncError("%s: expected , or } after offset %d" % (child.last.path, child.last.end))
            node.last = self._take("}")
            return node
        if token.kind == "[":
            node = Node("array", [], token, None)
            while self._peek() != "]":
                child = self.value()
                node.items.append(child)
                node.value.append(child.value)
                if self._peek() == ",":
                    self._take(",")
                elif self._peek() != "]":
                    raise JsoncError("%s: expected , or ] after offset %d" % (child.last.path, child.last.end))
            node.last = self._take("]")
            return node
        raise JsoncError("%s: unexpected %r at offset %d" % (token.path, token.value, token.start))


def parse(texts, path):
    """The root Node of the config in texts[path] (texts holds every included file too)."""
    parser = _Parser(_tokens(texts, path, {path}))
    root = parser.value()
    if parser.pos != len(parser.tokens):
        extra = parser.tokens[parser.pos]
        raise JsoncError("%s: text after the end of the config at offset %d" % (extra.path, extra.start))
    return root


def _line_start(text, offset):
    return text.rfind("\n", 0, offset) + 1


def _indent_of(text, offset):
    start = _line_start(text, offset)
    return re.match(r"[ \t]*", text[start:]).group(0)


def _starts_line(text, offset):
    return text[_line_start(text, offset) : offset].strip() == ""


def indent_unit(text):
    """The file's indentation step: the smallest leading indentation of any line (2 when there is none)."""
    widths = [len(m.group(1)) for m in re.finditer(r"\n( +)\S", text)]
    return min(widths) if widths else 2


def render(value, indent, unit, compact=False):
    """JSON for value, laid out like the file: nested lines indented from `indent` by `unit` spaces, or on one line."""
    if compact:
        return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    text = json.dumps(value, indent=unit, ensure_ascii=False)
    return text.replace("\n", "\n" + indent)


class TextDoc:
    """A Kea config (main file plus its includes) that dhcp_scope edits in place."""

    def __init__(self, texts, path):
        self.texts = dict(texts)
        self.path = path
        self.root = parse(self.texts, path)

    def value(self):
        return self.root.value

    def _node(self, path):
        node = self.root
        for step in path:
            if isinstance(step, int):
                node = node.items[step]
            else:
                node = next((child for key, _tok, child in node.members if key == step), None)
                if node is None:
                    return None
        return node

    def _edit(self, path, start, end, replacement):
        text = self.texts[path]
        self.texts[path] = text[:start] + replacement + text[end:]

    def _reparse(self):
        self.root = parse(self.texts, self.path)

    def replace_owned(self, container_path, key, owned, wanted, remove_key_if_empty, same=None, compact=False):
        """Make the elements of container[key] for which owned() holds equal to `wanted`.

        Other elements keep their bytes. New elements go where the owned ones
        were, else after the last element. A missing key is created; it is
        removed again when it ends up empty and remove_key_if_empty is true.
        Nothing is touched when same(owned elements, wanted) holds (default: ==).
        compact: write each new element on one line.
        """
        container = self._node(container_path)
        if container is None or container.kind != "object":
            raise JsoncError("%s is not an object in the config" % "/".join(map(str, container_path)))
        member = next(((k, tok, child) for k, tok, child in container.members if k == key), None)
        if member is None:
            if wanted:
                self._create_member(container, key, wanted, compact)
                self._reparse()
            return
        array = member[2]
        if array.kind != "array":
            raise JsoncError("%s/%s is not a list in the config" % ("/".join(map(str, container_path)), key))
        runs = _owned_runs(array, owned)
        if (same or _equal)([item.value for run in runs for item in run], wanted):
            return
        keep_count = len(array.items) - sum(len(run) for run in runs)
        if keep_count == 0 and not wanted and remove_key_if_empty:
            self._remove_member(container, member)
            self._reparse()
            return
        at = runs[0][0] if runs else None
        position = array.items.index(at) if at is not None else None
        for run in reversed(runs):
            self._remove_run(array, run)
        self._reparse()
        if wanted:
            array = self._node(list(container_path) + [key])
            if position is None:
                position = len(array.items)
            self._insert_items(array, position, wanted, compact)
            self._reparse()

    def _create_member(self, container, key, wanted, compact):
        unit = indent_unit(self.texts[container.first.path])
        if container.members:
            last = container.members[-1][2].last
            text = self.texts[last.path]
            indent = _indent_of(text, container.members[-1][1].start)
            body = json.dumps(key) + ": " + _render_list(wanted, indent, unit, compact)
            self._edit(last.path, last.end, last.end, ",\n" + indent + body)
        else:
            text = self.texts[container.first.path]
            indent = _indent_of(text, container.first.start) + " " * unit
            body = json.dumps(key) + ": " + _render_list(wanted, indent, unit, compact)
            self._edit(container.first.path, container.first.end, container.first.end, "\n" + indent + body)

    def _remove_member(self, container, member):
        index = next(i for i, m in enumerate(container.members) if m[1] is member[1])
        if index > 0:
            start_token = container.members[index - 1][2].last
            _same_file(start_token, member[2].last)
            self._edit(start_token.path, start_token.end, member[2].last.end, "")
        elif len(container.members) > 1:
            after = container.members[1][1]
            _same_file(member[1], after)
            self._edit(member[1].path, member[1].start, after.start, "")
        else:
            _same_file(container.first, member[2].last)
            self._edit(container.first.path, container.first.end, member[2].last.end, "")

    def _remove_run(self, array, run):
        first, last = array.items.index(run[0]), array.items.index(run[-1])
        if first > 0:
            start_token = array.items[first - 1].last
            _same_file(start_token, run[-1].last)
            self._edit(start_token.path, start_token.end, run[-1].last.end, "")
        elif last + 1 < len(array.items):
            after = array.items[last + 1].first
            _same_file(run[0].first, after)
            self._edit(run[0].first.path, run[0].first.start, after.start, "")
        else:
            _same_file(array.first, run[-1].last)
            self._edit(array.first.path, array.first.end, run[-1].last.end, "")

    def _insert_items(self, array, position, wanted, compact):
        unit = indent_unit(self.texts[array.first.path])
        if position > 0:
            previous = array.items[position - 1]
            text = self.texts[previous.last.path]
            indent = _indent_of(text, previous.first.start) if _starts_line(text, previous.first.start) else None
            if indent is None:
                indent = _indent_of(text, array.first.start) + " " * unit
            body = "".join(",\n" + indent + render(item, indent, unit, compact) for item in wanted)
            self._edit(previous.last.path, previous.last.end, previous.last.end, body)
        else:
            text = self.texts[array.first.path]
            indent = _indent_of(text, array.first.start) + " " * unit
            body = ",\n".join(indent + render(item, indent, unit, compact) for item in wanted)
            if array.items:
                self._edit(array.first.path, array.first.end, array.first.end, "\n" + body + ",")
            else:
                self._edit(array.first.path, array.first.end, array.first.end, "\n" + body)


def _render_list(items, indent, unit, compact):
    inner = indent + " " * unit
    return "[\n" + ",\n".join(inner + render(item, inner, unit, compact) for item in items) + "\n" + indent + "]"


def _owned_runs(array, owned):
    """Consecutive runs of owned items."""
    runs, current = [], []
    for item in array.items:
        if owned(item.value):
            current.append(item)
        elif current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    return runs


def _equal(current, wanted):
    return current == list(wanted)


def _same_file(a, b):
    if a.path != b.path:
        raise JsoncError(
            "cannot edit across an include boundary (%s and %s); move the list into one file or use the control agent" % (a.path, b.path)
        )


class DictDoc:
    """The same editing interface on a plain dict (a config from Kea's control agent)."""

    def value(self):
        return self.root

    def __init__(self, value, merge=None):
        self.root = value
        self.merge = merge  # merge(old element, new element): keep what the server filled in

    def replace_owned(self, container_path, key, owned, wanted, remove_key_if_empty, same=None, compact=False):
        container = self.root
        for step in container_path:
            container = container[step]
        items = container.get(key)
        if items is None:
            if wanted:
                container[key] = list(wanted)
            return
        runs = [i for i, item in enumerate(items) if owned(item)]
        old = [items[i] for i in runs]
        if (same or _equal)(old, wanted):
            return
        position = runs[0] if runs else len(items)
        kept = [item for item in items if not owned(item)]
        if not kept and not wanted and remove_key_if_empty:
            del container[key]
            return
        if self.merge:
            wanted = [self.merge(old[i] if i < len(old) else None, item) for i, item in enumerate(wanted)]
        container[key] = kept[:position] + list(wanted) + kept[position:]
