#!/usr/bin/env python3
"""The status page in a real browser: the timestamp sample with an HTTP
listener, its page opened in headless Chromium (driven over the DevTools
protocol), while a client sends requests over RESP and HTTP.

Checks that the page shows data (uptime, request counts, connections per
protocol, per-command rows, limits, listeners, a drawn chart), that its live
numbers change at least twice through the event stream (`/events`), and again
with EventSource removed (the fallback polling `/stats.json`); that the
browser logged no console error, exception or failed load. Saves a screenshot
of the live page under OUT_DIR and prints its path. With --https, the page is served
over HTTPS (--https-port, the tests' certificates; Chromium told to accept them).

Usage: status_page_test.py PATH/TO/timestamp_server OUT_DIR [--https]"""
import base64
import http.client
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
sys.path.insert(0, os.path.join(here, "..", "interop"))
from cdp import Browser, find_chromium  # noqa: E402
from interop import Server, check, finish, skip  # noqa: E402

# Seconds the live numbers get to change twice (they change once a second).
LIVE_WAIT = 15
# Line pixels of a drawn requests/s chart: two samples make a segment of some 17 px
# (1/59 of the width); three, more than this.
CHART_PIXELS = 20

STATE = r"""(() => {
  const $ = (id) => document.getElementById(id);
  // Right after a navigation the new document may not be parsed yet: not ready.
  if (document.readyState === 'loading' || !$('chart'))
    return null;
  const rows = (id) => Array.from($(id).rows).map((r) => Array.from(r.cells).map((c) => c.textContent));
  const canvas = $('chart');
  const px = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let line = 0;
  for (let i = 0; i < px.length; i += 4)
    if (px[i + 3] > 200 && px[i + 2] > 180 && px[i] < 120) ++line;
  return { updates: Number(document.body.dataset.updates), mode: $('mode').textContent,
           uptime: $('uptime').textContent, requests: $('requests').textContent, rps: $('rps').textContent,
           connNow: $('conn-now').textContent, protocols: rows('protocols'), commands: rows('commands'),
           limits: rows('limits'), listeners: rows('listeners'), chartPixels: line };
})()"""


class Traffic:
    """Requests over RESP (the command port) and HTTP (the HTTP port), a few per call."""

    def __init__(self, resp_port, http_port, tls_context=None):
        self.resp = socket.create_connection(("127.0.0.1", resp_port), timeout=5)
        if tls_context is None:
            self.http = http.client.HTTPConnection("127.0.0.1", http_port, timeout=5)
        else:
            self.http = http.client.HTTPSConnection("localhost", http_port, timeout=5, context=tls_context)

    def send(self):
        self.resp.sendall(b"PING\r\nPING\r\nPING\r\nTIMESTAMP\r\nNOSUCH\r\n")
        got = b""
        while got.count(b"\r\n") < 5:
            chunk = self.resp.recv(4096)
            if not chunk:
                raise ConnectionError("the server closed the RESP connection")
            got += chunk
        for path in ("/ping", "/timestamp/iso"):
            self.http.request("GET", path)
            r = self.http.getresponse()
            r.read()
            if r.status != 200:
                raise RuntimeError("GET %s: %d" % (path, r.status))

    def close(self):
        self.resp.close()
        self.http.close()


def watch_live(browser, traffic, what):
    """Sends requests and reads the page until its request count has shown three
    values (changed twice) over at least three updates and its chart has a line;
    returns the last state."""
    seen = []
    state = None
    deadline = time.monotonic() + LIVE_WAIT
    while time.monotonic() < deadline:
        traffic.send()
        browser.pump(0.25)
        current = browser.evaluate(STATE)
        if current is None:  # the page is still loading
            continue
        state = current
        shown = state["requests"]
        if state["updates"] > 0 and shown != "\u2013" and (not seen or seen[-1] != shown):
            seen.append(shown)
        # The chart draws a line once it has two per-second samples, and those come on the
        # server's second boundaries, not the page's updates: wait for a line to check too.
        if len(seen) >= 3 and state["updates"] >= 3 and state["chartPixels"] > CHART_PIXELS:
            break
    check(len(seen) >= 3, "%s: the request count changed at least twice: %s" % (what, " -> ".join(seen)))
    if state is None:
        raise RuntimeError("%s: the page never loaded" % what)
    return state


