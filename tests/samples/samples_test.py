#!/usr/bin/env python3
"""Runs coronet's samples as a user would: servers on free ports, clients
against them, the seed's Python programs against coronet and back.

Usage: samples_test.py SAMPLES_BIN_DIR SCENARIO
Scenarios: seed_client_vs_raw_server, raw_client_vs_seed_server, timestamp,
echo, custom_commands, redis_tools, help, signals, banner, redis_stat, doc_paths."""
import glob
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CTIME = r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d \d{4}"
TIMEOUT = 20


class Server:
    """A server process that prints its port on its first line."""

    def __init__(self, argv):
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.first_line = self.proc.stdout.readline().strip()
        match = re.search(r"port (\d+)", self.first_line)
        if not match:
            self.proc.kill()
            raise AssertionError("no port in %r (stderr: %r)" % (self.first_line, self.proc.stderr.read()))
        self.port = int(match.group(1))

    def stop(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)
        out, err = self.proc.communicate(timeout=TIMEOUT)
        return self.proc.returncode, out, err

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def run(argv, expect_rc=0):
    done = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT)
    assert done.returncode == expect_rc, "%s: exit %d, stdout %r, stderr %r" % (
        argv, done.returncode, done.stdout, done.stderr)
    return done.stdout, done.stderr


def talk(port, data, read_until_close=True):
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as s:
        s.sendall(data)
        if not read_until_close:
            return s.recv(65536)
        s.shutdown(socket.SHUT_WR)
        chunks = []
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)


def expect(pattern, text):
    assert re.fullmatch(pattern, text, re.S), "%r does not match %r" % (text, pattern)


def seed_client_vs_raw_server(bins):
    with Server([bins["timestamp_server"], "--port", "0", "--protocol", "raw", "--threads", "1"]) as srv:
        out, _ = run([sys.executable, os.path.join(HERE, "seed_client.py"), str(srv.port)])
        expect(r"current timestampe: %s\n" % CTIME, out)
        # The seed closed without answering anything but its one command.
        assert talk(srv.port, b"what time") == b""
        assert talk(srv.port, b"timetampe\n") != b""  # coronet also accepts a newline
        rc, out, _ = srv.stop()
        assert rc == 0, rc
        assert "stopped:" in out


def raw_client_vs_seed_server(bins):
    seed = Server([sys.executable, os.path.join(HERE, "seed_server.py"), "0", "--clients", "1"])
    with seed:
        out, _ = run([bins["timestamp_client"], "--raw", "--port", str(seed.port)])
        expect(r"current timestamp: %s\n" % CTIME, out)
        seed.proc.wait(timeout=TIMEOUT)


def timestamp(bins):
    with Server([bins["timestamp_server"], "--port", "0", "--threads", "2"]) as srv:
        expect(r"timestamp_server listening on 127\.0\.0\.1 port \d+, protocol resp, 2 threads", srv.first_line)
        out, _ = run([bins["timestamp_client"], "--port", str(srv.port), "--count", "3"])
        expect(r"(current timestamp: %s\n){3}" % CTIME, out)
        # The default protocol answers inline commands (nc) in RESP, as Redis does.
        reply = talk(srv.port, b"PING\r\ntimestamp\r\nnope\r\n").decode()
        expect(r"\+PONG\r\n(\+|\$24\r\n)%s\r\n-ERR unknown command 'nope'[^\r]*\r\n" % CTIME, reply)
        rc, out, _ = srv.stop()
        assert rc == 0, rc
        expect(r"timestamp_server stopped: \d+ requests, 1 errors, \d+ connections, up [\d.]+ s\n", out)
    # Plain lines for people, when asked for.
    with Server([bins["timestamp_server"], "--port", "0", "--protocol", "line"]) as srv:
        expect(r"timestamp_server listening on 127\.0\.0\.1 port \d+, protocol line, \d+ threads?", srv.first_line)
        out, _ = run([bins["timestamp_client"], "--port", str(srv.port), "--protocol", "line"])
        expect(r"current timestamp: %s\n" % CTIME, out)
        reply = talk(srv.port, b"timestamp unix\r\ntimestamp iso\r\ntimetampe\r\nnope\r\n").decode()
        expect(r"\d+\r\n\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\r\n%s\r\nERR unknown command 'nope'[^\r]*\r\n" % CTIME,
               reply)
        rc, out, _ = srv.stop()
        assert rc == 0, rc
    # Refused: a one-line message and a non-zero exit.
    _, err = run([bins["timestamp_client"], "--port", str(srv.port)], expect_rc=1)
    expect(r"timestamp_client: 127\.0\.0\.1:\d+: Connection refused\n", err)
    # The seed's server closes on a RESP request: a one-line error, exit 1.
    with Server([sys.executable, os.path.join(HERE, "seed_server.py"), "0", "--clients", "1"]) as seed:
        _, err = run([bins["timestamp_client"], "--port", str(seed.port)], expect_rc=1)
        assert err.startswith("timestamp_client: 127.0.0.1:%d: " % seed.port) and err.count("\n") == 1, err


