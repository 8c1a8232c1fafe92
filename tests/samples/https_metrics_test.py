#!/usr/bin/python3
"""timestamp_server as HTTPS, metrics and hardening users see it: curl and Python's
http.client over --https-port (ALPN, the status page, a certificate reloaded on SIGHUP),
/metrics parsed by Debian's python3-prometheus-client against INFO, and HTTP sent to the
RESP port closed at once.

Usage: https_metrics_test.py TIMESTAMP_SERVER SCENARIO
Scenarios: https_curl, https_python, https_reload, metrics, http_to_resp.
Run it with /usr/bin/python3, where Debian installs prometheus_client."""
import http.client
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile

import samples_test
from samples_test import TIMEOUT, wait_for_stderr

HERE = os.path.dirname(os.path.abspath(__file__))
CERTS_SCRIPT = os.path.join(os.path.dirname(HERE), "support", "make_test_certs.sh")


def skip(why):
    print("skipped:", why)
    sys.exit(77)


class Server(samples_test.Server):
    """timestamp_server on port 0 with `args`; its HTTP and HTTPS ports read from its banner."""

    def __init__(self, binary, args):
        super().__init__([binary, "--port", "0"] + args)
        https = re.search(r"https port (\d+) \(status page: https://127\.0\.0\.1:(\d+)/\)", self.first_line)
        self.https_port = int(https.group(1)) if https else None
        http = re.search(r"; http port (\d+)", self.first_line)
        self.http_port = int(http.group(1)) if http else None

    def stop(self):
        rc, out, err = super().stop()
        assert rc == 0, (rc, out, err)
        return out, err


def until_closed(sock):
    """Everything `sock` receives until the peer closes."""
    got = b""
    while True:
        chunk = sock.recv(4096)
        if not chunk:
            return got
        got += chunk


class Certs:
    """The tests' certificates (support/make_test_certs.sh) in a temporary directory."""

    def __init__(self):
        if not shutil.which("openssl"):
            skip("openssl not installed")
        self.tmp = tempfile.TemporaryDirectory()
        subprocess.run(["sh", CERTS_SCRIPT, self.tmp.name], check=True, capture_output=True, timeout=60)

    def path(self, name):
        return os.path.join(self.tmp.name, name)


def https_args(certs, cert="server.pem", key="server.key"):
    return ["--https-port", "0", "--tls-cert", certs.path(cert), "--tls-key", certs.path(key)]


def client_context(certs):
    ctx = ssl.create_default_context(cafile=certs.path("ca.pem"))
    ctx.set_alpn_protocols(["h2", "http/1.1"])
    return ctx


def https_curl(binary):
    if not shutil.which("curl"):
        skip("curl not installed")
    certs = Certs()
    with Server(binary, https_args(certs)) as srv:
        base = "https://localhost:%d" % srv.https_port
        done = subprocess.run(["curl", "-sS", "-v", "--cacert", certs.path("ca.pem"), base + "/timestamp/iso",
                               base + "/ping"], capture_output=True, text=True, timeout=TIMEOUT)
        assert done.returncode == 0, done.stderr
        # Two requests on one connection: keep-alive works over TLS.
        assert re.search(r"ALPN[:,] server accepted (to use )?http/1\.1", done.stderr), done.stderr
        assert "Re-using existing connection" in done.stderr or "Reusing existing" in done.stderr, done.stderr
        assert re.fullmatch(r'\{"timestamp":"\d{4}-\d\d-\d\dT[^"]+"\}\{"ping":"PONG"\}', done.stdout), done.stdout
        page = subprocess.run(["curl", "-sS", "--cacert", certs.path("ca.pem"), "-o", "-", "-w", "%{http_code}",
                               base + "/"], capture_output=True, text=True, timeout=TIMEOUT)
        assert page.stdout.endswith("200") and "<html" in page.stdout, page.stdout[:200]
        # Without the CA, curl refuses the certificate: it is the test CA's, not a public one.
        bad = subprocess.run(["curl", "-sS", base + "/ping"], capture_output=True, text=True, timeout=TIMEOUT)
        assert bad.returncode != 0, bad.stdout
        srv.stop()


