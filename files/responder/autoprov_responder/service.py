# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Wires the pieces into one asyncio process: PnP, HTTP(S), TFTP, the status store; signals."""

from __future__ import annotations

import asyncio
import signal
import ssl

from . import __version__
from .access import FileAccess
from .httpd import ConfigHost, HttpConnection
from .manifest import ManifestWatcher
from .pnp import PnpService
from .store import StatusStore
from .tftp import TftpServer


class StartupError(Exception):
    pass


def _tls_context(config):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(config.tls_cert, config.tls_key)
    return context


class Responder:
    def __init__(self, config, log):
        self.config = config
        self.log = log
        self.loop = None
        self.store = None
        self.pnp = None
        self.access = None
        self.servers = []
        self.transports = []
        self.stopped = None

    async def start(self):
        config, log = self.config, self.log
        self.loop = asyncio.get_running_loop()
        self.loop.set_exception_handler(self._internal_error)
        self.log.attach(self.loop)
        self.stopped = self.loop.create_future()
        try:
            self.store = StatusStore(config.db, log, retention_days=config.retention_days)
        except Exception as exc:  # sqlite3.Error, StoreError, OSError
            raise StartupError("db: cannot open %s: %s" % (config.db, exc))
        self.store.start()
        manifests = ManifestWatcher(config.root, log)
        access = FileAccess(config, manifests, self.store, log)
        if config.auth is None:
            log.event("warning", "no_auth", detail="no credentials configured: files that hold secrets are refused")
        self.access = access
        self.pnp = PnpService(config, manifests, self.store, log, self.loop, access=access)
        self.pnp.start()
        host = ConfigHost(config, access, log)
        backlog = max(128, int(config.http_limits["max_connections"]))
        for listen, tls in [(a, None) for a in config.http_listen] + [(a, True) for a in config.https_listen]:
            context = _tls_context(config) if tls else None
            proto = "https" if tls else "http"
            try:
                server = await self.loop.create_server(
                    lambda proto=proto: HttpConnection(host, proto),
                    listen[0],
                    listen[1],
                    ssl=context,
                    ssl_handshake_timeout=config.http_limits["header_timeout"] if context else None,
                    reuse_address=True,
                    backlog=backlog,
                )
            except OSError as exc:
                raise StartupError("%s_listen: cannot listen on %s:%d: %s" % (proto, listen[0], listen[1], exc.strerror))
            self.servers.append(server)
            log.event("info", "http_listening", proto=proto, addr="%s:%d" % listen)
        for listen in config.tftp_listen:
            try:
                transport, _unused = await self.loop.create_datagram_endpoint(
                    lambda: TftpServer(config, access, log, self.loop), local_addr=listen, reuse_port=False
                )
            except OSError as exc:
                raise StartupError("tftp_listen: cannot listen on %s:%d: %s" % (listen[0], listen[1], exc.strerror))
            self.transports.append(transport)
            log.event("info", "tftp_listening", addr="%s:%d" % listen)
        for signum in (signal.SIGTERM, signal.SIGINT):
            self.loop.add_signal_handler(signum, self.stop)
        self.loop.add_signal_handler(signal.SIGHUP, manifests.reload)
        log.event("info", "started", version=__version__, root=config.root, url=config.url_for_logs, db=config.db)

    def _internal_error(self, loop, context):
        """A bug must not stop the service; it gets one log line (with the traceback at debug level)."""
        exc = context.get("exception")
        self.log.event("error", "internal_error", message=context.get("message"), error=repr(exc) if exc else None)
        if exc is not None and self.log.enabled("debug"):
            import traceback

            for line in traceback.format_exception(type(exc), exc, exc.__traceback__):
                self.log.event("debug", "traceback", line=line.rstrip())

    def stop(self):
        if self.stopped is not None and not self.stopped.done():
            self.stopped.set_result(None)

    async def run(self):
        try:
            await self.start()
            await self.stopped
        finally:
            await self.shutdown()

    async def shutdown(self):
        for server in self.servers:
            server.close()
        for transport in self.transports:
            transport.close()
        if self.pnp is not None:
            self.pnp.close()
        if self.access is not None:
            self.access.bindings.save()
        if self.store is not None:
            self.store.close()
        self.log.event("info", "stopped")
        self.log.attach(None)
        self.log.flush()
