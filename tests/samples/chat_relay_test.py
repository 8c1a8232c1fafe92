#!/usr/bin/env python3
"""Runs the samples built on coronet::stream_server as a user would: chat_server
with several clients (one of which never reads), and relay in front of
upstream servers written here (one reads until end of stream, then answers
1,000,000 bytes: the half-close test).

Usage: chat_relay_test.py SAMPLES_BIN_DIR SCENARIO
Scenarios: chat_broadcast, chat_slow_client, relay_half_close,
relay_round_robin, relay_idle_timeout, relay_refused, help."""
import os
import queue
import socket
import sys
import threading
import time

from samples_test import TIMEOUT, Server, run

HALF_CLOSE_REPLY = 1000000


class Peer:
    """A client whose own thread reads lines as they come; tests wait on them."""

    def __init__(self, port, rcvbuf=None, read=True):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(TIMEOUT)
        self.sock.connect(("127.0.0.1", port))
        self.reads = read
        self.lines = []  # the short ones (the slow-client test sends 1 KiB lines by the thousand)
        self.line_count = 0
        self.closed = False
        self.cond = threading.Condition()
        if read:
            threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        rest = b""
        try:
            while True:
                chunk = self.sock.recv(1 << 16)
                if not chunk:
                    break
                lines = (rest + chunk).split(b"\n")
                rest = lines.pop()
                with self.cond:
                    self.line_count += len(lines)
                    self.lines.extend(line.decode() for line in lines if len(line) < 200)
                    self.cond.notify_all()
        except OSError:
            pass
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def send(self, text):
        self.sock.sendall(text.encode())

    def wait(self, predicate, timeout=TIMEOUT):
        """Waits until predicate(self) holds; False after `timeout` seconds."""
        with self.cond:
            return self.cond.wait_for(lambda: predicate(self), timeout)

    def has(self, line):
        with self.cond:
            return line in self.lines

    def close(self):
        self.sock.close()