def https_python(binary):
    certs = Certs()
    with Server(binary, https_args(certs) + ["--http-port", "0"]) as srv:
        conn = http.client.HTTPSConnection("localhost", srv.https_port, timeout=TIMEOUT,
                                           context=client_context(certs))
        for path, status, body in [("/ping", 200, b'{"ping":"PONG"}'), ("/echo/hello", 200, b'{"echo":"hello"}'),
                                   ("/healthz", 200, b"ok\n"), ("/nope", 404, None)]:
            conn.request("GET", path)
            r = conn.getresponse()
            got = r.read()
            assert r.status == status, (path, r.status, got)
            assert body is None or got == body, (path, got)
        assert conn.sock.selected_alpn_protocol() == "http/1.1", conn.sock.selected_alpn_protocol()
        conn.request("POST", "/echo", body=b"posted", headers={"Content-Type": "text/plain"})
        r = conn.getresponse()
        assert r.status == 200 and r.read() == b'{"echo":"posted"}', r.status
        conn.request("GET", "/stats.json")
        r = conn.getresponse()
        assert r.status == 200 and b'"server":"coronet"' in r.read()
        conn.close()
        # The plain HTTP port beside it still speaks plaintext.
        plain = http.client.HTTPConnection("127.0.0.1", srv.http_port, timeout=TIMEOUT)
        plain.request("GET", "/ping")
        assert plain.getresponse().read() == b'{"ping":"PONG"}'
        plain.close()
        srv.stop()
    # A certificate that cannot be loaded: the message names every listener, the HTTPS one too.
    done = subprocess.run([binary, "--port", "0", "--https-port", "0", "--tls-cert", certs.path("nonexistent.pem"),
                           "--tls-key", certs.path("server.key")], capture_output=True, text=True, timeout=TIMEOUT)
    assert done.returncode == 1, done
    assert re.search(r"cannot listen on 127\.0\.0\.1 port 0 \(resp\), port 0 \(http, TLS\): .*nonexistent\.pem",
                     done.stderr), done.stderr


def peer_certificate(port, certs):
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as raw:
        with client_context(certs).wrap_socket(raw, server_hostname="localhost") as s:
            der = s.getpeercert(binary_form=True)
            s.sendall(b"GET /ping HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            reply = until_closed(s)
            assert reply.startswith(b"HTTP/1.1 200") and reply.endswith(b'{"ping":"PONG"}'), reply
            return der


def pem_to_der(path):
    with open(path) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())


def https_reload(binary):
    certs = Certs()
    live_cert, live_key = certs.path("live.pem"), certs.path("live.key")
    shutil.copy(certs.path("server.pem"), live_cert)
    shutil.copy(certs.path("server.key"), live_key)
    with Server(binary, ["--https-port", "0", "--tls-cert", live_cert, "--tls-key", live_key]) as srv:
        assert peer_certificate(srv.https_port, certs) == pem_to_der(certs.path("server.pem"))
        shutil.copy(certs.path("server2.pem"), live_cert)
        shutil.copy(certs.path("server2.key"), live_key)
        srv.proc.send_signal(signal.SIGHUP)
        wait_for_stderr(srv, rb"certificate reloaded")
        assert peer_certificate(srv.https_port, certs) == pem_to_der(certs.path("server2.pem"))
        srv.stop()


class Resp:
    """Inline commands over one connection; each returns its reply's first line."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        self.file = self.sock.makefile("rb")

    def call(self, line):
        """The reply's first line; a bulk string's body is read and dropped."""
        self.sock.sendall(line.encode() + b"\r\n")
        header = self.file.readline().decode().rstrip("\r\n")
        if header.startswith("$") and header != "$-1":
            self.file.read(int(header[1:]) + 2)
        return header

    def info(self):
        """INFO's key:value lines as a dict."""
        self.sock.sendall(b"INFO\r\n")
        header = self.file.readline().decode()
        assert header.startswith("$"), header
        body = self.file.read(int(header[1:]) + 2).decode()
        return dict(l.split(":", 1) for l in body.splitlines() if ":" in l and not l.startswith("#"))


