#!/usr/bin/env python3
"""Debian's redis-tools against the timestamp sample with its default options:
redis-cli (RESP2 and -3), redis-cli --pipe with RESP and inline files, and
redis-benchmark.

Usage: redis_tools_test.py {cli|pipe|benchmark|benchmark_pipelined} PATH/TO/timestamp_server

redis-benchmark's bare run (`redis-benchmark -p PORT -q -n N`) cannot pass
against a server without keys: its default list runs PING_INLINE and
PING_MBULK, then SET, and redis-benchmark exits 1 on the first error reply
("Error from server: ..."). So the
`benchmark` scenario runs the default list filtered to what we serve
(`-t ping_inline,ping_mbulk`), and also runs the bare command to check that
it gets through both PING tests and stops at SET with Redis's unknown-command
error, not earlier. Every run must also be free of redis-benchmark's
"WARNING: Could not fetch server CONFIG" (it reads `save` and `appendonly`
with CONFIG GET before it starts)."""
import os
import re
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop import CTIME, check, main, run, server_still_up, skip, timestamp_server  # noqa: E402


def tool(name):
    path = shutil.which(name)
    if path is None:
        skip("%s is not installed (scripts/setup installs redis-tools)" % name)
    return path


def cli(binary):
    exe = tool("redis-cli")
    with timestamp_server(binary) as srv:
        port = str(srv.port)

        def cli_out(*args):
            rc, out, err = run([exe, "-h", "127.0.0.1", "-p", port, *args], timeout=5)
            return rc, out + err

        # --no-raw shows the reply types: bulk strings quoted, status replies bare.
        rc, out = cli_out("--no-raw", "timestamp")
        check(rc == 0 and re.fullmatch(r'"%s"\n' % CTIME, out) is not None,
              "timestamp is a bulk string (quoted by --no-raw): %r" % out)
        rc, out = cli_out("--no-raw", "timestamp", "iso")
        check(rc == 0 and re.fullmatch(r'"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"\n', out) is not None,
              "timestamp iso is a bulk string: %r" % out)
        rc, out = cli_out("--no-raw", "ping")
        check(rc == 0 and out == "PONG\n", "ping is the status PONG: %r" % out)
        rc, out = cli_out("--no-raw", "echo", "hello world")
        check(rc == 0 and out == '"hello world"\n', "echo is a bulk string: %r" % out)

        # -3: redis-cli sends HELLO 3 itself, then the command.
        rc, out = cli_out("-3", "--no-raw", "hello", "3")
        check(rc == 0 and re.search(r'^1# "server" => "', out, re.M) is not None
              and re.search(r'^\d+# "proto" => \(integer\) 3$', out, re.M) is not None,
              "-3 hello 3 is a map with proto 3: %r" % out)
        rc, out = cli_out("-3", "timestamp")
        check(rc == 0 and re.fullmatch(r"%s\n" % CTIME, out) is not None, "-3 timestamp: %r" % out)
        rc, out = cli_out("-3", "--no-raw", "timestamp", "unix")
        check(rc == 0 and re.fullmatch(r'"\d+"\n', out) is not None, "-3 timestamp unix is a bulk string: %r" % out)

        rc, out = cli_out("info", "server")
        check(rc == 0 and re.search(r"^redis_version:", out, re.M) is not None
              and re.search(r"^coronet_version:", out, re.M) is not None,
              "info server has redis_version and coronet_version: %r" % out[:200])
        rc, out = cli_out("command", "count")
        check(rc == 0 and re.fullmatch(r"\d+\n", out) is not None and int(out) > 0,
              "command count is a positive integer: %r" % out)
        rc, out = cli_out("--no-raw", "nope", "x")
        check(out == "(error) ERR unknown command 'nope', with args beginning with: 'x' \n",
              "an unknown command gets Redis's error text: %r" % out)
        server_still_up(srv)


