"""Test support for the responder: hand-written manifests (docs/manifest.md) and a responder run in a namespace."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from helpers import wait_for

ROOT = Path(__file__).resolve().parent.parent
RESPONDER_PATH = ROOT / "files" / "responder"
SIPP_DIR = ROOT / "tests" / "integration" / "sipp"
_MAC = r"(?P<mac>(?:[0-9A-Fa-f]{2}[:-]?){5}[0-9A-Fa-f]{2})"

# The vendor table a manifest carries (what catalog.responder_table() writes), for the five PnP vendors we test.
VENDORS = {
    "yealink": {
        "name": "Yealink",
        "user_agent": r"^Yealink\s+(?:SIP[-\s]?)?(?P<model>[\w-]+)\s+(?P<firmware>[\d.]+)\s+" + _MAC,
        "pnp_names": ["yealink"],
        "pnp_url": "{url}",
    },
    "snom": {
        "name": "Snom",
        "user_agent": r"snom(?P<model>\w+)-SIP\s+(?P<firmware>[\d.]+)",
        "pnp_names": ["snom", "oem"],
        "pnp_url": "{url}{MAC}.xml",
    },
    "fanvil": {
        "name": "Fanvil",
        "user_agent": r"^Fanvil\s+(?P<model>\S+)\s+(?P<firmware>[\d.]+)\s+" + _MAC,
        "pnp_names": ["fanvil"],
        "pnp_url": "{url}",
    },
    "grandstream": {
        "name": "Grandstream",
        "user_agent": r"^Grandstream Model HW (?P<model>\S+) SW (?P<firmware>[\d.]+) DevId " + _MAC,
        "pnp_names": ["grandstream"],
        "pnp_url": "{url}cfg{mac}.xml",
    },
    "htek": {
        "name": "Htek",
        "user_agent": r"^Htek\s+(?P<model>\S+)\s+(?P<firmware>[\d.]+)\s+" + _MAC,
        "pnp_names": ["htek"],
        "pnp_url": "{url}",
    },
}

# A User-Agent per vendor, as the phones send it (DESIGN.md, "Config files"); {mac} is filled in.
USER_AGENTS = {
    "yealink": "Yealink SIP-T46S 66.86.0.15 {colon}",
    "snom": "Mozilla/4.0 (compatible; snomD385-SIP 10.1.54.13 1.1.3-s)",
    "fanvil": "Fanvil X4 2.10.2.6887 {mac}",
    "grandstream": "Grandstream Model HW GXP2135 SW 1.0.7.97 DevId {mac}",
    "htek": "Htek UC903 2.0.4.2 {colon}",
}


def user_agent(vendor, mac):
    colon = ":".join(mac[i : i + 2] for i in range(0, 12, 2))
    return USER_AGENTS[vendor].format(mac=mac, colon=colon)


def write_root(root, devices, shared=None, extra_files=None, provisioning_url=None, public_dirs=(), window=None):
    """A config root as device_configs leaves it: files, then the manifest (written last, atomically).

    devices: {mac: {"vendor", "model", "files": {name: (content, secret)}, optional "extensions", "window"}}
    shared: {name: (content, vendor)} files without a MAC; extra_files: {name: bytes} not in the manifest
    (served only under public_dirs). window: when the devices' provisioning window opened (default: now).
    """
    window = time.time() if window is None else window
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    files, device_entries = {}, {}
    for mac, device in devices.items():
        for name, (content, secret) in device["files"].items():
            data = content.encode() if isinstance(content, str) else content
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_bytes(data)
            files[name] = {"sha256": hashlib.sha256(data).hexdigest(), "mac": mac, "vendor": device["vendor"], "secret": secret}
        device_entries[mac] = {
            "vendor": device["vendor"],
            "model": device["model"],
            "files": sorted(device["files"]),
            "extensions": device.get("extensions", ["101"]),
            "window": device.get("window", window),
        }
    for name, (content, vendor) in (shared or {}).items():
        data = content.encode() if isinstance(content, str) else content
        (root / name).write_bytes(data)
        files[name] = {"sha256": hashlib.sha256(data).hexdigest(), "mac": None, "vendor": vendor, "secret": False}
    for name, data in (extra_files or {}).items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    manifest = {
        "format": 2,
        "generator": "tests",
        "public_dirs": list(public_dirs),
        "pbx": "pbx-test",
        "provisioning_url": provisioning_url,
        "files": files,
        "devices": device_entries,
        "vendors": VENDORS,
    }
    tmp = root / ".autoprov-manifest.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=1))
    os.replace(tmp, root / ".autoprov-manifest.json")
    return manifest


class ResponderProcess:
    """The responder run as a user runs it (python3 -m autoprov_responder) inside a namespace."""

    def __init__(self, netns, ns, workdir, settings, python=None):
        self.netns, self.ns = netns, ns
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.settings = dict(settings)
        self.settings.setdefault("db", str(self.workdir / "status.sqlite"))
        self.config_path = self.workdir / "responder.json"
        self.config_path.write_text(json.dumps(self.settings, indent=1))
        self.stderr_path = self.workdir / "responder.log"
        self.python = python or sys.executable
        self.proc = None

    def start(self, *flags, wait_for_ready=True):
        env = dict(os.environ, PYTHONPATH=str(RESPONDER_PATH), PYTHONDONTWRITEBYTECODE="1")
        self._stderr = open(self.stderr_path, "wb")
        self.proc = self.netns.popen(
            self.ns,
            [self.python, "-m", "autoprov_responder", "--config", self.config_path, *flags],
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
            env=env,
        )
        if wait_for_ready:
            wait_for(lambda: " started " in self.log() or self.proc.poll() is not None, timeout=15, what="responder start")
            assert self.proc.poll() is None, "responder exited:\n" + self.log()
        return self

    def log(self):
        return self.stderr_path.read_text(errors="replace") if self.stderr_path.exists() else ""

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        if getattr(self, "_stderr", None):
            self._stderr.close()

    def db(self):
        return sqlite3.connect("file:%s?mode=ro" % self.settings["db"], uri=True)

    def rows(self, sql, *args, timeout=5.0, expect=None):
        """Query the status store; with expect (a predicate on the rows) wait until it holds (writes are batched)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                with self.db() as db:
                    db.row_factory = sqlite3.Row
                    rows = [dict(r) for r in db.execute(sql, args)]
            except sqlite3.OperationalError:
                rows = []
            if expect is None or expect(rows) or time.monotonic() > deadline:
                return rows
            time.sleep(0.1)


