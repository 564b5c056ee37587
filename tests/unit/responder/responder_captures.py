"""The vendor SUBSCRIBEs of tests/integration/sipp/*.xml as bytes: one source of truth for unit and network tests."""

from __future__ import annotations

import re
from pathlib import Path

SIPP = Path(__file__).resolve().parents[2] / "integration" / "sipp"
PHONE_IP = "192.0.2.20"


def subscribe(vendor, mac, port=5060, call_id="c1@192.0.2.20", branch="z9hG4bK-test-1"):
    """The SUBSCRIBE of <vendor>.xml with sipp's keywords filled in, CRLF line ends."""
    text = (SIPP / ("%s.xml" % vendor)).read_text()
    body = re.search(r"<!\[CDATA\[(.*?)\]\]>", text, re.S).group(1)
    lines = [line.strip() for line in body.strip("\n").splitlines()]
    values = {
        "field0": mac.lower(),
        "field1": mac.upper(),
        "local_ip": PHONE_IP,
        "local_port": str(port),
        "call_id": call_id,
        "branch": branch,
        "pid": "4242",
        "call_number": "1",
    }
    message = "\r\n".join(re.sub(r"\[(\w+)\]", lambda m: values[m.group(1)], line) for line in lines if line)
    return (message + "\r\n\r\n").encode()