def pipe_run(exe, port, data, replies, what):
    rc, out, err = run([exe, "-h", "127.0.0.1", "-p", str(port), "--pipe", "--pipe-timeout", "10"], data=data,
                       timeout=20)
    text = out + err
    check(rc == 0 and "errors: 0, replies: %d\n" % replies in text,
          "redis-cli --pipe with %s: 'errors: 0, replies: %d' (exit %r): %r" % (what, replies, rc, text[-300:]))


def resp_command(*words):
    out = b"*%d\r\n" % len(words)
    for w in words:
        w = w.encode()
        out += b"$%d\r\n%s\r\n" % (len(w), w)
    return out


def pipe(binary):
    exe = tool("redis-cli")
    commands = [("PING",), ("TIMESTAMP",), ("TIMESTAMP", "unix"), ("ECHO", "hello"), ("SELECT", "0")] * 200
    with timestamp_server(binary) as srv:
        pipe_run(exe, srv.port, b"".join(resp_command(*c) for c in commands), len(commands), "a RESP file")
        inline = b"".join(b" ".join(w.encode() for w in c) + b"\r\n" for c in commands)
        pipe_run(exe, srv.port, inline, len(commands), "an inline file (CR LF)")
        pipe_run(exe, srv.port, inline.replace(b"\r\n", b"\n"), len(commands), "an inline file (LF)")
        server_still_up(srv)


def benchmark_rows(out):
    return dict(re.findall(r"^(PING_INLINE|PING_MBULK|SET): ([\d.]+) requests per second", out, re.M))


def benchmark(binary):
    exe = tool("redis-benchmark")
    with timestamp_server(binary) as srv:
        port = str(srv.port)
        # The default test list, filtered to the commands we serve.
        rc, out, err = run([exe, "-h", "127.0.0.1", "-p", port, "-q", "-n", "2000", "-t", "ping_inline,ping_mbulk"])
        rows = benchmark_rows(out.replace("\r", "\n"))
        check(rc == 0 and set(rows) == {"PING_INLINE", "PING_MBULK"},
              "redis-benchmark -q -n 2000 -t ping_inline,ping_mbulk runs both (exit %r): %r %r"
              % (rc, out[-300:], err[-300:]))
        check("Could not fetch server CONFIG" not in out + err,
              "redis-benchmark reads the server's CONFIG without a warning: %r %r" % (out[:300], err[:300]))
        # The bare command: both PING tests, then SET, which we do not serve.
        rc, out, err = run([exe, "-h", "127.0.0.1", "-p", port, "-q", "-n", "500"])
        rows = benchmark_rows(out.replace("\r", "\n"))
        check("PING_INLINE" in rows and "PING_MBULK" in rows,
              "the bare redis-benchmark -q run gets through PING_INLINE and PING_MBULK: %r %r"
              % (out[-300:], err[-300:]))
        check(rc == 1 and "Error from server: ERR unknown command 'SET', with args beginning with: " in err,
              "... and stops at SET with Redis's unknown-command error (exit %r): %r" % (rc, err[-300:]))
        server_still_up(srv)


def benchmark_pipelined(binary):
    exe = tool("redis-benchmark")
    with timestamp_server(binary) as srv:
        rc, out, err = run([exe, "-h", "127.0.0.1", "-p", str(srv.port), "-t", "ping_inline,ping_mbulk", "-P", "16",
                            "-q", "-n", "20000"])
        rows = benchmark_rows(out.replace("\r", "\n"))
        check(rc == 0 and set(rows) == {"PING_INLINE", "PING_MBULK"},
              "redis-benchmark -t ping_inline,ping_mbulk -P 16 -q -n 20000 runs both (exit %r): %r %r"
              % (rc, out[-300:], err[-300:]))
        server_still_up(srv)


if __name__ == "__main__":
    main({"cli": cli, "pipe": pipe, "benchmark": benchmark, "benchmark_pipelined": benchmark_pipelined})
