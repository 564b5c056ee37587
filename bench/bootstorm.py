"""Boot storm: 2,000 phones fetch their files, 200 at a time, from the responder and from nginx.

Workload (fixed): 2,000 Yealink phones, each fetching the shared model file,
its <mac>.boot and its <mac>.cfg (secret: Basic auth, User-Agent with its MAC),
6,000 requests; 200 in flight (two curl --parallel processes of 100); a fresh
TCP connection per request (Connection: close), from 50 source addresses.
Baseline, same run, same directory, same requests: nginx (stock worker count,
Basic auth on the .cfg files, access log on, as the responder logs every fetch).
Rounds alternate between the servers; each server's best round counts.

Last line: {"responder_rps", "nginx_rps", "ratio", "failures", ...}
(failures: responses other than 200, over every round of both servers).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import cpu_seconds, require_root, use_test_helpers

use_test_helpers()
from helpers import Netns, wait_for  # noqa: E402
from responder_support import ResponderProcess, user_agent, write_root  # noqa: E402

SERVER, CLIENT_NET = "10.99.36.1", "10.99.36."
TOKEN = "/p/bench/"
USER, PASSWORD = "prov", "bench-Pr0v"
PORTS = {"responder": 8080, "nginx": 8081, "threaded-stdlib": 8082}
NGINX_CONF = """
worker_processes auto;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log {work}/nginx-access.log;
    client_body_temp_path {work}/tmp; proxy_temp_path {work}/tmp; fastcgi_temp_path {work}/tmp;
    uwsgi_temp_path {work}/tmp; scgi_temp_path {work}/tmp;
    default_type application/octet-stream;
    server {{
        listen {server}:{port};
        location {token} {{ alias {root}/; }}
        location ~ "^{token}[0-9a-f]{{12}}\\.cfg$" {{
            root {root}; rewrite ^{token}(.*)$ /$1 break;
            auth_basic "autoprov"; auth_basic_user_file {work}/htpasswd;
        }}
    }}
}}
"""


def device_config(mac):
    """About the size and shape of a real Yealink device file (two accounts, some keys)."""
    lines = ["#!version:1.0.0.1"]
    for n in (1, 2):
        lines += [
            "account.%d.enable = 1" % n,
            "account.%d.label = %s-%d" % (n, mac[-4:], n),
            "account.%d.user_name = %d%s" % (n, n, mac[-3:]),
            "account.%d.auth_name = %d%s" % (n, n, mac[-3:]),
            "account.%d.password = secret-%s-%d" % (n, mac, n),
            "account.%d.sip_server.1.address = 192.0.2.10" % n,
        ]
    lines += ["linekey.%d.type = 16\nlinekey.%d.value = %d" % (k, k, 200 + k) for k in range(1, 28)]
    return "\n".join(lines) + "\n"


def curl_config(work, port, phones, part, parts):
    """A curl config: per phone, its three files, with its User-Agent and source address."""
    base = "http://%s:%d%s" % (SERVER, port, TOKEN)
    lines = []
    for index, mac in enumerate(phones):
        if index % parts != part:
            continue
        source = CLIENT_NET + str(10 + index % 50)
        for name, auth in (("y000000000066.cfg", False), (mac + ".boot", False), (mac + ".cfg", True)):
            lines += ['url = "%s%s"' % (base, name), 'output = "/dev/null"', 'user-agent = "%s"' % user_agent("yealink", mac)]
            lines += ['interface = "%s"' % source, 'header = "Connection: close"', 'write-out = "%{http_code}\\n"']
            if auth:
                lines.append('user = "%s:%s"' % (USER, PASSWORD))
            lines.append("next")
    if lines and lines[-1] == "next":
        lines.pop()  # a trailing "next" opens a group without a URL, which fails the whole run
    path = work / ("curl-%d-%d.conf" % (port, part))
    path.write_text("\n".join(lines) + "\n")
    return path


def storm(netns, client, work, target, phones, concurrency):
    """All phones once against one server; (requests/s, codes other than 200, total)."""
    parts = 2
    procs = []
    started = time.monotonic()
    for part in range(parts):
        conf = curl_config(work, PORTS[target], phones, part, parts)
        cmd = ["curl", "-sS", "--parallel", "--parallel-max", concurrency // parts, "--max-time", "30", "-K", conf]
        procs.append(netns.popen(client, cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    codes, errors = [], []
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        codes += out.decode().split()
        errors += err.decode(errors="replace").splitlines()
    errors = [e for e in errors if e.startswith("curl:")]
    if errors:
        print("curl: %d errors, e.g. %s" % (len(errors), sorted(set(errors))[:3]), flush=True)
    elapsed = time.monotonic() - started
    failures = sum(code != "200" for code in codes) + (3 * len(phones) - len(codes))
    return len(codes) / elapsed, failures, len(codes)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--phones", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3, help="rounds per server, alternating (default %(default)s)")
    parser.add_argument(
        "--with-threaded", action="store_true", help="also time http.server's ThreadingHTTPServer (the thread-per-connection design)"
    )
    args = parser.parse_args()
    require_root()
    for tool in ("curl", "nginx"):
        if not shutil.which(tool):
            sys.exit("needs %s (Debian packages curl, nginx-light)" % tool)

    def say(text):
        print(text, flush=True)

    work = Path(tempfile.mkdtemp(prefix="bench-bootstorm-"))
    (work / "tmp").mkdir()
    netns = Netns()
    try:
        pbx, client = netns.add("pbx"), netns.add("phones")
        _unused, client_if = netns.wire(pbx, SERVER + "/24", client, None)
        for i in range(50):
            netns.run(client, ["ip", "addr", "add", "%s%d/24" % (CLIENT_NET, 10 + i), "dev", client_if])
        phones = ["0015%08x" % i for i in range(args.phones)]
        root = work / "root"
        write_root(
            root,
            {
                m: {
                    "vendor": "yealink",
                    "model": "T46S",
                    "files": {
                        m + ".boot": ("#!version:1.0.0.1\ninclude:config <%s.cfg>\n" % m, False),
                        m + ".cfg": (device_config(m), True),
                    },
                }
                for m in phones
            },
            shared={"y000000000066.cfg": ("#!version:1.0.0.1\n" + "static.auto_provision.enable = 1\n" * 40, "yealink")},
        )
        settings = {
            "root": str(root),
            "url": "http://%s:%d%s" % (SERVER, PORTS["responder"], TOKEN),
            "sip_listen": ["%s:5060" % SERVER],
            "http_listen": ["%s:%d" % (SERVER, PORTS["responder"])],
            "auth": {"username": USER, "password": PASSWORD},
        }
        responder = ResponderProcess(netns, pbx, work / "responder", settings).start()
        (work / "htpasswd").write_text("%s:{PLAIN}%s\n" % (USER, PASSWORD))
        (work / "nginx.conf").write_text(NGINX_CONF.format(work=work, server=SERVER, port=PORTS["nginx"], token=TOKEN, root=root))
        nginx_err = open(work / "nginx-stderr.log", "wb")
        nginx = netns.popen(
            pbx, ["nginx", "-c", work / "nginx.conf", "-g", "daemon off; user root;"], stdout=subprocess.DEVNULL, stderr=nginx_err
        )
        wait_for(lambda: (work / "nginx.pid").exists() or nginx.poll() is not None, timeout=10, what="nginx")
        if nginx.poll() is not None:
            sys.exit("nginx did not start: " + (work / "nginx-stderr.log").read_text())
        targets = ["responder", "nginx"]
        if args.with_threaded:
            code = (
                "import functools,http.server as h\n"
                "class S(h.ThreadingHTTPServer): request_queue_size = 1024\n"
                "S(('%s',%d),functools.partial(h.SimpleHTTPRequestHandler,directory='%s')).serve_forever()"
            )
            netns.popen(
                pbx,
                [sys.executable, "-c", code % (SERVER, PORTS["threaded-stdlib"], work / "web")],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            (work / "web" / TOKEN.strip("/")).parent.mkdir(parents=True)
            (work / "web" / TOKEN.strip("/")).symlink_to(root)
            targets.append("threaded-stdlib")
        time.sleep(0.5)
        best, failures, rounds = {}, {}, {t: [] for t in targets}
        for round_no in range(args.rounds):
            for target in targets:
                cpu_before = cpu_seconds(responder.proc.pid) if target == "responder" else None
                started = time.monotonic()
                rps, failed, total = storm(netns, client, work, target, phones, args.concurrency)
                busy = ""
                if cpu_before is not None:
                    busy = "  responder CPU %.0f%%" % (100 * (cpu_seconds(responder.proc.pid) - cpu_before) / (time.monotonic() - started))
                rounds[target].append(round(rps))
                best[target] = max(best.get(target, 0), rps)
                failures[target] = failures.get(target, 0) + failed
                say("round %d %-16s %6.0f requests/s  %d of %d not 200%s" % (round_no + 1, target, rps, failed, total, busy))
        responder.stop()
        recorded = responder.rows("SELECT count(*) AS n, sum(status = 200) AS ok FROM fetches")[0]
        say("responder status store: %d fetches recorded, %d served" % (recorded["n"], recorded["ok"] or 0))
    finally:
        netns.close()
        shutil.rmtree(work, ignore_errors=True)

    result = {
        "responder_rps": round(best["responder"]),
        "nginx_rps": round(best["nginx"]),
        "ratio": round(best["responder"] / best["nginx"], 3),
        "failures": failures["responder"] + failures["nginx"],
        "responder_failures": failures["responder"],
        "nginx_failures": failures["nginx"],
        "requests_per_round": 3 * args.phones,
        "concurrency": args.concurrency,
        "rounds": rounds,
        "target": {"failures": 0, "ratio": 0.25},
    }
    if "threaded-stdlib" in best:
        result["threaded_stdlib_rps"] = round(best["threaded-stdlib"])
    print(json.dumps(result))


if __name__ == "__main__":
    main()
