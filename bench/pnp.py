"""PnP storm: sipp "phones" multicast SUBSCRIBEs at rising rates; every one must get its NOTIFY.

Workload (fixed): one phone namespace, a wire, the responder in a PBX namespace
joined to 224.0.1.75; per step, sipp runs `rate` SUBSCRIBE/s for --seconds
seconds, each from a different MAC of the manifest (--devices of them), and
answers each NOTIFY with 200. A call that has not had its NOTIFY within 5 s is
lost. Response time: SUBSCRIBE sent -> NOTIFY received, per call (sipp rtd).
Baseline, same run, same rates: sipp itself as the PnP server (a C++ UAS doing
the same exchange; unicast, as sipp cannot join a multicast group).
The responder's per-source reply limit is lifted (one sipp is one source).

Last line: {"max_rate", "lost", "p99_ms", ...}: max_rate is the highest rate
with 0 lost and p99 <= 20 ms; lost and p99_ms are that step's.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import cpu_seconds, percentile, require_root, use_test_helpers

use_test_helpers()
from helpers import Netns  # noqa: E402
from responder_support import ResponderProcess, write_root  # noqa: E402

SERVER, PHONE = "10.99.35.1", "10.99.35.2"
URL = "http://%s:8080/p/bench/" % SERVER
P99_LIMIT_MS = 20.0

UAC = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="pnp-storm-phone">
  <send retrans="500" start_rtd="1"><![CDATA[

SUBSCRIBE sip:MAC%3a[field0]@224.0.1.75 SIP/2.0
Via: SIP/2.0/UDP [local_ip]:[local_port];rport;branch=[branch]
From: <sip:MAC%3a[field0]@224.0.1.75>;tag=[pid]b[call_number]
To: <sip:MAC%3a[field0]@224.0.1.75>
Call-ID: [call_id]
CSeq: 1 SUBSCRIBE
Contact: <sip:[local_ip]:[local_port]>
Max-Forwards: 70
User-Agent: Yealink SIP-T46S 66.86.0.15
Expires: 0
Event: ua-profile;profile-type="device";vendor="Yealink";model="T46S";version="66.86.0.15"
Accept: application/url
Content-Length: 0

]]></send>
  <recv response="200" optional="true"/>
  <recv request="NOTIFY" rtd="1" timeout="5000">
    <action>
      <ereg regexp="Via: SIP/2.0/UDP ([0-9.]+):([0-9]+)" search_in="msg" check_it="true" assign_to="via,vhost,vport"/>
    </action>
  </recv>
  <nop><action><setdest host="[$vhost]" port="[$vport]" protocol="udp"/></action></nop>
  <send><![CDATA[

SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
  <Reference variables="via"/>
</scenario>
"""

# The baseline PnP server: sipp answering 200 and sending the NOTIFY itself.
UAS = (
    """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="pnp-storm-sipp-server">
  <recv request="SUBSCRIBE"/>
  <send><![CDATA[

SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]s[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:[local_ip]:[local_port]>
Expires: 0
Content-Length: 0

]]></send>
  <send retrans="500"><![CDATA[

NOTIFY sip:[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/UDP [local_ip]:[local_port];branch=[branch];rport
Max-Forwards: 70
From: [last_To:value];tag=[pid]s[call_number]
To: [last_From:value]
Call-ID: [call_id]
CSeq: 1 NOTIFY
Contact: <sip:[local_ip]:[local_port]>
Event: ua-profile
Subscription-State: terminated;reason=timeout
Content-Type: application/url
Content-Length: [len]

%s
]]></send>
  <recv response="200"/>
</scenario>
"""
    % URL
)


