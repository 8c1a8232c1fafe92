#!/usr/bin/env python3
"""TLS rows of bench/compare: coronet over TLS against coronet plaintext and
redis-server's tls-port, in one run, with the same pinning (servers on CPU 0,
load on CPU 1) and an ECDSA P-256 certificate (tests/support/make_test_certs.sh).

- PING req/s at P=1 and P=16 with 50 connections: `redis-benchmark -t ping_mbulk
  -c 50 -P {1,16}` (with --tls for the TLS servers), best of R rounds;
- new TLS connections/s, full handshake each: `redis-benchmark -k 0` (a new
  connection per request);
- RSS per idle TLS connection: N connections (default 10 000), each completes
  its handshake and one PING, then stays silent; (RSS after - RSS before) / N.

Usage: compare.py BIN_DIR [--requests N] [--rounds R] [--idle N] [--csv FILE]
BIN_DIR holds coronet_ping_server. Prints a table; writes a CSV."""
import argparse
import os
import re
import selectors
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SERVER_CPU, CLIENT_CPU = "0", "1"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_listening(port, proc, limit=10):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited: %s" % proc.args)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("server did not listen: %s" % proc.args)


def start(name, bin_dir, certs, tmp):
    port = free_port()
    cert, key, ca = (os.path.join(certs, f) for f in ("server.pem", "server.key", "ca.pem"))
    if name == "coronet-tls":
        argv = [os.path.join(bin_dir, "coronet_ping_server"), str(port), "20000", "tls", cert, key]
    elif name == "coronet-plain":
        argv = [os.path.join(bin_dir, "coronet_ping_server"), str(port), "20000"]
    else:
        argv = ["redis-server", "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1", "--tls-cert-file", cert,
                "--tls-key-file", key, "--tls-ca-cert-file", ca, "--tls-auth-clients", "no", "--save", "",
                "--appendonly", "no", "--maxclients", "20000", "--dir", tmp, "--logfile", os.path.join(tmp, "r.log")]
    proc = subprocess.Popen(["taskset", "-c", SERVER_CPU, *argv], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_listening(port, proc)
    return proc, port


def stop(proc):
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def bench(port, tls, ca, args):
    argv = ["taskset", "-c", CLIENT_CPU, "redis-benchmark", "-h", "localhost", "-p", str(port), "-q", *args]
    if tls:
        argv[4:4] = ["--tls", "--cacert", ca]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=300).stdout
    m = re.findall(r"([\d.]+) requests per second", out)
    return float(m[-1]) if m else 0.0


def rss_kib(pid):
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def child_pid(proc):
    """The server's pid (taskset execs it, so it is proc.pid)."""
    return proc.pid