def http_exchange(host, port, raw, timeout=5.0, until_close=False):
    """Send raw request bytes, return (status or None, headers dict, body bytes) of the first response
    (until_close: everything after the first head, up to the server's close)."""
    import socket

    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(raw)
        data = b""
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
                head, sep, body = data.partition(b"\r\n\r\n")
                if sep and not until_close:
                    length = [int(v) for k, v in _headers(head).items() if k == "content-length"]
                    if length and len(body) >= length[0]:
                        break
        except socket.timeout:
            pass
    head, _unused, body = data.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 "):
        return None, {}, data
    return int(head.split()[1]), _headers(head), body


def _headers(head):
    out = {}
    for line in head.split(b"\r\n")[1:]:
        name, _unused, value = line.decode("latin-1").partition(":")
        out.setdefault(name.strip().lower(), value.strip())
    return out


def digest_get(host, port, path, username, password, algorithm, user_agent=None, replay=False):
    """GET with RFC 7616 Digest (the algorithm chosen among the server's challenges).

    Returns the statuses seen: [401, final] (and, with replay, the status of the same Authorization sent again).
    """
    import hashlib
    import re
    import socket

    ua = ("User-Agent: %s\r\n" % user_agent) if user_agent else ""
    first = "GET %s HTTP/1.1\r\nHost: %s\r\n%s\r\n" % (path, host, ua)
    statuses = []
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(first.encode())
        head = sock.recv(65536).decode("latin-1")
        statuses.append(int(head.split()[1]))
        challenge = next(
            line for line in head.split("\r\n") if line.startswith("WWW-Authenticate: Digest") and "algorithm=%s," % algorithm in line
        )
        params = dict(re.findall(r'(\w+)="?([^",]+)"?', challenge))
        h = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}[algorithm]

        def hx(text):
            return h(text.encode()).hexdigest()

        cnonce, nc = "0a4f113b", "00000001"
        ha1 = hx("%s:%s:%s" % (username, params["realm"], password))
        ha2 = hx("GET:%s" % path)
        response = hx(":".join((ha1, params["nonce"], nc, cnonce, "auth", ha2)))
        auth = (
            'Digest username="%s", realm="%s", nonce="%s", uri="%s", algorithm=%s, qop=auth, nc=%s, cnonce="%s", response="%s", opaque="%s"'
            % (username, params["realm"], params["nonce"], path, algorithm, nc, cnonce, response, params["opaque"])
        )
        second = "GET %s HTTP/1.1\r\nHost: %s\r\n%sAuthorization: %s\r\n\r\n" % (path, host, ua, auth)
        for _unused in range(2 if replay else 1):
            sock.sendall(second.encode())
            data = b""
            while b"\r\n\r\n" not in data:
                data += sock.recv(65536)
            head, _unused, body = data.partition(b"\r\n\r\n")
            length = int(_headers(head).get("content-length", "0"))
            while len(body) < length:
                body += sock.recv(65536)
            statuses.append(int(head.split()[1]))
    return statuses


