#!/usr/bin/env python3
"""Runs real clients against samples/time_services: rdate (RFC 868 over TCP and
UDP, SNTP), nc (daytime over TCP), socat (daytime over UDP), and malformed
datagrams that must get no reply without stopping the service.

Usage: time_services_clients_test.py PATH/TO/time_services
Every wait is bounded; the server is killed at exit whatever happens.
"""

import calendar
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import time

# check() records into interop.failures; _die_with_parent() has the server
# killed if this script dies without reaching its cleanup.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))
from interop import _die_with_parent as die_with_parent, check, failures  # noqa: E402

CLIENT_TIMEOUT = 10  # seconds any one client command may take
MAX_SKEW = 2  # seconds between a printed date and our clock
# The largest UDP payload IPv4 can carry: the "64 KiB" datagram.
MAX_UDP_PAYLOAD = 65507

env = dict(os.environ, TZ="UTC", LC_ALL="C")


def start_server(binary):
    proc = subprocess.Popen(
        [binary, "--host", "127.0.0.1", "--daytime-port", "0", "--time-port", "0", "--sntp-port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, preexec_fn=die_with_parent)
    ports, out = {}, b""
    deadline = time.monotonic() + 10
    while b"serving on" not in out:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([proc.stdout], [], [], left)[0]:
            raise RuntimeError("time_services did not report its ports in 10 s: %r" % out)
        chunk = os.read(proc.stdout.fileno(), 4096)
        if not chunk:
            raise RuntimeError("time_services exited: %r" % out)
        out += chunk
    for name, port in re.findall(rb"^(\w+) port (\d+)", out, re.M):
        ports[name.decode()] = int(port)
    print(out.decode().rstrip(), flush=True)
    return proc, ports


def run(args, data=b""):
    # `timeout` bounds the client even if it ignores our kill.
    result = subprocess.run(["timeout", str(CLIENT_TIMEOUT)] + args, input=data, capture_output=True,
                            env=env, timeout=CLIENT_TIMEOUT + 5)
    return result.returncode, result.stdout, result.stderr


def near_now(seconds):
    return abs(seconds - time.time()) <= MAX_SKEW


def parse_rdate(output):
    # OpenRdate -p prints e.g. "Thu Nov 26 01:39:19 UTC 2026" (TZ=UTC here).
    m = re.search(r"(\w{3} \w{3} +\d+ \d\d:\d\d:\d\d) UTC (\d{4})", output)
    if not m:
        return None
    return calendar.timegm(time.strptime(m.group(1) + " " + m.group(2), "%a %b %d %H:%M:%S %Y"))


def parse_daytime(text):
    # ctime form plus CR LF: "Thu Nov 26 01:39:19 2026\r\n", local time (UTC here).
    if not text.endswith("\r\n"):
        return None
    try:
        return calendar.timegm(time.strptime(text[:-2], "%a %b %d %H:%M:%S %Y"))
    except ValueError:
        return None


def check_rdate(args, what):
    rc, out, err = run(["rdate"] + args + ["127.0.0.1"])
    text = out.decode(errors="replace") + err.decode(errors="replace")
    when = parse_rdate(text)
    check(rc == 0 and when is not None and near_now(when),
          "%s prints a date within %d s of the clock (rc=%d, %r)" % (what, MAX_SKEW, rc, text.strip()))


def sntp_request():
    packet = bytearray(48)
    packet[0] = (4 << 3) | 3  # version 4, client mode
    packet[40:48] = os.urandom(8)  # transmit timestamp: the client's nonce
    return bytes(packet)


def udp_socket():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    return s


def malformed_get_no_reply(port, packets, what):
    """Sends `packets` then one valid request from the same socket; only the
    valid one may be answered (the grace period after its reply bounds the wait)."""
    s = udp_socket()
    for p in packets:
        s.sendto(p, ("127.0.0.1", port))
    s.sendto(sntp_request(), ("127.0.0.1", port))
    replies = []
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        wait = 0.3 if replies else deadline - time.monotonic()
        if not select.select([s], [], [], max(wait, 0))[0]:
            break
        replies.append(s.recv(MAX_UDP_PAYLOAD + 1))
    s.close()
    check(len(replies) == 1 and len(replies[0]) == 48,
          "%s: no reply, and the valid request after them is answered (%d replies)" % (what, len(replies)))


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    missing = [tool for tool in ("rdate", "nc", "socat", "timeout") if shutil.which(tool) is None]
    if missing:
        sys.exit("missing client programs: %s (scripts/setup installs them)" % " ".join(missing))

    # A SIGTERM (e.g. from ctest on timeout) still runs the cleanup below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("terminated"))
    proc, ports = start_server(sys.argv[1])
    try:
        daytime, time_port, sntp = ports["daytime"], ports["time"], ports["sntp"]

        check_rdate(["-p", "-o", str(time_port)], "rdate -p (RFC 868 over TCP)")
        check_rdate(["-p", "-u", "-o", str(time_port)], "rdate -p -u (RFC 868 over UDP)")
        check_rdate(["-p", "-n", "-o", str(sntp)], "rdate -p -n (SNTP)")

        rc, out, _ = run(["nc", "-w", "5", "127.0.0.1", str(daytime)])
        when = parse_daytime(out.decode(errors="replace"))
        check(rc == 0 and when is not None and near_now(when), "daytime over TCP with nc: %r" % out)

        rc, out, _ = run(["socat", "-t", "1", "-T", "5", "-", "UDP:127.0.0.1:%d" % daytime], b"what time is it?\n")
        when = parse_daytime(out.decode(errors="replace"))
        check(rc == 0 and when is not None and near_now(when), "daytime over UDP with socat: %r" % out)

        malformed = [b"", b"\x23", b"\x23" * 47, bytes([(4 << 3) | 4]) + bytes(47), b"\x23" * MAX_UDP_PAYLOAD]
        for i, packet in enumerate(malformed):
            malformed_get_no_reply(sntp, [packet], "SNTP malformed datagram #%d (%d bytes)" % (i + 1, len(packet)))
        malformed_get_no_reply(sntp, malformed, "SNTP malformed datagrams all at once")

        # Daytime and time answer any datagram, but not one over the size bound.
        for port, name in ((daytime, "daytime"), (time_port, "time")):
            s = udp_socket()
            s.sendto(b"\0" * MAX_UDP_PAYLOAD, ("127.0.0.1", port))
            s.sendto(b"", ("127.0.0.1", port))
            replies = []
            while select.select([s], [], [], 0.3 if replies else 5)[0]:
                replies.append(s.recv(MAX_UDP_PAYLOAD + 1))
            s.close()
            check(len(replies) == 1, "%s over UDP: no reply to a 64 KiB datagram, one to an empty one" % name)

        check_rdate(["-p", "-n", "-o", str(sntp)], "after the malformed datagrams, rdate -p -n")
        check(proc.poll() is None, "the server is still running")

        proc.send_signal(signal.SIGTERM)
        try:
            out, _ = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            out = b""
        check(proc.returncode == 0, "SIGTERM drains and exits 0 (exit %r)" % proc.returncode)
        print(out.decode(errors="replace").rstrip(), flush=True)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)

    if failures:
        sys.exit("%d check(s) failed" % len(failures))


if __name__ == "__main__":
    main()
