#!/usr/bin/env python3
"""Real HTTP clients against the timestamp sample's HTTP listener
(`--http-port 0`): curl, Python's http.client, ab -k, wrk, h2load --h1, and
HAProxy's `option httpchk GET /healthz`. Each scenario is bounded: a few
hundred requests, a second or two of load.

Usage: http_clients_test.py {curl|python|ab|wrk|h2load|haproxy} PATH/TO/timestamp_server

A missing program skips the scenario (exit 77), except under CI=true, where
it fails: CI installs every one (scripts/setup)."""
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop import CTIME, need_tool, _die_with_parent, check, main, run, server_still_up, skip, timestamp_server  # noqa: E402

ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


def http_server(binary, *extra):
    srv = timestamp_server(binary, "--http-port", "0", *extra)
    check("http" in srv.ports, "the banner names the http port: %r" % srv.banner.strip())
    return srv


def curl(binary):
    exe = need_tool("curl")
    with http_server(binary) as srv:
        base = "http://127.0.0.1:%d" % srv.ports["http"]

        # Two URLs, one connection: -v shows it re-used.
        rc, out, err = run([exe, "-sv", base + "/timestamp/iso", base + "/timestamp"], timeout=10)
        check(rc == 0, "curl two URLs exits 0 (%r, %s)" % (rc, err[-300:]))
        check(re.fullmatch(r'\{"timestamp":"%s"\}\{"timestamp":"%s"\}' % (ISO, CTIME), out) is not None,
              "both replies are JSON: %r" % out)
        check(err.count("Connected to 127.0.0.1") == 1 and "Re-using existing connection" in err,
              "one connection for both (-v: %d connect, re-use %s)"
              % (err.count("Connected to"), "Re-using existing connection" in err))

        # HTTP/1.0: the answer closes the connection.
        rc, out, err = run([exe, "-s", "-i", "--http1.0", base + "/ping"], timeout=10)
        check(rc == 0 and out.startswith("HTTP/1.1 200 OK\r\n") and "\r\nConnection: close\r\n" in out
              and out.endswith('\r\n\r\n{"ping":"PONG"}'), "HTTP/1.0 request: %r" % out)

        # -I: HEAD, with the Content-Length a GET would have.
        rc, out, err = run([exe, "-s", "-I", base + "/ping"], timeout=10)
        check(rc == 0 and out.startswith("HTTP/1.1 200 OK\r\n") and "\r\nContent-Length: 15\r\n" in out
              and out.endswith("\r\n\r\n"), "HEAD: %r" % out)

        # A POST with binary data: every byte value, echoed as text/plain.
        with tempfile.NamedTemporaryFile(suffix=".bin") as f:
            payload = bytes(range(256)) * 64
            f.write(payload)
            f.flush()
            done = subprocess.run([exe, "-s", "--data-binary", "@" + f.name, "-H",
                                   "Content-Type: application/octet-stream", base + "/echo.txt"],
                                  capture_output=True, timeout=10)
            check(done.returncode == 0 and done.stdout == payload,
                  "POST --data-binary echoes %d bytes exactly (got %d)" % (len(payload), len(done.stdout)))

        # A JSON array of arguments, text/plain on Accept, 405 with Allow, 404.
        rc, out, err = run([exe, "-s", "-H", "Content-Type: application/json", "--data", '["hello world"]',
                            base + "/echo"], timeout=10)
        check(out == '{"echo":"hello world"}', "POST a JSON array: %r" % out)
        rc, out, err = run([exe, "-s", "-H", "Accept: text/plain", base + "/timestamp/unix"], timeout=10)
        check(re.fullmatch(r"\d+", out) is not None, "Accept: text/plain: %r" % out)
        rc, out, err = run([exe, "-s", "-i", "-X", "DELETE", base + "/ping"], timeout=10)
        check(out.startswith("HTTP/1.1 405 ") and "\r\nAllow: GET, HEAD, POST\r\n" in out, "DELETE: %r" % out[:200])
        rc, out, err = run([exe, "-s", "-o", "/dev/null", "-w", "%{http_code}", base + "/nope"], timeout=10)
        check(out == "404", "an unknown command is 404: %r" % out)
        # Expect: 100-continue, as curl sends it for large bodies.
        rc, out, err = run([exe, "-sv", "-H", "Expect: 100-continue", "--data-binary", "abc", base + "/echo"],
                           timeout=10)
        check("< HTTP/1.1 100 Continue" in err and out == '{"echo":"abc"}', "100-continue: %r" % out)
        server_still_up(srv)