def tftp_get(host, port, filename, options=None, mode="octet", duplicate_acks=False, timeout=3.0):
    """A minimal TFTP reader, for what curl does not do (the timeout option, netascii, duplicate ACKs).

    Returns {"oack": {...} or None, "data": str (latin-1), "error": [code, text] or None, "data_packets": n}.
    """
    import socket
    import struct

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(timeout)
    request = struct.pack("!H", 1) + filename.encode() + b"\0" + mode.encode() + b"\0"
    for name, value in (options or {}).items():
        request += name.encode() + b"\0" + str(value).encode() + b"\0"
    sock.sendto(request, (host, port))
    result = {"oack": None, "data": "", "error": None, "data_packets": 0}
    blksize = int((options or {}).get("blksize", 512))
    expected = 1
    try:
        while True:
            packet, peer = sock.recvfrom(70000)
            opcode = struct.unpack("!H", packet[:2])[0]
            if opcode == 5:
                result["error"] = [struct.unpack("!H", packet[2:4])[0], packet[4:-1].decode()]
                break
            if opcode == 6:
                fields = packet[2:].split(b"\0")[:-1]
                result["oack"] = {fields[i].decode(): fields[i + 1].decode() for i in range(0, len(fields), 2)}
                blksize = int(result["oack"].get("blksize", 512))
                sock.sendto(struct.pack("!HH", 4, 0), peer)
                continue
            if opcode == 3:
                result["data_packets"] += 1
                block = struct.unpack("!H", packet[2:4])[0]
                if block == expected:
                    result["data"] += packet[4:].decode("latin-1")
                    expected += 1
                ack = struct.pack("!HH", 4, block)
                sock.sendto(ack, peer)
                if duplicate_acks:
                    sock.sendto(ack, peer)
                if block == expected - 1 and len(packet) - 4 < blksize:
                    break
    except socket.timeout:
        result["error"] = result["error"] or ["timeout", ""]
    if duplicate_acks:  # wait: a server that answers duplicate ACKs sends more DATA now
        sock.settimeout(1.5)
        try:
            while True:
                sock.recvfrom(70000)
                result["data_packets"] += 1
        except socket.timeout:
            pass
    sock.close()
    return result


