#!/usr/bin/env python3
"""Runs samples/chat_web as its users would: two readers of the room's event
stream (as two browser tabs' EventSource), a POST /say heard by both, redis-cli
PUBLISH heard by both, and redis-cli SUBSCRIBE hearing a POST /say.

Usage: chat_web_test.py SAMPLES_BIN_DIR SCENARIO
Scenarios: room, help. Exits 77 (skipped) when redis-cli is missing."""
import http.client
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import time

from samples_test import TIMEOUT, Server, run


class EventReader:
    """GET /subscribe/<channel> on a raw socket, read event by event."""

    def __init__(self, port, channel):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        self.sock.sendall(("GET /subscribe/%s HTTP/1.1\r\nHost: t\r\nAccept: text/event-stream\r\n\r\n" % channel)
                          .encode())
        self.buf = b""
        head = self.until(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 ") and b"text/event-stream" in head, head

    def until(self, end):
        deadline = time.monotonic() + TIMEOUT
        while end not in self.buf:
            left = deadline - time.monotonic()
            assert left > 0 and select.select([self.sock], [], [], left)[0], "nothing came: %r" % self.buf
            chunk = self.sock.recv(4096)
            assert chunk, "the stream ended: %r" % self.buf
            self.buf += chunk
        got, _, self.buf = self.buf.partition(end)
        return got + end

    def event(self):
        return self.until(b"\n\n").decode()


def say(port, text):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    conn.request("POST", "/say", body=text.encode())
    r = conn.getresponse()
    body = r.read()
    conn.close()
    assert r.status == 200, (r.status, body)
    return json.loads(body)["heard_by"]


def room(bins):
    cli = shutil.which("redis-cli")
    with Server([bins["chat_web"], "--port", "0", "--http-port", "0", "--threads", "1"]) as srv:
        http_port = int(re.search(r"http port (\d+)", srv.first_line).group(1))
        conn = http.client.HTTPConnection("127.0.0.1", http_port, timeout=TIMEOUT)
        conn.request("GET", "/")
        r = conn.getresponse()
        page = r.read().decode()
        assert r.status == 200 and "text/html" in r.getheader("Content-Type"), r.status
        assert "EventSource('/subscribe/'" in page and "'/say'" in page, page[:200]
        conn.close()

        tabs = [EventReader(http_port, "chat"), EventReader(http_port, "chat")]
        # The readers subscribe on the server's thread: say it until both hear it.
        deadline = time.monotonic() + TIMEOUT
        tries = 1
        while say(http_port, "ann: hello %d" % tries) < 2:
            assert time.monotonic() < deadline, "the two readers never both subscribed"
            tries += 1
        for tab in tabs:
            # Earlier tries were heard by the first reader alone.
            while (event := tab.event()) != "data: ann: hello %d\n\n" % tries:
                assert event.startswith("data: ann: hello "), event

        out, _ = run([cli, "-p", str(srv.port), "PUBLISH", "chat", "redis: hi browsers"])
        assert out.strip() == "2", out
        for tab in tabs:
            assert tab.event() == "data: redis: hi browsers\n\n"

        sub = subprocess.Popen([cli, "-p", str(srv.port), "SUBSCRIBE", "chat"], stdout=subprocess.PIPE)
        try:
            deadline = time.monotonic() + TIMEOUT
            while say(http_port, "bob: hi redis") < 3:
                assert time.monotonic() < deadline, "redis-cli never subscribed"
            heard = b""
            while b"bob: hi redis" not in heard:
                assert select.select([sub.stdout], [], [], TIMEOUT)[0], "redis-cli heard nothing: %r" % heard
                chunk = os.read(sub.stdout.fileno(), 4096)
                assert chunk, "redis-cli ended: %r" % heard
                heard += chunk
        finally:
            sub.kill()
            sub.wait()
        rc, _, _ = srv.stop(signal.SIGTERM)
        assert rc == 0, rc


def help_text(bins):
    out, _ = run([bins["chat_web"], "--help"])
    for word in ["--port", "--http-port", "--channel", "--max-message", "SUBSCRIBE chat"]:
        assert word in out, (word, out)
    _, err = run([bins["chat_web"], "--port", "0"], expect_rc=2)
    assert "--http-port" in err, err


def main():
    bin_dir, scenario = sys.argv[1], sys.argv[2]
    bins = {"chat_web": os.path.join(bin_dir, "chat_web", "chat_web")}
    if scenario == "room" and shutil.which("redis-cli") is None:
        print("redis-cli is not installed (scripts/setup installs redis-tools): skipped")
        sys.exit(77)
    {"room": room, "help": help_text}[scenario](bins)
    print("ok")


if __name__ == "__main__":
    main()
