# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parsing an HTTP/1.x request head, strictly and within bounds (pure; the fuzz test's target)."""

from __future__ import annotations

import re

_TOKEN = re.compile(rb"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_TARGET = re.compile(rb"^[\x21-\x7e]+$")
_BAD_VALUE = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
_SINGLE = ("host", "authorization", "content-length", "transfer-encoding", "user-agent")


class HttpError(Exception):
    """A request we answer with `status` and then close the connection."""

    def __init__(self, status, reason):
        super().__init__("%d %s" % (status, reason))
        self.status = status
        self.reason = reason


class Request:
    __slots__ = ("method", "target", "version", "headers", "keep_alive")

    def __init__(self, method, target, version, headers, keep_alive):
        self.method, self.target, self.version, self.headers, self.keep_alive = method, target, version, headers, keep_alive


class Limits:
    __slots__ = ("request_line", "header_bytes", "headers")

    def __init__(self, request_line=4096, header_bytes=8192, headers=64):
        self.request_line, self.header_bytes, self.headers = request_line, header_bytes, headers


def head_incomplete(buffer, limits):
    """Raise HttpError when an unfinished head is already too long; else return (keep reading)."""
    first_line_end = buffer.find(b"\r\n")
    if first_line_end < 0 and len(buffer) > limits.request_line:
        raise HttpError(414, "URI Too Long")
    if len(buffer) > limits.request_line + limits.header_bytes:
        raise HttpError(431, "Request Header Fields Too Large")


def parse_head(head, limits):
    """Parse the bytes before the blank line (without it) into a Request; HttpError otherwise."""
    lines = head.split(b"\r\n")
    request_line = lines[0]
    if len(request_line) > limits.request_line:
        raise HttpError(414, "URI Too Long")
    if len(head) - len(request_line) > limits.header_bytes or len(lines) - 1 > limits.headers:
        raise HttpError(431, "Request Header Fields Too Large")
    parts = request_line.split(b" ")
    if len(parts) != 3:
        raise HttpError(400, "Bad Request")
    method, target, version = parts
    if not _TOKEN.match(method) or not _TARGET.match(target):
        raise HttpError(400, "Bad Request")
    if version not in (b"HTTP/1.1", b"HTTP/1.0"):
        raise HttpError(
            505 if version.startswith(b"HTTP/") else 400, "HTTP Version Not Supported" if version.startswith(b"HTTP/") else "Bad Request"
        )
    headers = {}
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon or not _TOKEN.match(name):  # also refuses obsolete line folding and "Name :"
            raise HttpError(400, "Bad Request")
        value = value.strip(b" \t")
        if _BAD_VALUE.search(value):
            raise HttpError(400, "Bad Request")
        key = name.decode("ascii").lower()
        text = value.decode("latin-1")
        if key in headers:
            if key in _SINGLE:
                raise HttpError(400, "Bad Request")
            headers[key] += ", " + text
        else:
            headers[key] = text
    if "transfer-encoding" in headers or headers.get("content-length", "0").strip() != "0":
        raise HttpError(400, "Bad Request")  # GET and HEAD carry no body here
    connection = headers.get("connection", "").lower()
    if version == b"HTTP/1.1":
        keep_alive = "close" not in connection
    else:
        keep_alive = "keep-alive" in connection
    return Request(method.decode("ascii"), target.decode("ascii"), version.decode("ascii"), headers, keep_alive)
