# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which file a request names, and reading it safely: the one place HTTP and TFTP resolve paths and read bytes.

Rules (docs/responder.md, "Security model"): only regular files inside the
root, under the URL's path prefix; no listings; no dot-files (the manifest is
one); encoded dots, slashes and backslashes, NUL and control characters are
refused before anything touches the file system; a symlink may not lead out of
the root.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat

_BAD_ESCAPES = re.compile(r"%(?:2e|2f|5c|00)", re.I)
_PERCENT = re.compile(r"%(?![0-9a-fA-F]{2})")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\\]")
CACHE_FILE_LIMIT = 1 << 20  # bigger files are streamed, not kept in memory
CACHE_TOTAL_LIMIT = 64 << 20
CONTENT_TYPES = {
    ".cfg": "text/plain; charset=utf-8",
    ".boot": "text/plain; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".xml": "application/xml",
    ".json": "application/json",
}


class Refused(Exception):
    """The request names nothing we serve. reason: bad_path (an attack or garbage) or not_found."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def _percent_decode(path):
    if _PERCENT.search(path):
        raise Refused("bad_path")
    try:
        raw = bytearray()
        pos = 0
        for match in re.finditer(r"%([0-9a-fA-F]{2})", path):
            raw += path[pos : match.start()].encode("latin-1")
            raw.append(int(match.group(1), 16))
            pos = match.end()
        raw += path[pos:].encode("latin-1")
        return raw.decode("utf-8")
    except (UnicodeError, ValueError):
        raise Refused("bad_path")


# DHCP option 66 hands out the provisioning URL with this segment after the token (the controller's
# _urls.VIA): the same files are served under it, and a fetch's recorded path keeps it, so
# provision_status can tell which phones arrived by DHCP.
VIA_DHCP = "dhcp/"


def named_file(rel):
    """The file a relative path names: 'dhcp/a.cfg' is 'a.cfg' (VIA_DHCP)."""
    return rel[len(VIA_DHCP) :] if rel.startswith(VIA_DHCP) else rel


def relative_path(path, prefix):
    """A decoded absolute path ('/p/tok/a.cfg') -> 'a.cfg' under prefix '/p/tok/'; Refused otherwise."""
    if _CONTROL.search(path):
        raise Refused("bad_path")
    if not path.startswith(prefix):
        # still refuse traversal spelled outside the prefix, so it counts as an attack, not a miss
        if any(seg.startswith(".") for seg in path.split("/")):
            raise Refused("bad_path")
        raise Refused("not_found")
    rel = path[len(prefix) :]
    if not rel:
        raise Refused("not_found")  # the directory itself: no listings
    for segment in rel.split("/"):
        if not segment or segment.startswith("."):
            raise Refused("bad_path")
    return rel


def http_target(target, prefix):
    """An HTTP request-target ('/p/tok/a.cfg?x=1', as received) -> relative path."""
    if not target.startswith("/"):
        raise Refused("bad_path")
    path = target.split("?", 1)[0]
    if "#" in path or _BAD_ESCAPES.search(path) or "\\" in path:
        raise Refused("bad_path")
    return relative_path(_percent_decode(path), prefix)


def tftp_filename(name, prefix):
    """A TFTP RRQ file name ('p/tok/a.cfg' or '/p/tok/a.cfg') -> relative path."""
    if "\\" in name or "%" in name:
        raise Refused("bad_path")
    return relative_path("/" + name.lstrip("/"), prefix)


def identity(st):
    """What tells one version of a file from another without reading it. The change time is in it
    because a writer can restore the modification time (utime) but not the change time."""
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


class ContentChanged(OSError):
    """The bytes read are not the version verified (the file was rewritten in place): send no more."""


class Entry:
    """A file we verified: where it is, its identity, and (small files) its content."""

    __slots__ = ("rel", "real", "key", "size", "mtime", "sha256", "etag", "data", "content_type", "_netascii_size")

    def __init__(self, rel, real, key, size, mtime, sha256, data):
        self.rel, self.real, self.key, self.size, self.mtime, self.sha256, self.data = rel, real, key, size, mtime, sha256, data
        self.etag = '"%s"' % sha256[:32]
        self.content_type = CONTENT_TYPES.get(os.path.splitext(rel)[1].lower(), "application/octet-stream")
        self._netascii_size = None

    def body(self):
        """The content to send, chunk by chunk: from memory, or from one open descriptor, verified."""
        return MemoryBody(self.data) if self.data is not None else FileBody(self)

    def netascii_size(self):
        """Its size in netascii (RFC 764: CR and LF become two bytes each), counted once per version."""
        if self._netascii_size is None and self.data is not None:
            self._netascii_size = len(self.data) + self.data.count(b"\r") + self.data.count(b"\n")
        elif self._netascii_size is None:
            body, size = FileBody(self), 0
            try:
                for chunk in iter(lambda: body.read(1 << 16), b""):
                    size += len(chunk) + chunk.count(b"\r") + chunk.count(b"\n")
            finally:
                body.close()
            self._netascii_size = size
        return self._netascii_size

    def open(self):
        """The file, opened without following a last-component symlink; OSError if it changed."""
        fd = os.open(self.real, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
        st = os.fstat(fd)
        if identity(st) != self.key:
            os.close(fd)
            raise FileNotFoundError(self.real)
        return os.fdopen(fd, "rb")


class MemoryBody:
    """A cached file's content as a sequence of chunks (views: nothing is copied here)."""

    def __init__(self, data):
        self._view = memoryview(data)
        self._pos = 0

    @property
    def done(self):
        return self._pos >= len(self._view)

    def read(self, size):
        chunk = self._view[self._pos : self._pos + size]
        self._pos += len(chunk)
        return chunk

    def close(self):
        self._view = memoryview(b"")  # not release(): the transport may still hold a slice of it


