"""A headless Chromium driven over the DevTools protocol, with the standard
library only: a minimal WebSocket client (RFC 6455: masked text frames out,
unfragmented or fragmented frames in, ping answered) and the few CDP calls a
test needs. Every wait is bounded."""
import base64
import json
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import urllib.request


class WebSocket:
    """A client WebSocket over a plain TCP connection (ws:// only)."""

    def __init__(self, url, timeout=10):
        if not url.startswith("ws://"):
            raise ValueError("only ws:// URLs: %r" % url)
        hostport, _, path = url[len("ws://"):].partition("/")
        host, _, port = hostport.rpartition(":")
        self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(("GET /%s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (path, hostport, key))
                          .encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("DevTools closed the connection during the handshake")
            head += chunk
        head, _, self.pending = head.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 101"):
            raise ConnectionError("WebSocket handshake refused: %r" % head[:200])

    def send(self, text):
        payload = text.encode()
        mask = os.urandom(4)
        n = len(payload)
        if n < 126:
            header = struct.pack("!BB", 0x81, 0x80 | n)
        elif n < 65536:
            header = struct.pack("!BBH", 0x81, 0x80 | 126, n)
        else:
            header = struct.pack("!BBQ", 0x81, 0x80 | 127, n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def _read(self, n, deadline):
        while len(self.pending) < n:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.sock], [], [], left)[0]:
                raise TimeoutError("no message from DevTools in time")
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("DevTools closed the connection")
            self.pending += chunk
        out, self.pending = self.pending[:n], self.pending[n:]
        return out

    def receive(self, timeout):
        """The next text message, or None if none came within `timeout` s."""
        deadline = time.monotonic() + timeout
        message = b""
        try:
            while True:
                b0, b1 = self._read(2, deadline)
                opcode, fin, n = b0 & 0x0F, b0 & 0x80, b1 & 0x7F
                if n == 126:
                    n = struct.unpack("!H", self._read(2, deadline))[0]
                elif n == 127:
                    n = struct.unpack("!Q", self._read(8, deadline))[0]
                mask = self._read(4, deadline) if b1 & 0x80 else None
                data = self._read(n, deadline)
                if mask:
                    data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
                if opcode == 0x9:  # ping
                    self.sock.sendall(struct.pack("!BB", 0x8A, 0x80 | len(data)) + b"\0\0\0\0" + data)
                    continue
                if opcode == 0x8:
                    raise ConnectionError("DevTools closed the WebSocket")
                if opcode in (0x0, 0x1, 0x2):
                    message += data
                    if fin:
                        return message.decode()
        except TimeoutError:
            return None

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def find_chromium():
    """The Chromium (or Chrome) to run: $CORONET_CHROMIUM, else the first on PATH."""
    path = os.environ.get("CORONET_CHROMIUM")
    if path:
        return path
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


class Browser:
    """A headless Chromium with a private profile, and one page to drive."""

    def __init__(self, executable, width=1200, height=1000, timeout=30, extra_args=()):
        self.profile = tempfile.mkdtemp(prefix="coronet-chromium-")
        argv = [executable, "--headless=new", "--remote-debugging-port=0", "--user-data-dir=" + self.profile,
                "--no-first-run", "--no-default-browser-check", "--disable-gpu", "--disable-extensions",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--force-device-scale-factor=1", "--hide-scrollbars",
                "--window-size=%d,%d" % (width, height)] + list(extra_args) + ["about:blank"]
        if os.geteuid() == 0:
            argv.insert(1, "--no-sandbox")  # Chromium refuses to run as root with its sandbox
        self.log = open(os.path.join(self.profile, "chromium.log"), "wb")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.events = []
        self.next_id = 0
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        deadline = time.monotonic() + timeout
        while not os.path.exists(port_file) or len(open(port_file).read().split("\n")) < 2:
            if self.proc.poll() is not None:
                raise RuntimeError("chromium exited with %s: %s" % (self.proc.returncode, self.output()))
            if time.monotonic() > deadline:
                raise RuntimeError("chromium did not open its DevTools port in %d s: %s" % (timeout, self.output()))
            time.sleep(0.05)
        self.port = int(open(port_file).read().split("\n")[0])
        page = None
        while page is None:
            with urllib.request.urlopen("http://127.0.0.1:%d/json/list" % self.port, timeout=5) as r:
                page = next((t for t in json.load(r) if t.get("type") == "page"), None)
            if page is None:
                if time.monotonic() > deadline:
                    raise RuntimeError("chromium has no page target")
                time.sleep(0.05)
        self.ws = WebSocket(page["webSocketDebuggerUrl"])

    def output(self):
        self.log.flush()
        with open(self.log.name, "rb") as f:
            return f.read()[-2000:].decode(errors="replace")

    def call(self, method, timeout=15, **params):
        """Sends a CDP command and returns its result; events that arrive meanwhile are kept in `events`."""
        self.next_id += 1
        mine = self.next_id
        self.ws.send(json.dumps({"id": mine, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            text = self.ws.receive(max(left, 0)) if left > 0 else None
            if text is None:
                raise TimeoutError("%s: no answer in %d s" % (method, timeout))
            msg = json.loads(text)
            if msg.get("id") == mine:
                if "error" in msg:
                    raise RuntimeError("%s failed: %s" % (method, msg["error"]))
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def pump(self, seconds):
        """Collects events for up to `seconds`."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            text = self.ws.receive(deadline - time.monotonic())
            if text is None:
                return
            msg = json.loads(text)
            if "method" in msg:
                self.events.append(msg)

    def evaluate(self, expression):
        """The value of a JavaScript expression (JSON-serialisable) in the page."""
        r = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise RuntimeError("evaluating %r threw: %s" % (expression, r["exceptionDetails"]))
        return r["result"].get("value")

    def errors(self):
        """Every error the page reported: console.error/assert, uncaught exceptions, and the
        browser's own error log entries (failed loads, CSP violations, ...)."""
        out = []
        for e in self.events:
            m, p = e["method"], e.get("params", {})
            if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.append("console.%s: %s" % (p["type"], " ".join(
                    str(a.get("value", a.get("description", ""))) for a in p.get("args", []))))
            elif m == "Runtime.exceptionThrown":
                d = p.get("exceptionDetails", {})
                out.append("exception: %s" % d.get("exception", {}).get("description", d.get("text")))
            elif m == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
                entry = p["entry"]
                out.append("log (%s): %s %s" % (entry.get("source"), entry.get("text"), entry.get("url", "")))
        return out

    def close(self):
        try:
            self.call("Browser.close", timeout=5)
        except Exception:  # already gone: killed below anyway
            pass
        self.ws.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        try:  # the browser and whatever helpers it left in its session
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=5)
        self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)