def run_step(netns, ns, workdir, target, rate, seconds, first_device, devices):
    """One sipp run at `rate`; returns the step's figures."""
    calls = rate * seconds
    step = workdir / ("step-%s-%d" % (target, rate))
    step.mkdir()
    (step / "phone.xml").write_text(UAC)
    macs = ["0015%08x" % ((first_device + i) % devices) for i in range(calls)]
    (step / "macs.csv").write_text("SEQUENTIAL\n" + "".join("%s;\n" % m for m in macs))
    remote = "224.0.1.75:5060" if target == "responder" else "%s:5060" % SERVER
    cmd = ["sipp", "-sf", step / "phone.xml", remote, "-i", PHONE, "-p", "5062", "-t", "u1", "-nostdin", "-inf", step / "macs.csv"]
    cmd += ["-r", rate, "-m", calls, "-l", max(1000, rate * 6), "-trace_rtt", "-rtt_freq", 100, "-trace_stat", "-stf", step / "stat.csv"]
    cmd += ["-timeout", "%ds" % (seconds + 30), "-max_non_invite_retrans", "6", "-watchdog_minor_threshold", "5000"]
    started = time.monotonic()
    proc = netns.popen(ns, cmd, cwd=str(step), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    proc.wait(timeout=seconds + 60)
    elapsed = time.monotonic() - started
    stats = list(csv.reader((step / "stat.csv").read_text().splitlines(), delimiter=";"))
    header, last = stats[0], stats[-1]
    successful = int(last[header.index("SuccessfulCall(C)")])
    failed = int(last[header.index("FailedCall(C)")])
    rtts = []
    for path in step.glob("*_rtt.csv"):
        for row in csv.reader(path.read_text().splitlines()[1:], delimiter=";"):
            if len(row) >= 2:
                rtts.append(float(row[1]))  # Date_ms;response_time_ms;rtd_no
    p99 = percentile(rtts, 0.99)
    return {
        "rate": rate,
        "calls": calls,
        "delivered": successful,
        "lost": calls - successful,
        "failed": failed,
        "p50_ms": round(percentile(rtts, 0.5), 2) if rtts else None,
        "p99_ms": round(p99, 2) if p99 is not None else None,
        "max_ms": round(max(rtts), 2) if rtts else None,
        "achieved_rate": round(calls / max(elapsed, 1e-9)),
    }


def storm(netns, ns, workdir, target, rates, seconds, devices, say, server_pid=None):
    steps, offset = [], 0
    for rate in rates:
        cpu_before, started = (cpu_seconds(server_pid), time.monotonic()) if server_pid else (None, None)
        result = run_step(netns, ns, workdir, target, rate, seconds, offset, devices)
        if server_pid:
            result["server_cpu_percent"] = round(100 * (cpu_seconds(server_pid) - cpu_before) / (time.monotonic() - started))
        offset += result["calls"]
        steps.append(result)
        cpu = ", server CPU %d%%" % result["server_cpu_percent"] if server_pid else ""
        say(
            "%-9s %5d/s: %6d calls, %6d lost, p50 %s ms, p99 %s ms%s"
            % (target, rate, result["calls"], result["lost"], result["p50_ms"], result["p99_ms"], cpu)
        )
        if result["lost"] or result["p99_ms"] is None or result["p99_ms"] > 10 * P99_LIMIT_MS:
            break  # far beyond what it can do: the next rates would only be worse
    good = [s for s in steps if s["lost"] == 0 and s["p99_ms"] is not None and s["p99_ms"] <= P99_LIMIT_MS]
    return steps, (good[-1] if good else None)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rates", default="500,1000,2000,3000,4000,6000", help="SUBSCRIBE/s per step (default %(default)s)")
    parser.add_argument("--seconds", type=int, default=5, help="length of each step (default %(default)s)")
    parser.add_argument("--devices", type=int, default=20000, help="MACs in the manifest (default %(default)s)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the sipp server baseline")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (sipp statistics, responder log)")
    args = parser.parse_args()
    require_root()
    if not shutil.which("sipp"):
        sys.exit("needs sipp (Debian sip-tester)")
    rates = [int(r) for r in args.rates.split(",")]

    def say(text):
        print(text, flush=True)

    workdir = Path(tempfile.mkdtemp(prefix="bench-pnp-"))
    netns = Netns()
    try:
        pbx, phone = netns.add("pbx"), netns.add("phone")
        pbx_if, _unused = netns.wire(pbx, SERVER + "/24", phone, PHONE + "/24")
        macs = ["0015%08x" % i for i in range(args.devices)]
        write_root(workdir / "root", {m: {"vendor": "yealink", "model": "T46S", "files": {}} for m in macs})
        settings = {
            "root": str(workdir / "root"),
            "url": URL,
            "sip_listen": ["0.0.0.0:5060"],
            "interfaces": [pbx_if],
            "http_listen": ["%s:8080" % SERVER],
            "pnp_rate": {"per_source": 10**9, "window": 1},
        }
        responder = ResponderProcess(netns, pbx, workdir / "responder", settings).start()
        say("responder: %d devices in the manifest, log at info level (one line per event) to a file" % args.devices)
        steps, best = storm(netns, phone, workdir, "responder", rates, args.seconds, args.devices, say, responder.proc.pid)
        responder.stop()  # writes what is still queued
        stats = responder.rows("SELECT count(*) AS n, sum(notify = 'delivered') AS delivered FROM pnp_events")[0]
        say("status store: %d PnP events recorded, %d NOTIFYs delivered" % (stats["n"], stats["delivered"] or 0))

        baseline_steps, baseline_best = [], None
        if not args.no_baseline:
            (workdir / "uas.xml").write_text(UAS)
            uas_cmd = ["sipp", "-sf", workdir / "uas.xml", "-i", SERVER, "-p", "5060", "-t", "u1", "-nostdin"]
            netns.popen(pbx, uas_cmd, cwd=str(workdir), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # ended by PID
            time.sleep(0.5)
            baseline_steps, baseline_best = storm(netns, phone, workdir, "sipp-uas", rates, args.seconds, args.devices, say)
    finally:
        netns.close()
        if args.keep:
            say("work directory kept: %s" % workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    at_target = next((s for s in steps if s["rate"] == 2000), None)
    result = {
        "max_rate": best["rate"] if best else 0,
        "lost": best["lost"] if best else None,
        "p99_ms": best["p99_ms"] if best else None,
        "target": {"rate": 2000, "lost": 0, "p99_ms": P99_LIMIT_MS},
        "at_2000": at_target,
        "steps": steps,
        "baseline_max_rate": baseline_best["rate"] if baseline_best else None,
        "baseline_steps": baseline_steps,
        "ratio": round(best["rate"] / baseline_best["rate"], 2) if best and baseline_best else None,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
