#!/usr/bin/python3
"""Python's `websockets` (Debian's python3-websockets) against timestamp_server's
/ws: commands as text messages answered with the HTTP mapping's JSON, a ping
answered, a message in fragments, the close handshake (1000), a message over
the limit closed with 1009, and no upgrade on a path that is not /ws
(scenario `python`). Pub/Sub (scenario `pubsub`): a WebSocket subscriber and
`curl -N` on /subscribe/<channel> both receive what redis-cli PUBLISHes.

Usage: websocket_test.py {python|pubsub} PATH/TO/timestamp_server
Run it with /usr/bin/python3, where Debian installs the module."""
import asyncio
import json
import os
import select
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop import check, main, need_module, run, server_still_up, skip, timestamp_server  # noqa: E402

websockets = need_module("websockets", "python3-websockets")

print("websockets", websockets.__version__, flush=True)
TIMEOUT = 5


async def session(port):
    url = "ws://127.0.0.1:%d/ws" % port
    async with websockets.connect(url, open_timeout=TIMEOUT, close_timeout=TIMEOUT) as ws:
        await ws.send("ping")
        check(await asyncio.wait_for(ws.recv(), TIMEOUT) == '{"ping":"PONG"}', "ping answers {\"ping\":\"PONG\"}")
        await ws.send("timestamp unix")
        reply = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
        check(isinstance(reply.get("timestamp"), str) and reply["timestamp"].isdigit(),
              "timestamp unix answers a JSON object with the seconds: %r" % (reply,))
        await ws.send(["echo ", "frag", "mented"])
        check(await asyncio.wait_for(ws.recv(), TIMEOUT) == '{"echo":"fragmented"}',
              "a message in three fragments is one command line")
        pong = await ws.ping(b"hi")
        try:
            await asyncio.wait_for(pong, TIMEOUT)
            check(True, "a ping is answered with a pong")
        except asyncio.TimeoutError:
            check(False, "a ping is answered with a pong")
        await ws.send("echo héllo")
        check(await asyncio.wait_for(ws.recv(), TIMEOUT) == '{"echo":"héllo"}', "UTF-8 goes through unchanged")
    check(ws.close_code == 1000, "the close handshake ends with 1000 (%r)" % ws.close_code)

    async with websockets.connect(url, open_timeout=TIMEOUT, close_timeout=TIMEOUT, max_size=None) as ws:
        await ws.send("echo " + "x" * (1024 * 1024 + 1))
        try:
            await asyncio.wait_for(ws.recv(), TIMEOUT)
            check(False, "a message over 1 MiB is refused")
        except websockets.ConnectionClosed as e:
            code = e.rcvd.code if e.rcvd is not None else None
            check(code == 1009, "a message over 1 MiB is closed with 1009 (%r)" % code)

    try:
        async with websockets.connect("ws://127.0.0.1:%d/ping" % port, open_timeout=TIMEOUT):
            check(False, "a handshake on /ping is refused")
    except websockets.InvalidStatusCode as e:
        check(e.status_code == 200, "a handshake on /ping gets the ordinary answer to GET /ping (200), not 101 "
              "(%r)" % e.status_code)


def publish(port, channel, payload, want):
    """PUBLISH with redis-cli until `want` subscribers receive it (they subscribe on the
    server's thread, maybe after the client saw its confirmation); the last count."""
    exe = shutil.which("redis-cli")
    if exe is None:
        skip("redis-cli is not installed (scripts/setup installs redis-tools)")
    deadline = time.monotonic() + TIMEOUT
    count = -1
    while time.monotonic() < deadline:
        rc, out, err = run([exe, "-p", str(port), "PUBLISH", channel, payload])
        check(rc == 0, "redis-cli PUBLISH exits 0 (%r %s)" % (rc, err))
        count = int(out.strip())
        if count >= want:
            break
    return count


async def pubsub_session(srv):
    url = "ws://127.0.0.1:%d/ws" % srv.ports["http"]
    curl = shutil.which("curl")
    if curl is None:
        skip("curl is not installed (scripts/setup installs it)")
    sse = subprocess.Popen([curl, "-sN", "--max-time", "20", "http://127.0.0.1:%d/subscribe/news" % srv.ports["http"]],
                           stdout=subprocess.PIPE)
    try:
        async with websockets.connect(url, open_timeout=TIMEOUT, close_timeout=TIMEOUT) as ws:
            await ws.send("subscribe news")
            confirmation = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
            check(confirmation == {"subscribe": {"channel": "news", "subscriptions": 1}},
                  "subscribe news is confirmed: %r" % (confirmation,))
            count = publish(srv.port, "news", "hello from redis-cli", 2)
            check(count == 2, "PUBLISH reaches the WebSocket and the event stream (%r)" % count)
            message = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
            check(message == {"message": {"channel": "news", "data": "hello from redis-cli"}},
                  "the WebSocket receives it as a text message: %r" % (message,))
        got = b""
        deadline = time.monotonic() + TIMEOUT
        while b"\n\n" not in got:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([sse.stdout], [], [], left)[0]:
                break
            chunk = os.read(sse.stdout.fileno(), 4096)
            if not chunk:
                break
            got += chunk
        check(got.startswith(b"data: hello from redis-cli\n\n"), "curl -N prints one data: event: %r" % got)
    finally:
        sse.kill()
        sse.wait()


def pubsub(binary):
    with timestamp_server(binary, "--http-port", "0") as srv:
        asyncio.run(pubsub_session(srv))
        server_still_up(srv)


def python(binary):
    with timestamp_server(binary, "--http-port", "0") as srv:
        asyncio.run(session(srv.ports["http"]))
        server_still_up(srv)


if __name__ == "__main__":
    main({"python": python, "pubsub": pubsub})