def run_sipp(netns, ns, local_ip, scenario, macs, workdir, port=5060, calls=None, timeout=10, rate=None, extra=(), scenario_text=None):
    """A sipp phone in namespace ns multicasting PnP SUBSCRIBEs (one call per MAC) with a scenario of
    tests/integration/sipp; returns (exit code, its log, where each NOTIFY URL is a line)."""
    run = Path(workdir) / ("sipp-%s-%d" % (scenario, port))
    run.mkdir(parents=True, exist_ok=True)
    inf = run / "macs.csv"
    inf.write_text("SEQUENTIAL\n" + "".join("%s;%s;\n" % (m, m.upper()) for m in macs))
    scenario_file = SIPP_DIR / ("%s.xml" % scenario)
    if scenario_text is not None:
        scenario_file = run / "scenario.xml"
        scenario_file.write_text(scenario_text)
    cmd = ["sipp", "-sf", scenario_file, "224.0.1.75:5060", "-i", local_ip, "-p", port, "-t", "u1", "-nostdin"]
    cmd += ["-m", calls or len(macs), "-inf", inf, "-trace_logs", "-log_file", run / "log.txt"]
    cmd += ["-trace_err", "-error_file", run / "err.txt", "-timeout", "%ds" % timeout, "-timeout_error"]
    if rate:
        cmd += ["-r", rate]
    proc = netns.run(ns, cmd + list(extra), check=False, timeout=timeout + 20)
    log = (run / "log.txt").read_text() if (run / "log.txt").exists() else ""
    return proc.returncode, log


def sip_subscribe(vendor, mac, local_ip, port, call_id, branch):
    """The SUBSCRIBE of tests/integration/sipp/<vendor>.xml with sipp's keywords filled in (CRLF line ends)."""
    import re

    text = (SIPP_DIR / ("%s.xml" % vendor)).read_text()
    body = re.search(r"<!\[CDATA\[(.*?)\]\]>", text, re.S).group(1)
    values = {
        "field0": mac.lower(),
        "field1": mac.upper(),
        "local_ip": local_ip,
        "local_port": str(port),
        "call_id": call_id,
        "branch": branch,
        "pid": "4242",
        "call_number": "1",
    }
    lines = [re.sub(r"\[(\w+)\]", lambda m: values[m.group(1)], line.strip()) for line in body.strip("\n").splitlines()]
    return ("\r\n".join(line for line in lines if line) + "\r\n\r\n").encode()


def pnp_exchange(server, local_ip, macs, listen=8.0, vendor="yealink", port=5060, answer_notify=False):
    """Send one SUBSCRIBE per MAC (unicast to server:5060) from local_ip:port and take in every datagram
    for `listen` seconds without answering (a spoofed victim), or answering each NOTIFY with 200.

    Returns {"sent": bytes sent, "received": bytes received, "replies": [first line, ...], "urls": [NOTIFY bodies]}.
    """
    import socket

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((local_ip, port))
    sent = received = 0
    replies, urls = [], []
    for i, mac in enumerate(macs):
        data = sip_subscribe(vendor, mac, local_ip, port, "amp-%d-%s@%s" % (i, mac, local_ip), "z9hG4bK-amp-%d" % i)
        sent += sock.sendto(data, (server, 5060))
    deadline = time.monotonic() + listen
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        sock.settimeout(left)
        try:
            data, peer = sock.recvfrom(65535)
        except socket.timeout:
            break
        received += len(data)
        head, _unused, body = data.partition(b"\r\n\r\n")
        first = head.split(b"\r\n", 1)[0].decode("latin-1")
        replies.append(first)
        if first.startswith("NOTIFY"):
            urls.append(body.decode("latin-1").strip())
            if answer_notify:
                lines = head.decode("latin-1").split("\r\n")
                keep = [h for h in lines[1:] if h.split(":")[0].lower() in ("via", "from", "to", "call-id", "cseq")]
                sock.sendto(("SIP/2.0 200 OK\r\n" + "\r\n".join(keep) + "\r\nContent-Length: 0\r\n\r\n").encode(), peer)
    sock.close()
    return {"sent": sent, "received": received, "replies": replies, "urls": urls}


def http_scan(host, port, paths, marker, headers=None):
    """GET every path on one keep-alive connection (headers: {path: {name: value}});
    returns ({path: status} of the answers whose body holds marker, {status: count})."""
    import http.client

    leaked, counts = {}, {}
    conn = http.client.HTTPConnection(host, port, timeout=10)
    for path in paths:
        try:
            conn.request("GET", path, headers=(headers or {}).get(path, {}))
            response = conn.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection(host, port, timeout=10)
            continue
        counts[response.status] = counts.get(response.status, 0) + 1
        if marker.encode() in body:
            leaked[path] = response.status
    conn.close()
    return leaked, counts