def python(binary):
    with http_server(binary) as srv:
        conn = http.client.HTTPConnection("127.0.0.1", srv.ports["http"], timeout=5)
        statuses = []
        for path in ("/ping", "/timestamp/iso", "/echo/a%20b", "/nope", "/echo"):
            conn.request("GET", path)
            r = conn.getresponse()
            body = r.read()
            statuses.append(r.status)
            check(r.getheader("Content-Type") == "application/json" and json.loads(body) is not None,
                  "GET %s: %d %r" % (path, r.status, body))
        check(statuses == [200, 200, 200, 404, 400], "statuses: %r" % statuses)
        sock = conn.sock
        conn.request("POST", "/echo", body=json.dumps(["x\u00e9\n"]), headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        check(json.loads(r.read()) == {"echo": "x\u00e9\n"}, "POST a JSON array of strings")
        conn.request("HEAD", "/ping")
        r = conn.getresponse()
        check(r.status == 200 and r.read() == b"" and r.getheader("Content-Length") == "15", "HEAD")
        check(conn.sock is sock, "one connection for all requests (keep-alive)")
        conn.request("GET", "/healthz")
        r = conn.getresponse()
        check(r.status == 200 and r.read() == b"ok\n", "healthz is 200 ok")
        conn.request("GET", "/ping", headers={"Connection": "close"})
        r = conn.getresponse()
        check(r.read() == b'{"ping":"PONG"}' and r.getheader("Connection") == "close", "Connection: close")
        conn.close()
        server_still_up(srv)


def load_ping(binary, name, *args):
    """Runs the load tool `name` with `args` against /ping of a fresh HTTP
    server; checks that it exits 0 and the server is still up; its output."""
    exe = need_tool(name)
    with http_server(binary) as srv:
        url = "http://127.0.0.1:%d/ping" % srv.ports["http"]
        rc, out, err = run([exe, *args, url], timeout=30)
        print(out.rstrip())
        check(rc == 0, "%s exits 0 (%r: %s)" % (name, rc, err[-300:]))
        server_still_up(srv)
    return out


def ab(binary):
    out = load_ping(binary, "ab", "-k", "-n", "400", "-c", "4")
    check(re.search(r"^Complete requests:\s+400$", out, re.M) is not None, "400 requests complete")
    check(re.search(r"^Failed requests:\s+0$", out, re.M) is not None, "none failed")
    check(re.search(r"^Keep-Alive requests:\s+400$", out, re.M) is not None,
          "all 400 kept alive (ab speaks HTTP/1.0 with Connection: keep-alive)")
    check(re.search(r"^Non-2xx responses", out, re.M) is None, "no non-2xx responses")


def wrk(binary):
    out = load_ping(binary, "wrk", "-t1", "-c4", "-d1s", "--latency")
    m = re.search(r"(\d+) requests in", out)
    check(m is not None and int(m.group(1)) > 100, "wrk completed requests: %s" % (m and m.group(1)))
    check("Non-2xx" not in out and "Socket errors" not in out, "no errors, no non-2xx responses")


def h2load(binary):
    out = load_ping(binary, "h2load", "--h1", "-n", "400", "-c", "4")
    check(re.search(r"requests: 400 total, 400 started, 400 done, 400 succeeded, 0 failed, 0 errored", out)
          is not None, "400 requests succeeded")
    check(re.search(r"status codes: 400 2xx", out) is not None, "all 2xx")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def haproxy_status(sock_path, backend, server):
    """The server's status in HAProxy's `show stat` (UP, DOWN, ...), or None."""
    try:
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(2)
            s.connect(sock_path)
            s.sendall(b"show stat\n")
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
    except OSError:
        return None
    lines = data.decode(errors="replace").splitlines()
    if not lines or not lines[0].startswith("# "):
        return None
    fields = lines[0][2:].split(",")
    for line in lines[1:]:
        row = dict(zip(fields, line.split(",")))
        if row.get("pxname") == backend and row.get("svname") == server:
            return row.get("status")
    return None


def wait_status(sock_path, want, limit=10):
    deadline = time.monotonic() + limit
    status = None
    while time.monotonic() < deadline:
        status = haproxy_status(sock_path, "coronet_backend", "coronet")
        if status is not None and status.startswith(want):
            return status
        time.sleep(0.05)
    return status


def haproxy(binary):
    exe = need_tool("haproxy")
    # A long drain, so that the server stays draining while a client holds a
    # connection with a request in flight (a POST whose body never ends).
    with http_server(binary, "--drain-timeout", "5", "--http-header-timeout", "5") as srv, \
            tempfile.TemporaryDirectory() as tmp:
        sock_path = os.path.join(tmp, "stats.sock")
        front = free_port()
        cfg = os.path.join(tmp, "haproxy.cfg")
        with open(cfg, "w") as f:
            f.write("""global
    stats socket %(sock)s mode 600 level admin
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend coronet_front
    bind 127.0.0.1:%(front)d
    default_backend coronet_backend
backend coronet_backend
    option httpchk GET /healthz
    http-check expect status 200
    server coronet 127.0.0.1:%(port)d check inter 100ms fall 2 rise 1
""" % {"sock": sock_path, "front": front, "port": srv.ports["http"]})
        proxy = subprocess.Popen([exe, "-f", cfg, "-db"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 preexec_fn=_die_with_parent)
        try:
            status = wait_status(sock_path, "UP")
            check(status is not None and status.startswith("UP"), "HAProxy's check sees the server UP: %r" % status)
            conn = http.client.HTTPConnection("127.0.0.1", front, timeout=5)
            conn.request("GET", "/timestamp/iso")
            r = conn.getresponse()
            body = r.read().decode()
            check(r.status == 200 and re.fullmatch(r'\{"timestamp":"%s"\}' % ISO, body) is not None,
                  "a request through HAProxy: %d %r" % (r.status, body))
            conn.close()
            # Hold the drain open: a request whose body has not arrived yet.
            held = socket.create_connection(("127.0.0.1", srv.ports["http"]), timeout=5)
            held.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc")
            time.sleep(0.05)
            srv.proc.send_signal(15)
            status = wait_status(sock_path, "DOWN")
            check(status is not None and status.startswith("DOWN"),
                  "once the server drains, HAProxy's check sees it DOWN: %r" % status)
            check(srv.alive(), "the server is still draining when HAProxy marks it DOWN")
            held.sendall(b"defghij")
            reply = held.recv(4096).decode(errors="replace")
            check(reply.startswith("HTTP/1.1 200 OK") and reply.endswith('{"echo":"abcdefghij"}'),
                  "the request in flight is still answered: %r" % reply[-60:])
            held.close()
            # The SIGTERM above started the drain: wait for it to end (within
            # drain_timeout + 250 ms). srv.stop() would send a second SIGTERM,
            # which cuts a drain still under way short with exit 1, by design.
            try:
                rc = srv.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                rc = None
            check(rc == 0, "the server exits 0 after the drain (exit %r)" % rc)
        finally:
            proxy.kill()
            out = proxy.communicate(timeout=10)[0].decode(errors="replace")
            if "ALERT" in out:
                print(out)


if __name__ == "__main__":
    main({"curl": curl, "python": python, "ab": ab, "wrk": wrk, "h2load": h2load, "haproxy": haproxy})
