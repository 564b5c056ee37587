"""Attack clients for test_responder_dos.py, run inside a test namespace: `python dos_clients.py NAME JSON`.

Each prints one JSON line with what it saw; the long-running ones print a first line when their
connections stand ("ready") and then wait until their stdin closes, so the test can measure the
responder meanwhile. Standard library only.
"""

from __future__ import annotations

import json
import os
import re
import selectors
import socket
import struct
import sys
import time


def _say(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def _connect_many(server, port, source, count, rcvbuf=None, timeout=10.0):
    """`count` TCP connections from `source`, opened in parallel; returns the connected sockets."""
    sel = selectors.DefaultSelector()
    pending = 0
    for _unused in range(count):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.bind((source, 0))
        sock.setblocking(False)
        sock.connect_ex((server, port))
        sel.register(sock, selectors.EVENT_WRITE)
        pending += 1
    connected = []
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        for key, _mask in sel.select(0.5):
            sock = key.fileobj
            sel.unregister(sock)
            pending -= 1
            if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                connected.append(sock)
            else:
                sock.close()
    for key in list(sel.get_map().values()):
        key.fileobj.close()
    sel.close()
    return connected


def _still_open(socks):
    """How many of socks the server has not closed (no EOF, no reset, as far as can be seen now)."""
    alive = 0
    for sock in socks:
        try:
            data = sock.recv(1 << 20, socket.MSG_PEEK | socket.MSG_DONTWAIT)
            alive += 1 if data else 0
        except BlockingIOError:
            alive += 1
        except OSError:
            pass
    return alive


def _get(server, port, path, source, timeout=10.0, user_agent=None):
    """(status or None, seconds): one GET on a new connection from `source`."""
    started = time.monotonic()
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.bind((source, 0))
            sock.connect((server, port))
            ua = ("User-Agent: %s\r\n" % user_agent) if user_agent else ""
            sock.sendall(("GET %s HTTP/1.1\r\nHost: x\r\n%sConnection: close\r\n\r\n" % (path, ua)).encode())
            data = b""
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
        status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/1.1 ") else None
    except OSError:
        status = None
    return status, time.monotonic() - started


def _wait_for_stdin():
    sys.stdin.read()


def idle_flood(server, port, flood_source, count, other_source, path, probes):
    """`count` idle connections from one address, then `probes` GETs from another: statuses and latency."""
    flood = _connect_many(server, port, flood_source, count)
    time.sleep(0.5)
    results = [_get(server, port, path, other_source, timeout=5.0) for _unused in range(probes)]
    latencies = sorted(seconds for _status, seconds in results)
    _say(
        {
            "connected": len(flood),
            "flood_open": _still_open(flood),
            "statuses": [status for status, _seconds in results],
            "latency_ms": {
                "p50": round(latencies[len(latencies) // 2] * 1000, 1),
                "max": round(latencies[-1] * 1000, 1),
            },
        }
    )
    for sock in flood:
        sock.close()


def hold_connections(server, port, sources, per_source, request=None, rcvbuf=None):
    """Open per_source connections from each source, send `request` on each (if any), never read;
    print "ready" and hold them until stdin closes, then report how many the server kept open."""
    socks = []
    for source in sources:
        socks += _connect_many(server, port, source, per_source, rcvbuf=rcvbuf)
    if request:
        for sock in socks:
            try:
                sock.send(request.encode())
            except OSError:
                pass
    _say({"ready": True, "connected": len(socks)})
    _wait_for_stdin()
    _say({"still_open": _still_open(socks)})


def slow_download(server, port, path, first, rcvbuf=16384):
    """GET a large file, read `first` bytes, print "ready", wait for stdin to close, read the rest.

    Reports the status, Content-Length, the bytes of body received and the ETag."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(30)
    sock.connect((server, port))
    sock.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path).encode())
    data = b""
    while len(data) < first:
        chunk = sock.recv(min(4096, first - len(data)))
        if not chunk:
            break
        data += chunk
    _say({"ready": True})
    _wait_for_stdin()
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    except OSError as exc:
        _say_error = str(exc)
    sock.close()
    head, _sep, body = data.partition(b"\r\n\r\n")
    headers = dict(
        (name.strip().lower(), value.strip())
        for name, _colon, value in (line.decode("latin-1").partition(":") for line in head.split(b"\r\n")[1:])
    )
    _say(
        {
            "status": int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/1.1 ") else None,
            "length": int(headers.get("content-length", -1)),
            "etag": headers.get("etag"),
            "body_hex_sha256": __import__("hashlib").sha256(body).hexdigest(),
            "received": len(body),
        }
    )


def _rrq(filename, mode="octet", options=None):
    packet = struct.pack("!H", 1) + filename.encode("latin-1") + b"\0" + mode.encode() + b"\0"
    for name, value in (options or {}).items():
        packet += name.encode() + b"\0" + str(value).encode() + b"\0"
    return packet


def tftp_amplification(server, filename, options, count, seconds, source=None):
    """Send `count` RRQs (one client port each, as a spoofer would) and never answer: bytes in and out."""
    socks, sent = [], 0
    for _unused in range(count):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((source or "0.0.0.0", 0))
        sock.setblocking(False)
        packet = _rrq(filename, options=options)
        sock.sendto(packet, (server, 69))
        sent += len(packet)
        socks.append(sock)
    sel = selectors.DefaultSelector()
    for sock in socks:
        sel.register(sock, selectors.EVENT_READ)
    received, packets = 0, 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for key, _mask in sel.select(max(0.0, deadline - time.monotonic())):
            while True:
                try:
                    data = key.fileobj.recv(70000)
                except BlockingIOError:
                    break
                received += len(data)
                packets += 1
    _say({"rrq_bytes": sent, "received_bytes": received, "packets": packets, "factor": round(received / sent, 2)})


def tftp_hold(server, filename, sources, per_source, mode="netascii", options=None):
    """RRQs from many client ports; each acknowledges the first answer once, then goes silent.

    Prints how many transfers began (got a first answer), holds until stdin closes."""
    socks = []
    for source in sources:
        for _unused in range(per_source):
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind((source, 0))
            sock.settimeout(3)
            sock.sendto(_rrq(filename, mode, options), (server, 69))
            socks.append(sock)
    started = errors = 0
    for sock in socks:
        try:
            packet, peer = sock.recvfrom(70000)
        except OSError:
            continue
        opcode = struct.unpack("!H", packet[:2])[0]
        if opcode == 5:
            errors += 1
            continue
        started += 1
        block = 0 if opcode == 6 else struct.unpack("!H", packet[2:4])[0]
        sock.sendto(struct.pack("!HH", 4, block), peer)
    _say({"ready": True, "started": started, "errors": errors})
    _wait_for_stdin()
    _say({"done": True})


def tftp_misses(server, source, names):
    """RRQs for files that are not there, from `source` (what a spoofer sends in a victim's name)."""
    errors = []
    for name in names:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind((source, 0))
            sock.settimeout(2)
            sock.sendto(_rrq(name), (server, 69))
            try:
                packet = sock.recv(2048)
                errors.append(struct.unpack("!H", packet[2:4])[0] if packet[:2] == b"\0\5" else None)
            except OSError:
                errors.append("timeout")
    _say({"errors": errors})


def get(server, port, path, source, user_agent=None):
    status, seconds = _get(server, port, path, source, user_agent=user_agent)
    _say({"status": status, "ms": round(seconds * 1000, 1)})


def _subscribe(mac, source, port, n, model, user_agent):
    call = "%s-%d@%s" % (mac, n, source)
    lines = [
        "SUBSCRIBE sip:MAC%s@224.0.1.75 SIP/2.0" % mac,
        "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK-%d-%s" % (source, port, n, mac),
        "From: <sip:MAC%s@224.0.1.75>;tag=t%d" % (mac, n),
        "To: <sip:MAC%s@224.0.1.75>" % mac,
        "Call-ID: %s" % call,
        "CSeq: 1 SUBSCRIBE",
        "Contact: <sip:MAC%s@%s:%d>" % (mac, source, port),
        "Max-Forwards: 70",
        "User-Agent: %s" % user_agent,
        "Expires: 0",
        'Event: ua-profile;profile-type="device";vendor="Yealink";model="%s";version="66.86.0.15"' % model,
        "Accept: application/url",
        "Content-Length: 0",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")


def subscribe_flood(server, sources, count, prefix, rate=4000, model="T46S", user_agent="Yealink SIP-T46S 66.86.0.15"):
    """`count` SUBSCRIBEs, each for another MAC (prefix + counter), spread over `sources`, at `rate`/s."""
    socks = []
    for source in sources:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((source, 0))
        socks.append(sock)
    started = time.monotonic()
    for n in range(count):
        sock = socks[n % len(socks)]
        source, port = sock.getsockname()
        mac = "%s%06x" % (prefix, n)
        sock.sendto(_subscribe(mac, source, port, n, model, user_agent), (server, 5060))
        ahead = (n + 1) / rate - (time.monotonic() - started)
        if ahead > 0:
            time.sleep(ahead)
    _say({"sent": count, "seconds": round(time.monotonic() - started, 2)})


def subscribe_one(server, source, mac, model, user_agent, wait=3.0):
    """One SUBSCRIBE (fields as given, raw): the SIP messages that came back."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((source, 5060))
    sock.settimeout(wait)
    sock.sendto(_subscribe(mac, source, 5060, 1, model, user_agent), (server, 5060))
    got = []
    try:
        while True:
            data, peer = sock.recvfrom(65535)
            first = data.split(b"\r\n", 1)[0].decode("latin-1")
            got.append(first)
            if first.startswith("NOTIFY"):
                via = [line for line in data.split(b"\r\n") if line.lower().startswith(b"via:")][0]
                branch = via.split(b"branch=")[1].split(b";")[0]
                call = [line for line in data.split(b"\r\n") if line.lower().startswith(b"call-id:")][0]
                cseq = [line for line in data.split(b"\r\n") if line.lower().startswith(b"cseq:")][0]
                answer = b"SIP/2.0 200 OK\r\n%s\r\n%s\r\n%s\r\nContent-Length: 0\r\n\r\n" % (via, call, cseq)
                assert branch
                sock.sendto(answer, peer)
                break
    except socket.timeout:
        pass
    _say({"got": got})


def ua_flood(server, port, path, source, count, prefix, per_connection=500):
    """`count` GETs of one public file, each with a User-Agent naming another MAC, pipelined on keep-alive."""
    statuses = {}
    n = 0
    while n < count:
        batch = min(per_connection, count - n)
        with socket.create_connection((server, port), timeout=20, source_address=(source, 0)) as sock:
            requests = []
            for i in range(batch):
                mac = "%s%06x" % (prefix, n + i)
                colon = ":".join(mac[j : j + 2] for j in range(0, 12, 2))
                close = "Connection: close\r\n" if i == batch - 1 else ""
                requests.append("GET %s HTTP/1.1\r\nHost: x\r\nUser-Agent: Yealink SIP-T46S 66.86.0.15 %s\r\n%s\r\n" % (path, colon, close))
            sock.sendall("".join(requests).encode())
            data = b""
            while True:
                chunk = sock.recv(1 << 20)
                if not chunk:
                    break
                data += chunk
        for code in re.findall(rb"HTTP/1\.1 (\d{3}) ", data):  # bodies do not end in CRLF: not split by lines
            statuses[int(code)] = statuses.get(int(code), 0) + 1
        n += batch
    _say({"statuses": statuses})


if __name__ == "__main__":
    globals()[sys.argv[1]](**json.loads(sys.argv[2]))
    os._exit(0)  # sockets of the flood: no lingering close at exit
