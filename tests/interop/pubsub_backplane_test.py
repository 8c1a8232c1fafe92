#!/usr/bin/env python3
"""Three timestamp_server instances sharing Pub/Sub through one redis-server
(--pubsub-backplane): a subscriber on each instance, a PUBLISH on each, and
every subscriber gets every message exactly once and nothing else. Then the
redis-server is killed: a publish meanwhile reaches its own instance's
subscriber only; the redis-server is started again on the same port, the
instances reconnect (INFO's coronet_pubsub_backplane, polled with a deadline)
and delivery resumes, exactly once. Last, SIGTERM stops each instance within
its drain timeout.

Usage: pubsub_backplane_test.py run TIMESTAMP_SERVER"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop import check, free_port, main, redis_server, timestamp_server  # noqa: E402
from pubsub_bytes_test import Conn  # noqa: E402

INSTANCES = 3


def info_field(port, name):
    c = Conn(port)
    try:
        c.send("INFO", "stats")
        frame = c.frames(1)[0]
    finally:
        c.close()
    for line in frame.decode(errors="replace").split("\r\n"):
        if line.startswith(name + ":"):
            return line.split(":", 1)[1]
    return None


def wait_backplane(servers, state, limit=20):
    """Polls INFO until every instance's backplane is in `state`; whether it was within `limit` s."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        states = [info_field(s.port, "coronet_pubsub_backplane") for s in servers]
        if all(st == state for st in states):
            return True
        time.sleep(0.05)  # polling interval, not a wait for the event itself
    return False


def message(channel, payload):
    def bulk(s):
        return b"$%d\r\n%s\r\n" % (len(s), s)
    return b"*3\r\n$7\r\nmessage\r\n" + bulk(channel.encode()) + bulk(payload.encode())


def publish_round(servers, subs, tag):
    """A PUBLISH on each instance, then a marker from instance 0: each subscriber gets the
    round's messages once each, in any order across instances, then the marker."""
    want = set()
    for i, s in enumerate(servers):
        payload = "%s-from-%d" % (tag, i)
        want.add(message("news", payload))
        pub = Conn(s.port)
        pub.send("PUBLISH", "news", payload)
        got = pub.frames(1)[0]
        pub.close()
        # The count is this instance's receivers, as redis-server counts its own.
        check(got == b":1\r\n", "%s: PUBLISH on instance %d counts its local subscriber: %r" % (tag, i, got))
    for i, sub in enumerate(subs):
        got = sub.frames(len(servers))
        check(set(got) == want and len(set(got)) == len(got),
              "%s: subscriber %d gets each instance's message once: %r" % (tag, i, got))
    marker = Conn(servers[0].port)
    marker.send("PUBLISH", "news", tag + "-end")
    marker.frames(1)
    marker.close()
    for i, sub in enumerate(subs):
        got = sub.frames(1)[0]
        check(got == message("news", tag + "-end"),
              "%s: subscriber %d gets nothing else before the next message: %r" % (tag, i, got))


def run(server_binary):
    port = free_port()
    url = "redis://127.0.0.1:%d" % port
    ref = redis_server(port)
    servers, subs = [], []
    try:
        for _ in range(INSTANCES):
            servers.append(timestamp_server(server_binary, "--pubsub-backplane", url, "--drain-timeout", "2"))
        check(wait_backplane(servers, "connected"), "every instance connects to the backplane")
        for s in servers:
            c = Conn(s.port)
            c.send("SUBSCRIBE", "news")
            got = c.frames(1)[0]
            check(got == b"*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n", "SUBSCRIBE news: %r" % got)
            subs.append(c)

        publish_round(servers, subs, "first")

        ref.kill()
        ref = None
        check(wait_backplane(servers, "connecting"), "every instance sees the backplane lost")
        pub = Conn(servers[0].port)
        pub.send("PUBLISH", "news", "while-down")
        check(pub.frames(1)[0] == b":1\r\n", "a PUBLISH while the backplane is down still counts its local subscriber")
        pub.close()
        got = subs[0].frames(1)[0]
        check(got == message("news", "while-down"), "its instance's subscriber gets it: %r" % got)
        dropped = info_field(servers[0].port, "coronet_pubsub_backplane_dropped")
        check(dropped is not None and int(dropped) >= 1, "INFO counts it as dropped: %r" % dropped)

        ref = redis_server(port)
        started = time.monotonic()
        check(wait_backplane(servers, "connected"), "every instance reconnects to the restarted redis-server")
        print("reconnected in %.2f s" % (time.monotonic() - started), flush=True)

        publish_round(servers, subs, "second")
        forwarded = [info_field(s.port, "coronet_pubsub_backplane_forwarded") for s in servers]
        received = [info_field(s.port, "coronet_pubsub_backplane_received") for s in servers]
        print("forwarded %s, received %s" % (forwarded, received), flush=True)

        for c in subs:
            c.close()
        subs = []
        for i, s in enumerate(servers):
            began = time.monotonic()
            rc, _ = s.stop()
            took = time.monotonic() - began
            check(rc == 0 and took < 2.5, "instance %d stops on SIGTERM within its drain timeout (exit %r, %.2f s)"
                  % (i, rc, took))
    finally:
        for c in subs:
            c.close()
        for s in servers:
            s.kill()
        if ref is not None:
            ref.kill()


if __name__ == "__main__":
    main({"run": run})
