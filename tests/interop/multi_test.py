#!/usr/bin/python3
"""Transactions (MULTI/EXEC/DISCARD) as clients see them.

bytes:   the same raw RESP sessions against redis-server (Debian's 7.0) and
         against timestamp_server, reply by reply, byte for byte.
redis_py: redis-py's pipeline() with its defaults (transaction=True), sync
         and asyncio, against timestamp_server.

Usage: multi_test.py {bytes|redis_py} PATH/TO/timestamp_server"""
import asyncio
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop import check, main, redis_server, server_still_up, skip, timestamp_server  # noqa: E402

TIMEOUT = 5  # socket timeouts, seconds

# Each session: (command words, compare the reply?) in order, on one
# connection. HELLO's reply names the server and differs by design.
SESSIONS = {
    "exec runs the queue in order": [
        (["MULTI"], True), (["ECHO", "a"], True), (["PING"], True), (["PING", "hi"], True),
        (["EXEC"], True), (["PING"], True)],
    "an empty transaction": [(["MULTI"], True), (["EXEC"], True)],
    "a queuing error aborts EXEC": [
        (["MULTI"], True), (["ECHO", "a"], True), (["NOSUCH", "x"], True), (["PING"], True),
        (["EXEC"], True), (["ECHO", "after"], True)],
    "a wrong argument count aborts EXEC": [
        (["MULTI"], True), (["ECHO"], True), (["ECHO", "a", "b"], True), (["EXEC"], True)],
    "discard": [
        (["MULTI"], True), (["ECHO", "a"], True), (["DISCARD"], True), (["EXEC"], True),
        (["DISCARD"], True)],
    "nested multi": [
        (["MULTI"], True), (["MULTI"], True), (["ECHO", "x"], True), (["EXEC"], True)],
    "exec and discard without multi": [(["EXEC"], True), (["DISCARD"], True), (["PING"], True)],
    "exec with arguments": [(["MULTI"], True), (["ECHO", "a"], True), (["EXEC", "x"], True), (["EXEC"], True)],
    "watch inside multi, unwatch queued": [
        (["MULTI"], True), (["WATCH", "k"], True), (["UNWATCH"], True), (["EXEC"], True), (["UNWATCH"], True)],
    "reset discards": [
        (["MULTI"], True), (["ECHO", "a"], True), (["RESET"], True), (["EXEC"], True)],
    "multi with arguments": [(["MULTI", "x"], True), (["EXEC"], True)],
    "resp3": [
        (["HELLO", "3"], False), (["MULTI"], True), (["ECHO", "a"], True), (["CONFIG", "GET", "nosuch"], True),
        (["PING"], True), (["EXEC"], True), (["MULTI"], True), (["NOSUCH"], True), (["EXEC"], True)],
    "hello 3 inside the transaction": [
        (["MULTI"], True), (["HELLO", "3"], True), (["EXEC"], False), (["CONFIG", "GET", "nosuch"], True)],
}


def encode(words):
    out = b"*%d\r\n" % len(words)
    for w in words:
        b = w.encode()
        out += b"$%d\r\n%s\r\n" % (len(b), b)
    return out


class Reader:
    """Reads whole RESP2/RESP3 replies off a socket, as the bytes sent."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def _more(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        self.buf += chunk

    def _line(self, at):
        while True:
            end = self.buf.find(b"\r\n", at)
            if end >= 0:
                return end + 2
            self._more()

    def _skip(self, at):
        """The offset just past the reply starting at `at`."""
        end = self._line(at)
        kind, head = self.buf[at:at + 1], self.buf[at + 1:end - 2]
        if kind in b"$=!" and head != b"-1":
            n = int(head)
            while len(self.buf) < end + n + 2:
                self._more()
            return end + n + 2
        if kind in b"*~>%|" and head != b"-1":
            n = int(head) * (2 if kind in b"%|" else 1)
            for _ in range(n):
                end = self._skip(end)
            return end
        return end

    def reply(self):
        end = self._skip(0)
        out, self.buf = self.buf[:end], self.buf[end:]
        return out


def run_session(port, steps):
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        reader = Reader(sock)
        replies = []
        for words, compared in steps:
            sock.sendall(encode(words))
            reply = reader.reply()
            replies.append(reply if compared else None)
        return replies


def scenario_bytes(binary):
    with redis_server() as redis, timestamp_server(binary) as ours:
        redis_port = redis.port
        for name, steps in SESSIONS.items():
            want = run_session(redis_port, steps)
            got = run_session(ours.port, steps)
            same = want == got
            detail = "" if same else "\n      redis:   %r\n      coronet: %r" % (want, got)
            check(same, "%s: the same bytes as redis-server%s" % (name, detail))
        server_still_up(ours)


def scenario_redis_py(binary):
    try:
        import redis
        import redis.asyncio
    except ImportError as e:
        skip("redis-py is not importable by %s (%s); scripts/setup installs python3-redis" % (sys.executable, e))
    print("redis-py", redis.__version__, flush=True)
    with timestamp_server(binary) as ours:
        r = redis.Redis(host="127.0.0.1", port=ours.port, socket_timeout=TIMEOUT)
        pipe = r.pipeline()  # transaction=True by default: MULTI ... EXEC
        pipe.echo("a").ping().echo("b")
        check(pipe.execute() == [b"a", True, b"b"], "a pipeline with its defaults runs as MULTI/EXEC")
        with r.pipeline() as pipe:
            pipe.echo("one")
            pipe.execute_command("NOSUCH")
            try:
                pipe.execute()
                check(False, "a queued unknown command raises")
            except redis.exceptions.ResponseError as e:
                check("EXECABORT" in str(e) or "unknown command" in str(e),
                      "a queued unknown command raises ResponseError: %s" % e)
        check(r.ping() is True, "the connection pool still works after the aborted transaction")

        async def run_async():
            client = redis.asyncio.Redis(host="127.0.0.1", port=ours.port, socket_timeout=TIMEOUT)
            try:
                async with client.pipeline() as apipe:
                    apipe.echo("x").ping()
                    return await apipe.execute()
            finally:
                await client.aclose() if hasattr(client, "aclose") else await client.close()

        result = asyncio.run(run_async())
        check(result == [b"x", True], "the asyncio pipeline runs as MULTI/EXEC: %r" % (result,))
        server_still_up(ours)


main({"bytes": scenario_bytes, "redis_py": scenario_redis_py})
