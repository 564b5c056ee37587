"""What every contract server shares: HTTPS on loopback, state, fault injection, a request log.

A contract server stands in for a vendor's RPS in tests. It checks requests as
strictly as the real service by its published contract (docs/rps.md), keeps
state, and can be told to answer the next requests with 429, 500 or to stall.
"""

from __future__ import annotations

import base64
import collections
import json
import ssl
import subprocess
import threading
import xmlrpc.client
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape


class Reply:
    def __init__(self, status, body=b"", content_type="application/json", headers=None):
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = headers or {}


def json_reply(status, body, headers=None):
    """A JSON answer; 204 carries no body (a body would poison the kept-alive connection)."""
    return Reply(status, b"" if status == 204 else json.dumps(body).encode(), "application/json", headers)


class FakeRps:
    """Base of the vendor fakes: subclasses implement handle(request) -> Reply."""

    # OUIs (6 lowercase hex digits) of the vendor: other MACs are not its devices.
    ouis = ()

    def __init__(self, tls=None):
        self.lock = threading.RLock()
        self.faults = collections.deque()
        self.log = []  # (HTTP method, path) of every request
        self.calls = []  # XML-RPC method names, in order
        self.released = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.fake = self
        self.scheme = "http"
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(tls["cert"], tls["key"])
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
            self.scheme = "https"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    @property
    def base(self):
        return "%s://127.0.0.1:%d" % (self.scheme, self._server.server_address[1])

    def close(self):
        self.released.set()
        self._server.shutdown()
        self._server.server_close()

    # Faults: each queued entry answers one request instead of the contract.
    def fail_next(self, *statuses, retry_after=None):
        for status in statuses:
            headers = {"Retry-After": str(retry_after)} if retry_after is not None and status == 429 else {}
            self.faults.append(("status", status, headers))

    def stall_next(self, count=1):
        self.faults.extend([("stall", None, None)] * count)

    def vendor_mac(self, mac):
        return mac.lower()[:6] in self.ouis

    def handle(self, request):
        raise NotImplementedError


class Request:
    def __init__(self, method, path, headers, body, url):
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
        self.url = url

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def basic_auth(self):
        value = self.headers.get("Authorization", "")
        if not value.startswith("Basic "):
            return None, None
        user, _sep, password = base64.b64decode(value[6:]).decode("utf-8").partition(":")
        return user, password


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _serve(self):
        fake = self.server.fake
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request(self.command, self.path, self.headers, body, fake.base + self.path)
        with fake.lock:
            fake.log.append((self.command, self.path))
            fault = fake.faults.popleft() if fake.faults else None
        if fault and fault[0] == "stall":
            fake.released.wait(30)
            self.close_connection = True
            return
        if fault:
            reply = json_reply(fault[1], {"message": "injected fault %d" % fault[1]}, fault[2])
        else:
            with fake.lock:
                reply = fake.handle(request)
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(reply.body)

    do_GET = do_POST = do_PUT = do_DELETE = _serve


class XmlRpcFake(FakeRps):
    """XML-RPC over HTTP basic auth: subclasses define rpc_<method with . as _>(*params).

    untyped: answer a [boolean, text] pair with the text as an untyped <value>, as
    Gigaset and Htek do (xmlns_ex adds Htek's Apache XML-RPC namespace); else
    xmlrpc.client's typed <string>, as Fanvil does.
    Unknown methods get an XML-RPC fault -32601: our model (no source shows a vendor's fault).
    """

    path = "/xmlrpc"
    untyped = False
    xmlns_ex = False

    def account(self):
        """(user, password as it must arrive) of the one account this fake knows."""
        raise NotImplementedError

    def handle(self, request):
        if request.method != "POST" or request.path != self.path:
            return Reply(404, b"not found", "text/plain")
        if request.basic_auth() != self.account():
            return Reply(401, b"Unauthorized", "text/plain", {"WWW-Authenticate": 'Basic realm="rps"'})
        if not request.headers.get("Content-Type", "").startswith("text/xml"):
            return self.fault(-32700, "Content-Type must be text/xml")
        try:
            params, method = xmlrpc.client.loads(request.body)
        except Exception as exc:
            return self.fault(-32700, "parse error: %s" % exc)
        self.calls.append(method)
        handler = getattr(self, "rpc_" + (method or "").replace(".", "_"), None)
        if handler is None:
            return self.fault(-32601, "unknown method %s" % method)
        try:
            value = handler(*params)
        except TypeError as exc:
            return self.fault(-32602, "wrong parameters for %s: %s" % (method, exc))
        return Reply(200, self.answer(value), "text/xml")

    def answer(self, value):
        if not (self.untyped and isinstance(value, list) and len(value) == 2 and isinstance(value[1], str)):
            return xmlrpc.client.dumps((value,), methodresponse=True, allow_none=False).encode("utf-8")
        namespace = ' xmlns:ex="http://ws.apache.org/xmlrpc/namespaces/extensions"' if self.xmlns_ex else ""
        return (
            '<?xml version="1.0" encoding="UTF-8"?><methodResponse%s><params><param><value><array><data>'
            "<value><boolean>%d</boolean></value><value>%s</value>"
            "</data></array></value></param></params></methodResponse>" % (namespace, bool(value[0]), xml_escape(value[1]))
        ).encode("utf-8")

    def fault(self, code, text):
        return Reply(200, xmlrpc.client.dumps(xmlrpc.client.Fault(code, text), methodresponse=True).encode("utf-8"), "text/xml")


def make_test_ca(directory):
    """A CA and a server certificate for 127.0.0.1 / localhost, made with OpenSSL. Paths by name."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    paths = {name: str(d / name) for name in ("ca.pem", "ca.key", "server.pem", "server.key", "server.csr", "ext.cnf")}

    def openssl(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", paths["ca.key"], "-out", paths["ca.pem"],
            "-days", "2", "-subj", "/CN=autoprov test CA")  # fmt: skip
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", paths["server.key"], "-out", paths["server.csr"],
            "-subj", "/CN=127.0.0.1")  # fmt: skip
    Path(paths["ext.cnf"]).write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    openssl("x509", "-req", "-in", paths["server.csr"], "-CA", paths["ca.pem"], "-CAkey", paths["ca.key"], "-CAcreateserial",
            "-out", paths["server.pem"], "-days", "2", "-extfile", paths["ext.cnf"])  # fmt: skip
    return {"ca": paths["ca.pem"], "cert": paths["server.pem"], "key": paths["server.key"]}
