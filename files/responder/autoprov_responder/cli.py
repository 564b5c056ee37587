# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""python3 -m autoprov_responder: flags per docs/responder.md, --check, exit codes 0/2 (1: failed at run time)."""

from __future__ import annotations

import argparse
import asyncio
import sys

from . import __version__, config
from .log import EventLog
from .pnp import PnpSetupError
from .service import Responder, StartupError


def build_parser():
    parser = argparse.ArgumentParser(prog="autoprov_responder", description="PnP responder and config host for pbxops.autoprov.")
    parser.add_argument("--config", help="JSON configuration file (docs/responder.md)")
    parser.add_argument("--root", help="config root to serve (overrides the file)")
    parser.add_argument("--url", help="provisioning URL (ends in /)")
    parser.add_argument("--sip-listen", action="append", metavar="ADDR:PORT", help="UDP address for PnP (repeatable)")
    parser.add_argument("--http-listen", action="append", metavar="ADDR:PORT", help="HTTP address (repeatable)")
    parser.add_argument("--interface", action="append", metavar="IFACE", help="join 224.0.1.75 on this interface (repeatable)")
    parser.add_argument("--db", help="SQLite status store")
    parser.add_argument("--answer-unknown", action="store_true", default=None, help="answer PnP for MACs not in the manifest")
    parser.add_argument("--check", action="store_true", help="validate the configuration and exit (0 ok, 2 problems)")
    parser.add_argument("--version", action="version", version="%(prog)s " + __version__)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    overrides = {
        "root": args.root,
        "url": args.url,
        "sip_listen": args.sip_listen,
        "http_listen": args.http_listen,
        "interfaces": args.interface,
        "db": args.db,
        "answer_unknown": args.answer_unknown,
    }
    where = args.config or "command line"
    try:
        settings = config.load(args.config, overrides)
    except config.ConfigError as exc:
        for problem in exc.problems:
            print("%s: %s" % (where, problem), file=sys.stderr)
        return 2
    if args.check:
        problems, notes = config.check_environment(settings)
        for note in notes:
            print("%s: %s" % (where, note))
        for problem in problems:
            print("%s: %s" % (where, problem), file=sys.stderr)
        if settings.auth is None and not problems:
            print("%s: note: auth not set; secret files are guarded only by User-Agent/MAC, allow-list and lockout" % where)
        if not problems:
            print("%s: configuration OK" % where)
        return 2 if problems else 0
    log = EventLog(settings.log_level)
    try:
        asyncio.run(Responder(settings, log).run())
    except (StartupError, PnpSetupError) as exc:
        log.event("error", "startup_failed", error=str(exc))
        return 1
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