class FileBody:
    """A large file's content, read from one descriptor in order and hashed on the way.

    The chunk that completes the file is only returned when everything read hashes to the
    verified SHA-256 (the ETag): a file rewritten in place while it is sent raises ContentChanged
    before its last bytes leave, so no client ever receives a mixed body in full.
    """

    def __init__(self, entry):
        self.entry = entry
        self._handle = entry.open()
        self._digest = hashlib.sha256()
        self._left = entry.size

    @property
    def done(self):
        return self._left == 0

    def read(self, size):
        if self._left == 0:
            return b""
        chunk = self._handle.read(min(size, self._left))
        if not chunk:
            raise ContentChanged(self.entry.real)  # shorter than verified
        self._left -= len(chunk)
        self._digest.update(chunk)
        if self._left == 0 and self._digest.hexdigest() != self.entry.sha256:
            raise ContentChanged(self.entry.real)
        return chunk

    def close(self):
        self._handle.close()


class FileStore:
    """Looks files up under the root; remembers verified files until their inode, size or mtime changes."""

    def __init__(self, root):
        self.root = os.path.realpath(root)
        self._root_prefix = self.root.rstrip("/") + "/"
        self._entries = {}
        self._cached_bytes = 0

    def lookup(self, rel):
        """The Entry for a relative path (from http_target/tftp_filename); Refused when not served."""
        full = self._root_prefix + rel
        try:
            st = os.stat(full)
        except (OSError, ValueError):
            raise Refused("not_found")
        if not stat.S_ISREG(st.st_mode):
            raise Refused("not_found")
        key = identity(st)
        entry = self._entries.get(rel)
        if entry is not None and entry.key == key:
            return entry
        real = os.path.realpath(full)
        if not real.startswith(self._root_prefix):
            raise Refused("bad_path")  # a symlink out of the root
        if any(seg.startswith(".") for seg in real[len(self._root_prefix) :].split("/")):
            raise Refused("bad_path")  # a symlink to a dot-file inside the root
        entry = self._read(rel, real, key, st)
        self._remember(rel, entry)
        return entry

    def forget(self, rel):
        """Drop what we know of a file (its content changed under its old identity): the next lookup reads it again."""
        old = self._entries.pop(rel, None)
        if old is not None and old.data is not None:
            self._cached_bytes -= len(old.data)

    def _read(self, rel, real, key, st):
        """Read and hash the file; a file that changes while it is read is refused, not half-remembered."""
        probe = Entry(rel, real, key, st.st_size, st.st_mtime, "0" * 64, None)
        try:
            with probe.open() as handle:
                data, digest = None, hashlib.sha256()
                if st.st_size <= CACHE_FILE_LIMIT:
                    data = handle.read(st.st_size + 1)
                    digest.update(data)
                    size = len(data)
                else:
                    size = 0
                    for chunk in iter(lambda: handle.read(1 << 20), b""):
                        digest.update(chunk)
                        size += len(chunk)
                after = os.fstat(handle.fileno())
        except OSError:
            raise Refused("not_found")
        if size != st.st_size or identity(after) != key:
            raise Refused("not_found")  # being written right now: the next request sees the finished file
        return Entry(rel, real, key, st.st_size, st.st_mtime, digest.hexdigest(), data)

    def _remember(self, rel, entry):
        self.forget(rel)
        size = len(entry.data) if entry.data is not None else 0
        if self._cached_bytes + size > CACHE_TOTAL_LIMIT:
            self._entries.clear()
            self._cached_bytes = 0
        self._entries[rel] = entry
        self._cached_bytes += size
