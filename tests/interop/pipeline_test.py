#!/usr/bin/python3
"""redis-py (Debian's python3-redis) pipelines that write every command before
they read a reply, against the timestamp sample with its default options
50 ECHOs of 1 MB through `pipeline(transaction=False)`,
with the sync client and with redis.asyncio. A server that stopped reading
while its replies were unread would leave the client blocked in its write
until its socket timeout.

Usage: pipeline_test.py {sync|asyncio} PATH/TO/timestamp_server
Run it with /usr/bin/python3, where Debian installs the module."""
import asyncio
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop import check, main, server_still_up, skip, timestamp_server  # noqa: E402

try:
    import redis
    import redis.asyncio
except ImportError as e:
    skip("redis-py is not importable by %s (%s); scripts/setup installs python3-redis" % (sys.executable, e))

TIMEOUT = 20  # socket timeouts, seconds: a deadlock shows as redis.exceptions.TimeoutError
COUNT = 50
SIZE = 1000 * 1000
print("redis-py", redis.__version__, flush=True)


def values():
    return [bytes([ord("a") + i % 26]) * SIZE for i in range(COUNT)]


def check_replies(replies, expected, how):
    check(len(replies) == COUNT, "%s: %d replies (%d)" % (how, COUNT, len(replies)))
    wrong = [i for i, (got, want) in enumerate(zip(replies, expected)) if got != want]
    check(not wrong, "%s: every reply is its ECHO's 1 MB value, in order (wrong: %s)" % (how, wrong[:5]))


def sync(binary):
    with timestamp_server(binary) as srv:
        r = redis.Redis(host="127.0.0.1", port=srv.port, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT)
        expected = values()
        for round_ in range(2):
            pipe = r.pipeline(transaction=False)
            for v in expected:
                pipe.echo(v)
            started = time.monotonic()
            replies = pipe.execute()
            print("round %d: %d x %d bytes in %.2f s" % (round_, COUNT, SIZE, time.monotonic() - started), flush=True)
            check_replies(replies, expected, "pipeline round %d" % round_)
        check(r.ping() is True, "the connection serves on after the pipelines")
        r.close()
        server_still_up(srv)


def asyncio_scenario(binary):
    async def run(port):
        r = redis.asyncio.Redis(host="127.0.0.1", port=port, socket_timeout=TIMEOUT,
                                socket_connect_timeout=TIMEOUT)
        expected = values()
        async with r.pipeline(transaction=False) as pipe:
            for v in expected:
                pipe.echo(v)
            started = time.monotonic()
            replies = await pipe.execute()
            print("%d x %d bytes in %.2f s" % (COUNT, SIZE, time.monotonic() - started), flush=True)
        check_replies(replies, expected, "asyncio pipeline")
        check(await r.ping() is True, "the connection serves on after the pipeline")
        await r.close()

    with timestamp_server(binary) as srv:
        asyncio.run(run(srv.port))
        server_still_up(srv)


if __name__ == "__main__":
    main({"sync": sync, "asyncio": asyncio_scenario})
