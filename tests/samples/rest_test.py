#!/usr/bin/env python3
"""Runs samples/rest's rest_server as a user would: with Python's http.client
on one keep-alive connection, with curl, and with a password.

Usage: rest_test.py SAMPLES_BIN_DIR SCENARIO
Scenarios: http_client, curl, password, help. Exits 77 (skipped) when curl
is missing for the curl scenarios."""
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys

from samples_test import TIMEOUT, Server, run


def start(bins, *args):
    return Server([bins["rest_server"], "--port", "0", *args])


def http_client(bins):
    with start(bins) as srv:
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=TIMEOUT)

        def ask(method, path, body=None, headers=None):
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            return r.status, r.read(), r

        status, body, r = ask("PUT", "/items/apple", b"red")
        assert status == 201, (status, body)
        assert json.loads(body) == {"name": "apple", "value": "red"}
        assert r.getheader("Location") == "/items/apple"
        status, body, _ = ask("PUT", "/items/apple", b"green")
        assert status == 200, status
        for name in ["avocado", "banana", "apricot", "a b"]:
            assert ask("PUT", "/items/" + name.replace(" ", "%20"), name.encode())[0] == 201
        status, body, r = ask("GET", "/items/apple")
        assert status == 200 and json.loads(body) == {"name": "apple", "value": "green"}, (status, body)
        assert r.getheader("Content-Type") == "application/json"
        assert json.loads(ask("GET", "/items/a%20b")[1]) == {"name": "a b", "value": "a b"}
        assert ask("GET", "/items/cherry")[0] == 404
        status, body, _ = ask("GET", "/items?prefix=a")
        assert status == 200 and json.loads(body) == ["a b", "apple", "apricot", "avocado"], body
        assert json.loads(ask("GET", "/items?prefix=ap&limit=1")[1]) == ["apple"]
        assert json.loads(ask("GET", "/items")[1]) == ["a b", "apple", "apricot", "avocado", "banana"]
        assert json.loads(ask("GET", "/items?limit=0")[1]) == []
        for bad in ["x", "-1", "1.5", "", "99999999999999999999999"]:
            status, body, _ = ask("GET", "/items?limit=" + bad)
            assert status == 400, (bad, status)
            assert "limit" in json.loads(body)["error"]
        status, body, _ = ask("DELETE", "/items/apple")
        assert status == 204 and body == b"", (status, body)
        assert ask("DELETE", "/items/apple")[0] == 404
        assert ask("GET", "/items/apple")[0] == 404
        status, _, r = ask("POST", "/items/apple", b"x")
        assert status == 405 and r.getheader("Allow") == "PUT, GET, HEAD, DELETE", (status, r.getheader("Allow"))
        assert ask("GET", "/nothing")[0] == 404
        status, body, r = ask("HEAD", "/items/banana")
        assert status == 200 and body == b"" and r.getheader("Content-Length") == str(len(b'{"name":"banana","value":"banana"}'))
        # Everything above went over one connection; the status page is there too.
        assert ask("GET", "/healthz")[1] == b"ok\n"
        conn.close()
        rc, out, _ = srv.stop()
        assert rc == 0, rc
        assert "rest_server stopped:" in out


def curl_run(*args):
    done = subprocess.run(["curl", "-s", "--max-time", str(TIMEOUT), "-w", "\n%{http_code}", *args],
                          capture_output=True, text=True, timeout=TIMEOUT)
    body, _, code = done.stdout.rpartition("\n")
    return int(code), body


def curl(bins):
    with start(bins) as srv:
        url = "http://127.0.0.1:%d" % srv.port
        assert curl_run("-X", "PUT", "--data-binary", "hello world", url + "/items/greeting") == (
            201, '{"name":"greeting","value":"hello world"}')
        assert curl_run(url + "/items/greeting") == (200, '{"name":"greeting","value":"hello world"}')
        assert curl_run("-X", "PUT", "--data-binary", "2", url + "/items/g2")[0] == 201
        assert curl_run(url + "/items?prefix=g") == (200, '["g2","greeting"]')
        assert curl_run(url + "/items?prefix=g&limit=1") == (200, '["g2"]')
        assert curl_run(url + "/items?limit=many")[0] == 400
        assert curl_run("-X", "DELETE", url + "/items/greeting") == (204, "")
        assert curl_run(url + "/items/greeting")[0] == 404
        assert srv.stop()[0] == 0


def password(bins):
    with start(bins, "--password", "pw") as srv:
        url = "http://127.0.0.1:%d" % srv.port
        assert curl_run(url + "/items")[0] == 401
        assert curl_run("-u", "default:wrong", url + "/items")[0] == 401
        assert curl_run("-u", "default:pw", url + "/items") == (200, "[]")
        assert curl_run("-H", "Authorization: Bearer pw", url + "/items") == (200, "[]")
        assert curl_run(url + "/healthz") == (200, "ok\n")
        # One keep-alive connection: each request carries its own credentials.
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=TIMEOUT)
        conn.request("GET", "/items", headers={"Authorization": "Basic ZGVmYXVsdDpwdw=="})
        r = conn.getresponse()
        assert r.status == 200 and r.read() == b"[]"
        conn.request("GET", "/items")
        r = conn.getresponse()
        r.read()
        assert r.status == 401 and r.getheader("WWW-Authenticate") == 'Basic realm="coronet"', r.status
        conn.close()
        assert srv.stop(signal.SIGINT)[0] == 0


def help_text(bins):
    out, _ = run([bins["rest_server"], "--help"])
    for word in ["--host", "--port", "--threads", "--password", "--max-body-bytes", "--max-limit", "Signals:",
                 "SIGTERM", "PUT /items/NAME"]:
        assert word in out, (word, out)


def main():
    bin_dir, scenario = sys.argv[1], sys.argv[2]
    bins = {"rest_server": os.path.join(bin_dir, "rest", "rest_server")}
    scenarios = {"http_client": http_client, "curl": curl, "password": password, "help": help_text}
    if scenario in ("curl", "password") and shutil.which("curl") is None:
        print("curl is not installed (scripts/setup installs it): skipped")
        sys.exit(77)
    scenarios[scenario](bins)
    print("ok")


if __name__ == "__main__":
    main()
