#!/usr/bin/env python3
"""Real TLS clients against timestamp_server's TLS port (certificates made by
tests/support/make_test_certs.sh, ECDSA P-256): redis-cli --tls, redis-benchmark
--tls, redis-py with ssl=True, openssl s_client speaking the line protocol, and
timestamp_client --tls; certificate reload on SIGHUP, a broken certificate
keeping the old one in use.

Usage: tls_test.py {tools|client|reload} PATH/TO/samples/timestamp

A missing tool skips the test (exit 77), unless CI is set: then it fails."""
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop import CTIME, need_tool, check, main, run, server_still_up, skip, timestamp_server  # noqa: E402

MAKE_CERTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support", "make_test_certs.sh")


def make_certs():
    need_tool("openssl")
    d = tempfile.mkdtemp(prefix="coronet-tls-")
    subprocess.run(["sh", MAKE_CERTS, d], check=True, timeout=60)
    return d


def tls_server(samples, certs, *extra, cert="server.pem", key="server.key"):
    return timestamp_server(os.path.join(samples, "timestamp_server"), "--tls-port", "0",
                            "--tls-cert", os.path.join(certs, cert), "--tls-key", os.path.join(certs, key), *extra)


def served_certificate(port):
    """The PEM certificate the TLS port presents (not verified)."""
    return ssl.get_server_certificate(("127.0.0.1", port))


def same_pem(a, b):
    return ssl.PEM_cert_to_DER_cert(a) == ssl.PEM_cert_to_DER_cert(b)


def tools(samples):
    cli, bench, s_client = need_tool("redis-cli"), need_tool("redis-benchmark"), need_tool("openssl")
    certs = make_certs()
    ca = os.path.join(certs, "ca.pem")
    with tls_server(samples, certs) as srv:
        port = str(srv.ports["tls"])
        rc, out, err = run([cli, "--tls", "--cacert", ca, "-h", "localhost", "-p", port, "ping"], timeout=10)
        check(rc == 0 and out == "PONG\n", "redis-cli --tls ping: %r %r" % (out, err))
        rc, out, err = run([cli, "--tls", "--cacert", ca, "-h", "localhost", "-p", port, "timestamp"], timeout=10)
        check(rc == 0 and re.fullmatch(CTIME + "\n", out) is not None, "redis-cli --tls timestamp: %r %r" % (out, err))
        rc, out, err = run([cli, "--tls", "--cacert", os.path.join(certs, "other-ca.pem"), "-h", "localhost",
                            "-p", port, "ping"], timeout=10)
        check("PONG" not in out and "certificate verify failed" in out + err,
              "redis-cli trusting another CA is refused: %r %r" % (out, err))
        rc, out, err = run([bench, "--tls", "--cacert", ca, "-h", "localhost", "-p", port, "-t", "ping_mbulk",
                            "-P", "16", "-c", "10", "-n", "5000", "-q"], timeout=60)
        check(rc == 0 and re.search(r"PING_MBULK: [\d.]+ requests per second", out) is not None,
              "redis-benchmark --tls -t ping_mbulk -P 16: %r %r" % (out[-200:], err[-200:]))
        try:
            import redis
        except ImportError:
            need_tool("python3-redis (import redis)")
        r = redis.Redis(host="localhost", port=int(port), ssl=True, ssl_ca_certs=ca, socket_timeout=10)
        check(r.ping() is True, "redis-py ssl=True ping")
        check(re.fullmatch(CTIME, r.execute_command("timestamp").decode()) is not None, "redis-py ssl=True timestamp")
        r.close()
        # Plaintext to the TLS port: closed, and the server goes on.
        rc, out, err = run([cli, "-h", "127.0.0.1", "-p", port, "ping"], timeout=10)
        check(rc is not None and "PONG" not in out, "plaintext redis-cli to the TLS port gets no reply: %r" % out)
        rc, out, err = run([cli, "--tls", "--cacert", ca, "-h", "localhost", "-p", port, "ping"], timeout=10)
        check(out == "PONG\n", "a TLS client is served after that: %r" % out)
        server_still_up(srv)
    with tls_server(samples, certs, "--protocol", "line") as srv:
        rc, out, err = run([s_client, "s_client", "-quiet", "-CAfile", ca, "-verify_return_error", "-servername", "localhost",
                            "-connect", "127.0.0.1:%d" % srv.ports["tls"]], data=b"ping hello\r\ntimestamp\r\nquit\r\n",
                           timeout=20)
        check(re.fullmatch(r"hello\r\n%s\r\nOK\r\n" % CTIME, out) is not None,
              "openssl s_client speaks the line protocol: %r %r" % (out, err[-300:]))
        server_still_up(srv)
    shutil.rmtree(certs, ignore_errors=True)


