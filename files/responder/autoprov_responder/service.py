# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Wires the pieces into one asyncio process: PnP, HTTP(S), TFTP, the status store; signals."""

from __future__ import annotations

import asyncio
import signal
import ssl

from . import __version__
from .access import FileAccess
from .httpd import ConfigHost, HttpConnection
from .listen import SPARE_DESCRIPTORS, Acceptor, ConnectionTable, Listener, fit_descriptors, listen_socket
from .manifest import ManifestWatcher
from .pnp import PnpService
from .store import NullStore, StatusStore
from .tftp import MAX_TRANSFERS, TftpServer


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
        self.store = self._open_store()
        self.store.start()
        manifests = ManifestWatcher(config.root, log)
        access = FileAccess(config, manifests, self.store, log)
        if config.auth is None:
            log.event("warning", "no_auth", detail="no credentials configured: files that hold secrets are refused")
        self.access = access
        self.pnp = PnpService(config, manifests, self.store, log, self.loop, access=access)
        self.pnp.start()
        host = ConfigHost(config, access, log)
        self._listen_http(host)
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

    def _open_store(self):
        """The status store; one that cannot be opened (read-only, not a database) is not a reason to stop
        provisioning: the responder serves without recording and says so once."""
        config = self.config
        try:
            return StatusStore(config.db, self.log, retention_days=config.retention_days)
        except Exception as exc:  # sqlite3.Error, StoreError, OSError
            self.log.event("warning", "store_unavailable", db=config.db, error=str(exc), detail="serving without recording")
            return NullStore()

    def _listen_http(self, host):
        """Our own accept loops (listen.py): per-source caps, a reserve for new sources, no EMFILE spin."""
        config, log = self.config, self.log
        limits = config.http_limits
        table = ConnectionTable(self._fit_connections(limits["max_connections"]), limits["per_source"], limits["reserve"])
        backlog = max(128, table.max_connections)
        for listen, tls in [(a, False) for a in config.http_listen] + [(a, True) for a in config.https_listen]:
            proto = "https" if tls else "http"
            try:
                sock = listen_socket(listen[0], listen[1], backlog)
            except OSError as exc:
                raise StartupError("%s_listen: cannot listen on %s:%d: %s" % (proto, listen[0], listen[1], exc.strerror))
            label = "%s:%d" % listen
            acceptor = Acceptor(
                self.loop,
                table,
                lambda source, proto=proto: HttpConnection(host, proto, source, table),
                log,
                label,
                tls=_tls_context(config) if tls else None,
                handshake_timeout=limits["header_timeout"],
            )
            listener = Listener(self.loop, sock, acceptor, log, label)
            listener.start()
            self.servers.append(listener)
            log.event("info", "http_listening", proto=proto, addr=label)

    def _fit_connections(self, wanted):
        """max_connections, lowered when the descriptor limit cannot hold them (said once, at start)."""
        others = SPARE_DESCRIPTORS + 2 * len(self.config.tftp_listen) * MAX_TRANSFERS  # a TFTP transfer: socket + file
        need = 2 * int(wanted) + others  # a connection streaming a file holds a second descriptor
        have = fit_descriptors(need)
        if have >= need:
            return int(wanted)
        fitted = max(16, (have - others) // 2)
        self.log.event("warning", "http_limits_lowered", max_connections=fitted, configured=int(wanted), nofile=have, needs=need)
        return fitted

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