def echo(bins):
    with Server([bins["echo_server"], "--port", "0"]) as srv:
        out, _ = run([bins["echo_client"], "--port", str(srv.port), "one", "two words"])
        assert out == "one\ntwo words\n", out


def custom_commands(bins):
    with Server([bins["timestamp_server"], "--port", "0", "--threads", "1"]) as upstream, \
            Server([bins["custom_commands"], "--port", "0", "--upstream-port", str(upstream.port)]) as srv:
        reply = talk(srv.port, b"sum 1 2 3\nsleep 50\nupstream timestamp\nsum 1 x\n").decode()
        expect(r":6\r\n\+slept 50 ms\r\n(\+|\$24\r\n)%s\r\n-ERR not an integer: x\r\n" % CTIME, reply)
    with Server([bins["custom_commands"], "--port", "0", "--protocol", "line"]) as srv:
        reply = talk(srv.port, b"sum 1 2 3\nsleep 10\n").decode()
        assert reply == "6\r\nslept 10 ms\r\n", reply


def redis_tools(bins):
    cli, bench = shutil.which("redis-cli"), shutil.which("redis-benchmark")
    if not cli or not bench:
        print("redis-tools not installed: skipped (scripts/setup installs it)")
        sys.exit(77)
    with Server([bins["timestamp_server"], "--port", "0", "--threads", "1"]) as srv:
        out, _ = run([cli, "-p", str(srv.port), "timestamp"])
        expect(r"%s\n" % CTIME, out)
        out, _ = run([cli, "-p", str(srv.port), "ping"])
        assert out == "PONG\n", out
        out, _ = run([cli, "-p", str(srv.port), "echo", "hello world"])
        assert out == "hello world\n", out
        out, _ = run([bench, "-p", str(srv.port), "-t", "ping_mbulk", "-P", "16", "-q", "-n", "20000"])
        expect(r".*PING_MBULK: [\d.]+ requests per second.*", out)
        # Inline commands with default options: PING_INLINE and --pipe with an inline file.
        out, _ = run([bench, "-p", str(srv.port), "-t", "ping_inline,ping_mbulk", "-P", "16", "-q", "-n", "20000"])
        expect(r".*PING_INLINE: [\d.]+ requests per second.*PING_MBULK: [\d.]+ requests per second.*", out)
        pipe = subprocess.run([cli, "-p", str(srv.port), "--pipe"], input="PING\r\nping hello\r\necho x\r\n",
                              capture_output=True, text=True, timeout=TIMEOUT)
        assert pipe.returncode == 0, pipe
        expect(r".*errors: 0, replies: 3.*", pipe.stdout)
        assert talk(srv.port, b"PING\r\n") == b"+PONG\r\n"
        rc, _, _ = srv.stop()
        assert rc == 0


def help_texts(bins):
    for name, words in {
        "timestamp_server": ["--host", "--port", "--protocol", "--threads", "--max-connections", "--idle-timeout",
                             "--partial-request-timeout", "--request-timeout", "--tcp-keepalive", "--drain-timeout",
                             "--output-stall-timeout",
                             "--password", "--requirepass", "--verbose", "--http-port", "--http-header-timeout",
                             "--http-idle-timeout", "--http-max-body-bytes"],
        "timestamp_client": ["--host", "--port", "--protocol", "--count", "--raw", "--timeout"],
        "echo_server": ["--host", "--port"],
        "echo_client": ["--host", "--port"],
        "custom_commands": ["--host", "--port", "--protocol", "--threads", "--password", "--requirepass",
                            "--idle-timeout", "--partial-request-timeout", "--tcp-keepalive", "--upstream-host",
                            "--upstream-port", "--http-port"],
    }.items():
        out, _ = run([bins[name], "--help"])
        for w in words:
            assert w in out, "%s --help lacks %s" % (name, w)
    _, err = run([bins["timestamp_server"], "--protocol", "bogus"], expect_rc=105)
    assert "bogus" in err