def metrics(binary):
    try:
        from prometheus_client.parser import text_string_to_metric_families
    except ImportError:
        skip("python3-prometheus-client is not installed (scripts/setup installs it)")
    with Server(binary, ["--http-port", "0"]) as srv:
        resp = Resp(srv.port)
        for _ in range(7):
            assert resp.call("TIMESTAMP").startswith("$"), "timestamp"
        for _ in range(3):
            assert resp.call("ECHO").startswith("-ERR wrong number of arguments"), "echo"
        assert resp.call("NOSUCH").startswith("-ERR unknown command")
        conn = http.client.HTTPConnection("127.0.0.1", srv.http_port, timeout=TIMEOUT)
        conn.request("GET", "/metrics")
        r = conn.getresponse()
        text = r.read().decode()
        assert r.status == 200, r.status
        assert r.getheader("Content-Type") == "text/plain; version=0.0.4; charset=utf-8", r.getheader("Content-Type")
        # INFO while the scrape's connection is still open: both see the same two.
        info = resp.info()
        conn.close()
        families = {f.name: f for f in text_string_to_metric_families(text)}

        def value(family, suffix="", **labels):
            for smp in families[family].samples:
                if smp.name == family + suffix and all(smp.labels.get(k) == v for k, v in labels.items()):
                    return smp.value
            raise AssertionError("no %s%s%r in %r" % (family, suffix, labels, text))

        assert families["coronet_command_calls"].type == "counter"
        assert families["coronet_command_duration_seconds"].type == "histogram"
        assert families["coronet_connections_open"].type == "gauge"
        assert value("coronet_command_calls", "_total", command="timestamp") == 7
        assert value("coronet_command_errors", "_total", command="timestamp") == 0
        assert value("coronet_command_calls", "_total", command="echo") == 3
        assert value("coronet_command_errors", "_total", command="echo") == 3
        assert value("coronet_unknown_commands", "_total") == 1
        # The histogram holds the timed calls: with the default latency_sample_every (16), the
        # first of the 7, all made on one connection and so on one worker.
        assert value("coronet_command_duration_seconds", "_count", command="timestamp") == 1
        assert value("coronet_command_duration_seconds", "_bucket", command="timestamp", le="+Inf") == 1
        assert value("coronet_command_duration_seconds", "_sum", command="timestamp") > 0
        buckets = [smp.value for smp in families["coronet_command_duration_seconds"].samples
                   if smp.name.endswith("_bucket") and smp.labels["command"] == "timestamp"]
        assert buckets == sorted(buckets), buckets
        # Against INFO, read after the scrape: the same connections, the requests so far (11 on
        # the RESP connection, the scrape itself on the HTTP one), the same errors.
        assert value("coronet_connections", "_total") == int(info["total_connections_received"]) == 2
        assert value("coronet_requests", "_total") == 12 == int(info["total_commands_processed"]), info
        assert value("coronet_errors", "_total") == 4 == int(info["total_error_replies"]), info
        assert value("coronet_connections_open") == int(info["connected_clients"]) == 2, info
        assert value("coronet_protocol_connections_open", protocol="http") == 1
        assert value("coronet_received_bytes", "_total") <= int(info["total_net_input_bytes"])
        assert value("coronet_draining") == 0 and value("coronet_maintenance") == 0
        assert value("coronet_listener_up", port=str(srv.http_port), protocol="http", tls="false") == 1
        assert value("coronet_listener_up", port=str(srv.port), protocol="resp") == 1
        srv.stop()


def http_to_resp(binary):
    with Server(binary, []) as srv:
        forged = (b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n"
                  b"Content-Length: 10\r\n\r\nFLUSHALL\r\n")
        with socket.create_connection(("127.0.0.1", srv.port), timeout=TIMEOUT) as s:
            s.sendall(forged)
            got = until_closed(s)
            assert got == b"", got
        resp = Resp(srv.port)
        assert resp.info()["coronet_security_attacks"] == "1"
        _, err = srv.stop()
        assert err.count("Possible SECURITY ATTACK detected") == 1, err


def main():
    binary, scenario = sys.argv[1], sys.argv[2]
    scenarios = {
        "https_curl": https_curl,
        "https_python": https_python,
        "https_reload": https_reload,
        "metrics": metrics,
        "http_to_resp": http_to_resp,
    }
    scenarios[scenario](binary)
    print("ok:", scenario)


if __name__ == "__main__":
    main()