def shows_data(state, what):
    check(state["uptime"] not in ("", "\u2013"), "%s: uptime shown (%s)" % (what, state["uptime"]))
    protocols = {r[0]: r for r in state["protocols"]}
    check("resp" in protocols and "http" in protocols,
          "%s: connections per protocol include resp and http: %s" % (what, state["protocols"]))
    check(int(state["connNow"].replace(",", "")) >= 2, "%s: connections now >= 2 (%s)" % (what, state["connNow"]))
    commands = {r[0]: r for r in state["commands"]}
    check("ping" in commands and int(commands["ping"][1].replace(",", "")) > 0,
          "%s: a row for ping with its calls: %s" % (what, commands.get("ping")))
    check("timestamp" in commands, "%s: a row for timestamp" % what)
    check(all(len(r) == 5 and r[3].endswith("s") and r[4].endswith("s") for r in state["commands"]),
          "%s: every command row has calls, errors, p50, p99: %s" % (what, state["commands"][:3]))
    limits = {r[0]: r[1] for r in state["limits"]}
    check(limits.get("max connections") not in (None, "") and len(limits) >= 8,
          "%s: the limits are listed (%d)" % (what, len(limits)))
    check(len(state["listeners"]) == 2, "%s: both listeners listed: %s" % (what, state["listeners"]))
    check(state["chartPixels"] > CHART_PIXELS, "%s: the requests/s chart is drawn (%d line pixels)" % (what, state["chartPixels"]))


def screenshot(browser, path):
    size = browser.call("Page.getLayoutMetrics")["cssContentSize"]
    shot = browser.call("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                        clip={"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1})
    with open(path, "wb") as f:
        f.write(base64.b64decode(shot["data"]))


def run(binary, out_dir, https=False):
    chromium = find_chromium()
    if chromium is None:
        if os.environ.get("CI"):
            check(False, "chromium is installed (scripts/setup installs it)")
            return
        skip("chromium is not installed (scripts/setup installs it)")
    os.makedirs(out_dir, exist_ok=True)
    scheme = "https" if https else "http"
    argv = [binary, "--port", "0", "--threads", "1", "--%s-port" % scheme, "0"]
    tls_context = None
    browser_args = ()
    certs = None
    if https:
        certs = tempfile.TemporaryDirectory()
        subprocess.run(["sh", os.path.join(here, "..", "support", "make_test_certs.sh"), certs.name], check=True,
                       capture_output=True, timeout=60)
        argv += ["--tls-cert", os.path.join(certs.name, "server.pem"),
                 "--tls-key", os.path.join(certs.name, "server.key")]
        tls_context = ssl.create_default_context(cafile=os.path.join(certs.name, "ca.pem"))
        # The certificate is the tests' own CA's, which Chromium's profile does not trust.
        browser_args = ("--ignore-certificate-errors",)
    with Server(argv, ready=rb"%s port \d+" % scheme.encode()) as srv:
        http_port = srv.ports[scheme]
        url = "%s://%s:%d/" % (scheme, "localhost" if https else "127.0.0.1", http_port)
        traffic = Traffic(srv.port, http_port, tls_context)
        browser = Browser(chromium, extra_args=browser_args)
        try:
            for domain in ("Runtime.enable", "Log.enable", "Page.enable"):
                browser.call(domain)

            browser.call("Page.navigate", url=url)
            state = watch_live(browser, traffic, "event stream")
            check(state["mode"] == "live", "the page reads the event stream (mode %r)" % state["mode"])
            shows_data(state, "event stream")
            path = os.path.join(out_dir, "status-page-https.png" if https else "status-page.png")
            screenshot(browser, path)
            check(os.path.getsize(path) > 1000, "screenshot saved")
            print("screenshot: %s" % path, flush=True)

            # The fallback: a browser without EventSource polls /stats.json.
            added = browser.call("Page.addScriptToEvaluateOnNewDocument", source="delete window.EventSource;")
            browser.call("Page.navigate", url=url)
            state = watch_live(browser, traffic, "polling")
            check(state["mode"] == "polling", "without EventSource the page polls (mode %r)" % state["mode"])
            shows_data(state, "polling")
            browser.call("Page.removeScriptToEvaluateOnNewDocument", identifier=added["identifier"])

            browser.pump(0.2)
            errors = browser.errors()
            check(not errors, "no console error, exception or failed load in the browser: %s" % errors)
        finally:
            browser.close()
            traffic.close()
        check(srv.alive(), "the server is still running")
        rc, _ = srv.stop()
        check(rc == 0, "SIGTERM stops the server with exit 0 (exit %r)" % rc)


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4) or (len(sys.argv) == 4 and sys.argv[3] != "--https"):
        sys.exit("usage: %s PATH/TO/timestamp_server OUT_DIR [--https]" % sys.argv[0])
    started = time.monotonic()
    try:
        run(sys.argv[1], sys.argv[2], https=len(sys.argv) == 4)
    except Exception as e:  # an unexpected exception is one more failure, with its text
        import traceback
        traceback.print_exc()
        check(False, "%s: %s" % (type(e).__name__, e))
    print("took %.1f s" % (time.monotonic() - started), flush=True)
    finish()