def wait_for_stderr(srv, pattern, limit=TIMEOUT):
    """Reads the server's stderr until `pattern` matches what came so far; returns that text."""
    fd = srv.proc.stderr.fileno()
    seen = b""
    deadline = time.monotonic() + limit
    while not re.search(pattern, seen):
        remaining = deadline - time.monotonic()
        ready, _, _ = select.select([fd], [], [], max(remaining, 0))
        if not ready:
            raise AssertionError("no %r on stderr within %d s; got %r" % (pattern, limit, seen))
        chunk = os.read(fd, 4096)
        if not chunk:
            raise AssertionError("stderr closed (exit %r) before %r; got %r" % (srv.proc.wait(), pattern, seen))
        seen += chunk
    return seen.decode()


def signals(bins):
    """SIGHUP never stops a server, TLS or not: it is logged (a TLS certificate is reloaded,
    see tests/interop/tls_test.py), the server answers on, and SIGTERM still drains to exit 0.
    Every server sample's --help says what the signals do."""
    chat = os.path.join(os.path.dirname(os.path.dirname(bins["timestamp_server"])), "chat", "chat_server")
    for argv, request, reply in [
            ([bins["timestamp_server"], "--port", "0", "--threads", "2"], b"PING\r\n", b"+PONG\r\n"),
            ([bins["custom_commands"], "--port", "0", "--threads", "1"], b"sum 1 2\r\n", b":3\r\n")]:
        with Server(argv) as srv:
            # The banner comes just before run(), which installs the handlers: wait until it serves.
            assert talk(srv.port, request, read_until_close=False) == reply
            for _ in range(2):
                srv.proc.send_signal(signal.SIGHUP)
                wait_for_stderr(srv, rb"signal 1 \(SIGHUP\): [^\n]*serving on\n")
                assert srv.proc.poll() is None, "%s died of SIGHUP" % argv[0]
                assert talk(srv.port, request, read_until_close=False) == reply
            rc, _, err = srv.stop()
            assert rc == 0, (argv[0], rc, err)
    helps = ["timestamp_server", "custom_commands"]
    for name in helps:
        out, _ = run([bins[name], "--help"])
        for w in ["SIGINT", "SIGTERM", "SIGHUP"]:
            assert w in out, "%s --help does not say what %s does" % (name, w)
    out, _ = run([bins["timestamp_server"], "--help"])
    assert "SIGUSR1" in out and "SIGUSR2" in out, out
    out, _ = run([bins["echo_server"], "--help"])
    assert "SIGHUP" in out, out
    if os.path.exists(chat):
        out, _ = run([chat, "--help"])
        assert "SIGHUP" in out, out