def idle_tls(port, n, ca, tls):
    """Opens n connections (TLS if `tls`), each handshakes and gets one PONG;
    returns the open sockets."""
    ctx = ssl.create_default_context(cafile=ca)
    sel = selectors.DefaultSelector()
    conns, done = [], 0
    pending = 0
    total = 0
    state = {}

    def open_one():
        raw = socket.socket()
        raw.setblocking(False)
        raw.connect_ex(("127.0.0.1", port))
        s = ctx.wrap_socket(raw, server_hostname="localhost", do_handshake_on_connect=False) if tls else raw
        state[s] = "connect"
        sel.register(s, selectors.EVENT_WRITE)
        conns.append(s)

    deadline = time.monotonic() + 300
    while done < n and time.monotonic() < deadline:
        while total < n and pending < 200:
            open_one()
            total += 1
            pending += 1
        for key, _ in sel.select(timeout=1):
            s = key.fileobj
            st = state[s]
            try:
                if st == "connect":
                    st = "handshake" if tls else "send"
                if st == "handshake":
                    s.do_handshake()
                    st = "send"
                if st == "send":
                    s.send(b"PING\r\n")
                    st = "recv"
                    sel.modify(s, selectors.EVENT_READ)
                    state[s] = st
                    continue
                if st == "recv":
                    data = s.recv(64)
                    if data.startswith(b"+PONG"):
                        sel.unregister(s)
                        state[s] = "idle"
                        done += 1
                        pending -= 1
                        continue
            except ssl.SSLWantReadError:
                sel.modify(s, selectors.EVENT_READ)
            except ssl.SSLWantWriteError:
                sel.modify(s, selectors.EVENT_WRITE)
            except BlockingIOError:
                pass
            state[s] = st
    return conns, done


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bin_dir")
    ap.add_argument("--requests", type=int, default=200000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--idle", type=int, default=10000)
    ap.add_argument("--csv", default=os.path.join(ROOT, "bench", "results", "tls.csv"))
    a = ap.parse_args()
    for tool in ("redis-benchmark", "redis-server", "openssl", "taskset"):
        if shutil.which(tool) is None:
            sys.exit("tls compare: %s is not installed (scripts/setup installs it)" % tool)
    tmp = tempfile.mkdtemp(prefix="coronet-tls-bench-")
    certs = os.path.join(tmp, "certs")
    subprocess.run(["sh", os.path.join(ROOT, "tests", "support", "make_test_certs.sh"), certs], check=True)
    ca = os.path.join(certs, "ca.pem")
    servers = ["coronet-tls", "coronet-plain", "redis-tls"]
    rows = []
    best = {}
    for _ in range(a.rounds):
        for name in servers:
            proc, port = start(name, a.bin_dir, certs, tmp)
            tls = name != "coronet-plain"
            for p in (1, 16):
                n = a.requests if p == 16 else a.requests // 4
                rps = bench(port, tls, ca, ["-t", "ping_mbulk", "-c", "50", "-P", str(p), "-n", str(n)])
                best[(name, "ping P=%d" % p)] = max(best.get((name, "ping P=%d" % p), 0), rps)
            if tls:
                rps = bench(port, tls, ca, ["-t", "ping_mbulk", "-c", "50", "-k", "0", "-n", "3000"])
                best[(name, "new TLS connections/s")] = max(best.get((name, "new TLS connections/s"), 0), rps)
            stop(proc)
    print("TLS (ECDSA P-256; servers on CPU %s, redis-benchmark on CPU %s; best of %d rounds)" %
          (SERVER_CPU, CLIENT_CPU, a.rounds))
    print("%-24s %14s %14s %14s" % ("measure", *servers))
    for measure in ("ping P=1", "ping P=16", "new TLS connections/s"):
        vals = [best.get((s, measure)) for s in servers]
        print("%-24s %14s %14s %14s" % (measure, *("%.0f" % v if v else "-" for v in vals)))
        for s, v in zip(servers, vals):
            if v:
                rows.append((s, measure, "%.0f" % v))
    if a.idle > 0:
        print("%d idle connections (each handshaked and answered one PING, then silent)" % a.idle)
        for name in ("coronet-tls", "redis-tls", "coronet-plain"):
            proc, port = start(name, a.bin_dir, certs, tmp)
            time.sleep(0.3)
            before = rss_kib(child_pid(proc))
            conns, done = idle_tls(port, a.idle, ca, name != "coronet-plain")
            time.sleep(0.5)
            after = rss_kib(child_pid(proc))
            per = (after - before) / max(done, 1)
            print("%-14s %6d connections  RSS %8d -> %8d KiB  %.2f KiB/conn" % (name, done, before, after, per))
            rows.append((name, "idle KiB/conn (%d)" % done, "%.2f" % per))
            for c in conns:
                c.close()
            stop(proc)
    os.makedirs(os.path.dirname(a.csv), exist_ok=True)
    with open(a.csv, "w") as f:
        f.write("server,measure,value\n")
        for r in rows:
            f.write(",".join(r) + "\n")
    print("tls compare: wrote %s" % a.csv)
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
