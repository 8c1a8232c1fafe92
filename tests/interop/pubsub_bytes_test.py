#!/usr/bin/env python3
"""Runs one raw RESP Pub/Sub session, in RESP2 and in RESP3, against a
redis-server it starts and against timestamp_server, and compares every
reply and message byte for byte: SUBSCRIBE, PSUBSCRIBE, PUBLISH from a second
connection, PUBSUB CHANNELS/NUMSUB/NUMPAT/HELP, UNSUBSCRIBE and PUNSUBSCRIBE
of all, a command refused in RESP2 subscribed mode, PING, RESET and the
errors. Only HELLO's reply (server version, id) is read and not compared.

Usage: pubsub_bytes_test.py run TIMESTAMP_SERVER"""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop import check, main, redis_server, timestamp_server  # noqa: E402

READ_TIMEOUT = 5


def frame_end(buf, i):
    """Where the RESP frame starting at buf[i] ends, or None while incomplete."""
    nl = buf.find(b"\r\n", i)
    if nl < 0:
        return None
    kind, head = buf[i:i + 1], buf[i + 1:nl]
    j = nl + 2
    if kind in b"$=!":
        n = int(head)
        if n < 0:
            return j
        return j + n + 2 if len(buf) >= j + n + 2 else None
    if kind in b"*>~%|":
        n = int(head)
        if n < 0:
            return j
        if kind in b"%|":
            n *= 2
        for _ in range(n):
            j = frame_end(buf, j)
            if j is None:
                return None
        return frame_end(buf, j) if kind == b"|" else j
    return j  # + - : _ , # (


class Conn:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=READ_TIMEOUT)
        self.buf = b""

    def send(self, *words):
        out = b"*%d\r\n" % len(words)
        for w in words:
            w = w if isinstance(w, bytes) else w.encode()
            out += b"$%d\r\n%s\r\n" % (len(w), w)
        self.sock.sendall(out)

    def frames(self, n):
        """The next `n` frames, as raw bytes each."""
        got = []
        deadline = time.monotonic() + READ_TIMEOUT
        while len(got) < n:
            end = frame_end(self.buf, 0) if self.buf else None
            if end is not None:
                got.append(self.buf[:end])
                self.buf = self.buf[end:]
                continue
            if time.monotonic() > deadline:
                got.append(b"<no reply within %d s>" % READ_TIMEOUT)
                break
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                got.append(b"<end of stream>")
                break
            self.buf += chunk
        return got

    def close(self):
        self.sock.close()


def sorted_array(frame):
    """An array of bulk strings with its elements sorted (PUBSUB CHANNELS has no order)."""
    head, _, rest = frame.partition(b"\r\n")
    items, i = [], 0
    while i < len(rest):
        end = frame_end(rest, i)
        items.append(rest[i:end])
        i = end
    return head + b"\r\n" + b"".join(sorted(items))


def session(port, proto):
    """The transcript: (step, bytes) pairs, in order."""
    out = []
    a, b = Conn(port), Conn(port)

    def step(conn, what, n, *words, normalise=None):
        conn.send(*words)
        got = b"".join(conn.frames(n))
        out.append((what, normalise(got) if normalise else got))

    def receive(conn, what, n):
        out.append((what, b"".join(conn.frames(n))))

    if proto == 3:
        for c in (a, b):
            c.send("HELLO", "3")
            c.frames(1)
    step(a, "SUBSCRIBE two channels", 2, "SUBSCRIBE", "news", "sport")
    step(a, "SUBSCRIBE one again", 1, "SUBSCRIBE", "news")
    step(a, "PSUBSCRIBE three patterns", 3, "PSUBSCRIBE", "n*", "s?ort", "[a-c]x")
    step(b, "PUBLISH news", 1, "PUBLISH", "news", "hello")
    receive(a, "message and pmessage of news", 2)
    step(b, "PUBLISH sport, empty payload", 1, "PUBLISH", "sport", "")
    receive(a, "message and pmessage of sport", 2)
    step(b, "PUBLISH bx, binary payload", 1, "PUBLISH", "bx", b"a\r\nb\x00c")
    receive(a, "pmessage of bx", 1)
    step(b, "PUBLISH nobody (only the pattern n* matches)", 1, "PUBLISH", "nobody", "x")
    # Read now: left unread, it would answer the next step of a, and every later
    # step of a would read the reply before its own, so that the PUBLISH after
    # RESET could run before the RESET.
    receive(a, "pmessage of nobody", 1)
    step(b, "PUBSUB CHANNELS", 1, "PUBSUB", "CHANNELS", normalise=sorted_array)
    step(b, "PUBSUB CHANNELS n*", 1, "PUBSUB", "CHANNELS", "n*")
    step(b, "PUBSUB NUMSUB", 1, "PUBSUB", "NUMSUB", "news", "sport", "none")
    step(b, "PUBSUB NUMSUB without channels", 1, "PUBSUB", "NUMSUB")
    step(b, "PUBSUB NUMPAT", 1, "PUBSUB", "NUMPAT")
    step(b, "PUBSUB HELP", 1, "PUBSUB", "HELP")
    step(b, "PUBSUB unknown subcommand", 1, "PUBSUB", "FOO")
    step(b, "PUBSUB NUMPAT with an argument", 1, "PUBSUB", "NUMPAT", "x")
    step(b, "PUBSUB CHANNELS with two arguments", 1, "PUBSUB", "CHANNELS", "a", "b")
    step(a, "ECHO while subscribed", 1, "ECHO", "hi")
    step(a, "PING while subscribed", 1, "PING")
    step(a, "PING message while subscribed", 1, "PING", "msg")
    step(a, "SUBSCRIBE without channels", 1, "SUBSCRIBE")
    step(a, "UNSUBSCRIBE two, one not subscribed", 2, "UNSUBSCRIBE", "sport", "nosuch")
    step(a, "UNSUBSCRIBE all (one left)", 1, "UNSUBSCRIBE")
    step(a, "PUNSUBSCRIBE one", 1, "PUNSUBSCRIBE", "s?ort")
    step(a, "PUNSUBSCRIBE all (two left)", 2, "PUNSUBSCRIBE")
    step(a, "UNSUBSCRIBE with no subscription", 1, "UNSUBSCRIBE")
    step(a, "PUNSUBSCRIBE with no subscription", 1, "PUNSUBSCRIBE")
    step(a, "PING once unsubscribed", 1, "PING")
    step(a, "SUBSCRIBE before RESET", 1, "SUBSCRIBE", "x")
    step(a, "RESET while subscribed", 1, "RESET")
    step(b, "PUBLISH after RESET", 1, "PUBLISH", "x", "m")
    step(a, "PING after RESET", 1, "PING")
    a.close()
    b.close()
    return out


def compare(server_binary):
    with redis_server() as ref:
        port = ref.port
        with timestamp_server(server_binary) as srv:
            for proto in (2, 3):
                want = session(port, proto)
                got = session(srv.port, proto)
                for (what, w), (_, g) in zip(want, got):
                    check(w == g, "RESP%d %s: %r%s" % (proto, what, g, "" if w == g else " (redis-server: %r)" % w))


if __name__ == "__main__":
    main({"run": compare})