def http_get(host, port, path="/healthz"):
    """The status line of GET `path` over HTTP/1.0."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.settimeout(TIMEOUT)
        s.connect((host, port))
        s.sendall(("GET %s HTTP/1.0\r\nHost: x\r\n\r\n" % path).encode())
        return s.makefile("rb").readline().decode().strip()


def ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def banner(bins):
    """The startup banner names the HTTP port (not the TLS one) when both are given, and
    writes an IPv6 URL with brackets."""
    openssl = shutil.which("openssl")
    if not openssl:
        print("openssl not installed: skipped")
        sys.exit(77)
    with tempfile.TemporaryDirectory() as tmp:
        cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
        run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days",
             "1", "-subj", "/CN=localhost", "-keyout", key, "-out", cert])
        with Server([bins["timestamp_server"], "--port", "0", "--http-port", "0", "--tls-port", "0",
                     "--tls-cert", cert, "--tls-key", key]) as srv:
            match = re.search(r"http port (\d+) \(status page: http://127\.0\.0\.1:(\d+)/\)", srv.first_line)
            assert match and match.group(1) == match.group(2), srv.first_line
            http_port = int(match.group(1))
            tls_line = ""
            while "TLS on" not in tls_line:
                tls_line = srv.proc.stdout.readline()
                assert tls_line, "no TLS line after %r" % srv.first_line
            tls_port = int(re.search(r"tls port (\d+)", tls_line).group(1))
            assert http_port not in (srv.port, tls_port), (srv.first_line, tls_line)
            status = http_get("127.0.0.1", http_port)
            assert status.startswith("HTTP/1.1 200"), status
    if not ipv6_loopback():
        print("no IPv6 loopback: the bracket check is skipped")
        return
    with Server([bins["timestamp_server"], "--host", "::1", "--port", "0", "--http-port", "0"]) as srv:
        match = re.search(r"status page: http://\[::1\]:(\d+)/\)", srv.first_line)
        assert match, srv.first_line
        status = http_get("::1", int(match.group(1)))
        assert status.startswith("HTTP/1.1 200"), status


def redis_stat(bins):
    """redis-cli --stat reads INFO's used_memory and the rest: no field is missing (a missing
    one prints as -9223372036854775808)."""
    cli = shutil.which("redis-cli")
    if not cli:
        print("redis-tools not installed: skipped (scripts/setup installs it)")
        sys.exit(77)
    with Server([bins["timestamp_server"], "--port", "0"]) as srv:
        # Line-buffered: its stdout is a pipe here, which stdio would fill 4 KiB at a time. stdbuf
        # execs redis-cli, so killing the process kills redis-cli; read_lines bounds the wait.
        stat = subprocess.Popen(["stdbuf", "-oL", cli, "-p", str(srv.port), "--stat", "-i", "0.1"],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        try:
            lines = read_lines(stat.stdout, 4, time.monotonic() + 10)
        finally:
            stat.kill()
            stat.communicate()
        assert len(lines) == 4 and lines[0].startswith("------- data"), lines
        for sample in lines[2:]:
            fields = sample.split()
            assert len(fields) >= 5, lines
            assert not re.search(r"-\d", sample), "a negative number in %r" % sample
            expect(r"\d+(\.\d+)?[BKMG]", fields[1])  # mem: the resident set
            assert fields[1] != "0B", sample


def read_lines(pipe, n, deadline):
    """Up to `n` lines from `pipe`, as many as arrive before `deadline`."""
    data = b""
    while data.count(b"\n") < n:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([pipe], [], [], left)[0]:
            break
        chunk = os.read(pipe.fileno(), 4096)
        if not chunk:
            break
        data += chunk
    return data.decode(errors="replace").splitlines()[:n]


def doc_paths(bins):
    """Every build/<preset>/samples/... path the documentation gives exists once built."""
    root = os.path.dirname(os.path.dirname(HERE))
    docs = [os.path.join(root, "README.md")] + glob.glob(os.path.join(root, "docs", "*.md"))
    bad = []
    for doc in docs:
        with open(doc, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                for path in re.findall(r"\bbuild/[\w./-]*samples/[\w./-]+", line):
                    # The preset's build directory, then samples/<sample>/<program>.
                    parts = path.split("/")
                    if len(parts) < 5 or parts[2] != "samples" or not os.path.exists(
                            os.path.join(bins["dir"], *parts[3:5])):
                        bad.append("%s:%d: %s" % (os.path.relpath(doc, root), number, path))
    assert not bad, "paths that are not build/<preset>/samples/<sample>/<program>:\n" + "\n".join(bad)


def main():
    bin_dir, scenario = sys.argv[1], sys.argv[2]
    bins = {
        "timestamp_server": os.path.join(bin_dir, "timestamp", "timestamp_server"),
        "timestamp_client": os.path.join(bin_dir, "timestamp", "timestamp_client"),
        "echo_server": os.path.join(bin_dir, "echo", "echo_server"),
        "echo_client": os.path.join(bin_dir, "echo", "echo_client"),
        "custom_commands": os.path.join(bin_dir, "custom_commands", "custom_commands"),
        "dir": bin_dir,
    }
    scenarios = {
        "seed_client_vs_raw_server": seed_client_vs_raw_server,
        "raw_client_vs_seed_server": raw_client_vs_seed_server,
        "timestamp": timestamp,
        "echo": echo,
        "custom_commands": custom_commands,
        "redis_tools": redis_tools,
        "help": help_texts,
        "signals": signals,
        "banner": banner,
        "redis_stat": redis_stat,
        "doc_paths": doc_paths,
    }
    scenarios[scenario](bins)
    print("ok:", scenario)


if __name__ == "__main__":
    main()
