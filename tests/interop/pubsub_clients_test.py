#!/usr/bin/python3
"""Pub/Sub with real clients against timestamp_server: redis-cli SUBSCRIBE and
PSUBSCRIBE receiving what redis-cli PUBLISH sends (cli), and redis-py's
pubsub() with the sync client (sync) and with asyncio (asyncio), each
receiving messages published from another connection and from a pattern.

Usage: pubsub_clients_test.py {cli|sync|asyncio} PATH/TO/timestamp_server
Run the redis-py scenarios with /usr/bin/python3, where Debian installs it."""
import asyncio
import os
import select
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop import check, main, need_tool, run, server_still_up, skip, timestamp_server  # noqa: E402

TIMEOUT = 5


def wait_for(predicate, what):
    """Polls `predicate` (a cheap query) until true, up to TIMEOUT s."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return check(False, what)


def read_until(proc, needle):
    """What `proc` printed until `needle` appeared (or TIMEOUT s passed): PUBLISH answers once
    the message is queued for each subscriber, before each redis-cli has printed it."""
    out = b""
    deadline = time.monotonic() + TIMEOUT
    while needle not in out and time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        chunk = os.read(proc.stdout.fileno(), 4096)
        if not chunk:
            break
        out += chunk
    return out


def numsub(cli, port, channel):
    rc, out, _ = run([cli, "-p", str(port), "PUBSUB", "NUMSUB", channel])
    lines = out.split()
    return rc == 0 and len(lines) == 2 and lines[1] == "1"


def numpat(cli, port):
    rc, out, _ = run([cli, "-p", str(port), "PUBSUB", "NUMPAT"])
    return rc == 0 and out.strip() == "1"


def cli(binary):
    redis_cli = need_tool("redis-cli")
    with timestamp_server(binary) as srv:
        port = str(srv.port)
        # Each subscriber exits after its messages (`-c`-less, raw output), bounded by its timeout.
        sub = subprocess.Popen([redis_cli, "-p", port, "--no-raw", "SUBSCRIBE", "news"], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
        psub = subprocess.Popen([redis_cli, "-p", port, "--no-raw", "PSUBSCRIBE", "n*"], stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)
        sub_out = psub_out = b""
        try:
            wait_for(lambda: numsub(redis_cli, srv.port, "news"), "redis-cli SUBSCRIBE news is subscribed")
            wait_for(lambda: numpat(redis_cli, srv.port), "redis-cli PSUBSCRIBE n* is subscribed")
            rc, out, _ = run([redis_cli, "-p", port, "PUBLISH", "news", "hello from redis-cli"])
            check(rc == 0 and out.strip() == "2", "redis-cli PUBLISH reaches 2 subscriptions: %r" % out)
            sub_out = read_until(sub, b'"hello from redis-cli"')
            psub_out = read_until(psub, b'"hello from redis-cli"')
        finally:
            sub.terminate()
            psub.terminate()
        out = (sub_out + sub.communicate(timeout=TIMEOUT)[0]).decode()
        check('"message"' in out and '"news"' in out and '"hello from redis-cli"' in out,
              "redis-cli SUBSCRIBE shows the message: %r" % out)
        out = (psub_out + psub.communicate(timeout=TIMEOUT)[0]).decode()
        check('"pmessage"' in out and '"n*"' in out and '"hello from redis-cli"' in out,
              "redis-cli PSUBSCRIBE shows the pmessage: %r" % out)
        server_still_up(srv)


def import_redis():
    try:
        import redis
        import redis.asyncio  # noqa: F401
    except ImportError as e:
        skip("redis-py is not importable by %s (%s); scripts/setup installs python3-redis" % (sys.executable, e))
    return redis


def next_message(p, what):
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        m = p.get_message(ignore_subscribe_messages=True, timeout=0.5)
        if m is not None:
            return m
    check(False, what + " within %d s" % TIMEOUT)
    return None


def sync(binary):
    redis = import_redis()
    with timestamp_server(binary) as srv:
        r = redis.Redis(host="127.0.0.1", port=srv.port, socket_timeout=TIMEOUT)
        p = r.pubsub()
        p.subscribe("news")
        p.psubscribe("sp*")
        # The confirmations, as redis-py reads them.
        first = [p.get_message(timeout=TIMEOUT) for _ in range(2)]
        check([m["type"] for m in first if m] == ["subscribe", "psubscribe"],
              "subscribe and psubscribe confirmed: %r" % first)
        check(r.publish("news", "n1") == 1, "PUBLISH news reaches one subscription")
        check(r.publish("sport", "s1") == 1, "PUBLISH sport reaches the pattern")
        m = next_message(p, "the news message")
        check(m is not None and m["type"] == "message" and m["channel"] == b"news" and m["data"] == b"n1",
              "message on news: %r" % (m,))
        m = next_message(p, "the sport pmessage")
        check(m is not None and m["type"] == "pmessage" and m["pattern"] == b"sp*" and m["data"] == b"s1",
              "pmessage on sport: %r" % (m,))
        check(r.pubsub_numsub("news") == [(b"news", 1)], "PUBSUB NUMSUB news is 1")
        check(r.pubsub_numpat() == 1, "PUBSUB NUMPAT is 1")
        check(b"news" in r.pubsub_channels(), "PUBSUB CHANNELS lists news")
        # A handler thread, as redis-py's run_in_thread runs it.
        got = []
        threaded = r.pubsub()
        threaded.subscribe(**{"threaded": lambda m: got.append(m["data"])})
        worker = threaded.run_in_thread(sleep_time=0.05)
        try:
            wait_for(lambda: r.pubsub_numsub("threaded") == [(b"threaded", 1)], "the handler is subscribed")
            for i in range(100):
                r.publish("threaded", "t%d" % i)
            wait_for(lambda: len(got) == 100, "100 messages reach the handler thread (%d)" % len(got))
            check(got == [b"t%d" % i for i in range(100)], "in order")
        finally:
            worker.stop()
            worker.join(timeout=TIMEOUT)
            threaded.close()
        p.close()
        wait_for(lambda: r.pubsub_numsub("news") == [(b"news", 0)], "a closed pubsub leaves no subscriber")
        server_still_up(srv)


def asyncio_scenario(binary):
    redis = import_redis()

    async def scenario(port):
        r = redis.asyncio.Redis(host="127.0.0.1", port=port, socket_timeout=TIMEOUT)
        p = r.pubsub()
        await p.subscribe("news")
        await p.psubscribe("n*")
        for _ in range(2):
            await p.get_message(timeout=TIMEOUT)
        check(await r.publish("news", "a1") == 2, "PUBLISH reaches the channel and the pattern")
        got = []
        deadline = time.monotonic() + TIMEOUT
        while len(got) < 2 and time.monotonic() < deadline:
            m = await p.get_message(ignore_subscribe_messages=True, timeout=0.5)
            if m is not None:
                got.append((m["type"], m["data"]))
        check(sorted(got) == [("message", b"a1"), ("pmessage", b"a1")], "both arrive: %r" % got)
        await p.unsubscribe()
        await p.punsubscribe()
        await p.aclose() if hasattr(p, "aclose") else await p.close()
        check(await r.publish("news", "a2") == 0, "after unsubscribing, nobody receives")
        await r.aclose() if hasattr(r, "aclose") else await r.close()

    with timestamp_server(binary) as srv:
        asyncio.run(asyncio.wait_for(scenario(srv.port), 30))
        server_still_up(srv)


if __name__ == "__main__":
    main({"cli": cli, "sync": sync, "asyncio": asyncio_scenario})