class StderrLines:
    """Collects a server's stderr lines as they come (so the pipe never fills)."""

    def __init__(self, proc):
        self.lines = queue.Queue()
        self.all = []
        threading.Thread(target=self._read, args=(proc,), daemon=True).start()

    def _read(self, proc):
        for line in proc.stderr:
            self.lines.put(line)

    def find(self, text, timeout):
        """The first line containing `text` within `timeout` seconds, or None."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            try:
                line = self.lines.get(timeout=left) if left > 0 else self.lines.get_nowait()
            except queue.Empty:
                return None
            self.all.append(line)
            if text in line:
                return line


def join_all(peers):
    """Makes sure every peer is in the room: each in turn sends probe lines
    until every earlier reading peer got one (a connection joins the room when
    its handler starts, which may be after connect() returns)."""
    for k, peer in enumerate(peers):
        readers = [p for p in peers[:k] if p.reads]
        prefix = "probe %d " % k
        for attempt in range(50):
            peer.send("%s%d\n" % (prefix, attempt))
            if all(r.wait(lambda p: any(line.startswith(prefix) for line in p.lines), 0.2) for r in readers):
                break
        else:
            raise AssertionError("peer %d never reached the others" % k)


def said(peer):
    return [line for line in peer.lines if not line.startswith("probe ")]


def chat_broadcast(bins):
    for threads in ("1", "3"):
        with Server([bins["chat_server"], "--port", "0", "--threads", threads]) as srv:
            assert srv.first_line.startswith("chat_server listening on 127.0.0.1 port "), srv.first_line
            peers = [Peer(srv.port) for _ in range(3)]
            join_all(peers)
            for k, p in enumerate(peers):
                p.send("hello from %d\n" % k)
            for k, p in enumerate(peers):
                others = {"hello from %d" % j for j in range(3) if j != k}
                assert p.wait(lambda q: others <= set(said(q))), (k, said(p))
            # Everything the server queued for a peer before it sent "end"
            # arrives before that peer's "end": a line echoed to its own
            # sender would show up by now.
            for k, p in enumerate(peers):
                p.send("end %d\n" % k)
            for k, p in enumerate(peers):
                ends = {"end %d" % j for j in range(3) if j != k}
                assert p.wait(lambda q: ends <= set(said(q))), (k, said(p))
                assert "hello from %d" % k not in said(p), "peer %d got its own line back: %r" % (k, said(p))
                assert len([line for line in said(p) if line.startswith("hello")]) == 2, said(p)
            for p in peers:
                p.close()
            rc, _, _ = srv.stop()
            assert rc == 0, rc
    print("chat: 3 clients, each line reached the 2 others and not its sender, with 1 and 3 threads")


def chat_slow_client(bins):
    max_behind = 256 * 1024
    with Server([bins["chat_server"], "--port", "0", "--threads", "2", "--max-behind", str(max_behind)]) as srv:
        log = StderrLines(srv.proc)
        talker, listener = Peer(srv.port), Peer(srv.port)
        sleeper = Peer(srv.port, rcvbuf=4096, read=False)  # never reads a byte
        join_all([talker, listener, sleeper])
        line = "x" * 1023 + "\n"
        batch = 64  # lines: 64 KiB at a time, so the listener is never far behind itself
        sent = 0
        base = listener.line_count
        slowest = 0.0
        dropped = None
        while dropped is None and sent < 64 * 1024 * 1024:
            talker.send(line * batch)
            sent += len(line) * batch
            start = time.monotonic()
            target = base + sent // len(line)
            assert listener.wait(lambda q: q.line_count >= target), "the listener stopped receiving after %d bytes" % sent
            slowest = max(slowest, time.monotonic() - start)
            dropped = log.find("disconnected: too far behind (more than %d bytes" % max_behind, 0)
        assert dropped is not None, "the client that never reads was not disconnected after %d bytes (stderr: %r)" % (
            sent, log.all + list(log.lines.queue))
        # The others go on at once.
        start = time.monotonic()
        talker.send("after\n")
        assert listener.wait(lambda q: "after" in q.lines, 5), "the listener did not get a line after the drop"
        after = time.monotonic() - start
        # The sleeper's connection was closed: what it had buffered, then end of stream (or a reset).
        sleeper.sock.settimeout(TIMEOUT)
        deadline = time.monotonic() + TIMEOUT
        ended = False
        while time.monotonic() < deadline:
            try:
                if not sleeper.sock.recv(1 << 16):
                    ended = True
                    break
            except ConnectionResetError:
                ended = True
                break
            except socket.timeout:
                break
        assert ended, "the slow client's connection is still open"
        assert slowest < 5, "the listener waited %.2f s for a batch" % slowest
        print("chat: the client that never reads was dropped after %d bytes sent (%s); the listener's slowest "
              "64 KiB batch took %.3f s, the line after the drop %.3f s" % (sent, dropped.strip(), slowest, after))
        for p in (talker, listener, sleeper):
            p.close()
        rc, _, _ = srv.stop()
        assert rc == 0, rc


class Upstream:
    """A TCP server on a free port; each connection runs `behaviour(conn)` on a thread."""

    def __init__(self, behaviour):
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.behaviour = behaviour
        self.received = []  # bytes each connection sent before its end of stream
        self.ended = threading.Event()  # a connection saw its peer close
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        with conn:
            conn.settimeout(TIMEOUT * 3)
            total = 0
            try:
                while True:
                    chunk = conn.recv(1 << 16)
                    if not chunk:
                        break
                    total += len(chunk)
            except OSError:
                pass
            self.received.append(total)
            self.ended.set()
            self.behaviour(conn, total)

    def address(self):
        return "127.0.0.1:%d" % self.port

    def close(self):
        self.listener.close()


def read_to_end(sock):
    chunks = []
    while True:
        chunk = sock.recv(1 << 16)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def relay_half_close(bins):
    def answer_after_eof(conn, _total):
        conn.sendall(b"y" * HALF_CLOSE_REPLY)

    up = Upstream(answer_after_eof)
    with Server([bins["relay"], "--port", "0", "--threads", "2", "--upstream", up.address(),
                 "--idle-timeout", "30"]) as srv:
        assert srv.first_line.startswith("relay listening on 127.0.0.1 port "), srv.first_line
        with socket.create_connection(("127.0.0.1", srv.port), timeout=TIMEOUT) as c:
            c.sendall(b"z" * 1000000)
            c.shutdown(socket.SHUT_WR)
            reply = read_to_end(c)
        print("relay half-close: sent 1000000 bytes then shut down sending; the upstream got %s, the client "
              "received %d of %d bytes" % (up.received, len(reply), HALF_CLOSE_REPLY))
        assert up.received == [1000000], up.received
        assert len(reply) == HALF_CLOSE_REPLY and reply == b"y" * HALF_CLOSE_REPLY, len(reply)
        # The same, 8 clients at once (spread over the relay's 2 workers).
        got = []

        def one_client():
            with socket.create_connection(("127.0.0.1", srv.port), timeout=TIMEOUT) as c:
                c.sendall(b"z" * 1000000)
                c.shutdown(socket.SHUT_WR)
                got.append(len(read_to_end(c)))

        clients = [threading.Thread(target=one_client) for _ in range(8)]
        for t in clients:
            t.start()
        for t in clients:
            t.join(TIMEOUT * 2)
        print("relay half-close, 8 clients at once: received %s" % sorted(got))
        assert got == [HALF_CLOSE_REPLY] * 8, got
        rc, _, _ = srv.stop()
        assert rc == 0, rc
    up.close()


def relay_round_robin(bins):
    def named(name):
        return lambda conn, total: conn.sendall(("%s got %d\n" % (name, total)).encode())

    a, b = Upstream(named("a")), Upstream(named("b"))
    with Server([bins["relay"], "--port", "0", "--upstream", a.address(), "--upstream", b.address()]) as srv:
        answers = []
        for i in range(4):
            with socket.create_connection(("127.0.0.1", srv.port), timeout=TIMEOUT) as c:
                c.sendall(b"hello %d" % i)
                c.shutdown(socket.SHUT_WR)
                answers.append(read_to_end(c).decode())
        assert answers == ["a got 7\n", "b got 7\n", "a got 7\n", "b got 7\n"], answers
        rc, _, _ = srv.stop()
        assert rc == 0, rc
    a.close()
    b.close()


def relay_idle_timeout(bins):
    up = Upstream(lambda conn, total: None)  # reads until the relay closes; never answers
    with Server([bins["relay"], "--port", "0", "--upstream", up.address(), "--idle-timeout", "1"]) as srv:
        with socket.create_connection(("127.0.0.1", srv.port), timeout=TIMEOUT) as c:
            c.sendall(b"a few bytes, then silence")
            start = time.monotonic()
            try:
                rest = c.recv(1 << 16)  # waits for the close, up to TIMEOUT
            except ConnectionResetError:
                rest = b""
            waited = time.monotonic() - start
            assert rest == b"", rest
        assert up.ended.wait(TIMEOUT), "the upstream connection stayed open"
        print("relay idle timeout 1 s: the client was closed after %.2f s of silence" % waited)
        assert 0.9 <= waited < 10, waited
        rc, _, _ = srv.stop()
        assert rc == 0, rc
    up.close()


def relay_refused(bins):
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    with Server([bins["relay"], "--port", "0", "--upstream", "127.0.0.1:%d" % port]) as srv:
        with socket.create_connection(("127.0.0.1", srv.port), timeout=TIMEOUT) as c:
            try:
                assert c.recv(1 << 16) == b""
            except ConnectionResetError:
                pass
        rc, _, err = srv.stop()
        assert rc == 0, rc
        assert "upstream 127.0.0.1:%d" % port in err and "closing the client" in err, err


def help_texts(bins):
    for name, words in {
        "chat_server": ["--host", "--port", "--threads", "--max-behind", "--max-line"],
        "relay": ["--host", "--port", "--threads", "--upstream", "--idle-timeout"],
    }.items():
        out, _ = run([bins[name], "--help"])
        for w in words:
            assert w in out, "%s --help lacks %s" % (name, w)
    _, err = run([bins["relay"], "--upstream", "no-port-here"], expect_rc=2)
    assert "HOST:PORT" in err, err
    _, err = run([bins["relay"], "--port", "0"], expect_rc=106)  # CLI11: --upstream is required
    assert "--upstream" in err, err


def main():
    bin_dir, scenario = sys.argv[1], sys.argv[2]
    bins = {
        "chat_server": os.path.join(bin_dir, "chat", "chat_server"),
        "relay": os.path.join(bin_dir, "relay", "relay"),
    }
    scenarios = {
        "chat_broadcast": chat_broadcast,
        "chat_slow_client": chat_slow_client,
        "relay_half_close": relay_half_close,
        "relay_round_robin": relay_round_robin,
        "relay_idle_timeout": relay_idle_timeout,
        "relay_refused": relay_refused,
        "help": help_texts,
    }
    scenarios[scenario](bins)
    print("ok:", scenario)


if __name__ == "__main__":
    main()