def client(samples):
    certs = make_certs()
    ca = os.path.join(certs, "ca.pem")
    exe = os.path.join(samples, "timestamp_client")
    with tls_server(samples, certs) as srv:
        port = str(srv.ports["tls"])
        rc, out, err = run([exe, "--host", "localhost", "--port", port, "--tls", "--tls-ca", ca], timeout=20)
        check(rc == 0 and re.fullmatch("current timestamp: %s\n" % CTIME, out) is not None,
              "timestamp_client --tls --tls-ca: %r %r" % (out, err))
        rc, out, err = run([exe, "--host", "localhost", "--port", port, "--tls"], timeout=20)
        check(rc == 1 and "certificate verify failed" in err,
              "timestamp_client --tls with the system store refuses the test CA: %r" % err)
        rc, out, err = run([exe, "--host", "127.0.0.1", "--port", port, "--tls", "--insecure"], timeout=20)
        check(rc == 0 and "current timestamp" in out, "timestamp_client --tls --insecure: %r %r" % (out, err))
        server_still_up(srv)
    with tls_server(samples, certs, cert="expired.pem", key="expired.key") as srv:
        rc, out, err = run([exe, "--host", "localhost", "--port", str(srv.ports["tls"]), "--tls", "--tls-ca", ca],
                           timeout=20)
        check(rc == 1 and "certificate has expired" in err,
              "timestamp_client against an expired certificate says so: %r" % err)
        server_still_up(srv)
    shutil.rmtree(certs, ignore_errors=True)


def reload(samples):
    cli = need_tool("redis-cli")
    certs = make_certs()
    ca = os.path.join(certs, "ca.pem")
    live_cert, live_key = os.path.join(certs, "live.pem"), os.path.join(certs, "live.key")
    shutil.copy(os.path.join(certs, "server.pem"), live_cert)
    shutil.copy(os.path.join(certs, "server.key"), live_key)
    old = open(os.path.join(certs, "server.pem")).read()
    new = open(os.path.join(certs, "server2.pem")).read()
    with tls_server(samples, certs, cert="live.pem", key="live.key") as srv:
        port = srv.ports["tls"]
        check(same_pem(served_certificate(port), old), "the first certificate is served")

        def ping():
            return run([cli, "--tls", "--cacert", ca, "-h", "localhost", "-p", str(port), "ping"], timeout=10)[1]

        def wait_for_log(pattern):
            deadline = time.monotonic() + 10
            out = b""
            while time.monotonic() < deadline:
                import select
                if select.select([srv.proc.stdout], [], [], 0.2)[0]:
                    chunk = os.read(srv.proc.stdout.fileno(), 4096)
                    out += chunk
                    if re.search(pattern, out):
                        return out.decode(errors="replace")
            return out.decode(errors="replace")

        with open(live_cert, "w") as f:
            f.write("broken\n")
        srv.proc.send_signal(signal.SIGHUP)
        log = wait_for_log(rb"not reloaded[^\n]*\n")
        check("not reloaded" in log and live_cert in log, "SIGHUP with a broken certificate is logged: %r" % log)
        check(same_pem(served_certificate(port), old), "the old certificate is still served")
        check(ping() == "PONG\n", "and clients are served with it")
        shutil.copy(os.path.join(certs, "server2.pem"), live_cert)
        shutil.copy(os.path.join(certs, "server2.key"), live_key)
        srv.proc.send_signal(signal.SIGHUP)
        log = wait_for_log(rb"certificate reloaded[^\n]*\n")
        check("certificate reloaded" in log, "SIGHUP with a good certificate reloads it: %r" % log)
        check(same_pem(served_certificate(port), new), "new connections get the new certificate")
        check(ping() == "PONG\n", "and are served")
        server_still_up(srv)
    shutil.rmtree(certs, ignore_errors=True)


if __name__ == "__main__":
    main({"tools": tools, "client": client, "reload": reload})
