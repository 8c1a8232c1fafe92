#!/usr/bin/env python3
"""samples/chat_web in real browsers: two headless Chromium instances (driven
over the DevTools protocol, as the status page's test) open the chat page; a
line typed in the first appears in both, a line typed in the second appears in
both, and one published with redis-cli on the command port appears in both.
No console error, exception or failed load is allowed.

Usage: chat_web_test.py PATH/TO/chat_web"""
import os
import shutil
import subprocess
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
sys.path.insert(0, os.path.join(here, "..", "interop"))
from cdp import Browser, find_chromium  # noqa: E402
from interop import Server, check, finish, skip  # noqa: E402

WAIT = 10  # seconds a line gets to reach a page

LINES = "Array.from(document.querySelectorAll('#log p')).map((p) => p.textContent)"


def wait_for(browser, expression, what):
    deadline = time.monotonic() + WAIT
    value = None
    while time.monotonic() < deadline:
        value = browser.evaluate(expression)
        if value:
            return value
        browser.pump(0.1)
    check(False, "%s (last: %r)" % (what, value))
    return value


def type_line(browser, name, text):
    browser.evaluate("""(() => {
      document.getElementById('name').value = %r;
      document.getElementById('text').value = %r;
      document.getElementById('say').requestSubmit();
      return true;
    })()""" % (name, text))


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    chromium = find_chromium()
    if chromium is None:
        skip("chromium is not installed (scripts/setup installs it)")
    cli = shutil.which("redis-cli")
    if cli is None:
        skip("redis-cli is not installed (scripts/setup installs redis-tools)")
    with Server([sys.argv[1], "--port", "0", "--http-port", "0", "--threads", "1"]) as srv:
        url = "http://127.0.0.1:%d/" % srv.ports["http"]
        tabs = [Browser(chromium), Browser(chromium)]
        try:
            for tab in tabs:
                tab.call("Runtime.enable")
                tab.call("Log.enable")
                tab.call("Page.enable")
                tab.call("Page.navigate", url=url)
                wait_for(tab, "document.getElementById('state') && "
                              "document.getElementById('state').textContent === 'in #chat'",
                         "the page's event stream opens")
            type_line(tabs[0], "ann", "hello from the first tab")
            for i, tab in enumerate(tabs):
                wait_for(tab, "%s.includes('ann: hello from the first tab')" % LINES,
                         "tab %d shows the first tab's line" % (i + 1))
            type_line(tabs[1], "bob", "and from the second")
            for i, tab in enumerate(tabs):
                wait_for(tab, "%s.includes('bob: and from the second')" % LINES,
                         "tab %d shows the second tab's line" % (i + 1))
            done = subprocess.run([cli, "-p", str(srv.port), "PUBLISH", "chat", "redis-cli: hi browsers"],
                                  capture_output=True, text=True, timeout=WAIT)
            check(done.returncode == 0 and done.stdout.strip() == "2",
                  "redis-cli PUBLISH reaches both pages (%r %r)" % (done.stdout, done.stderr))
            for i, tab in enumerate(tabs):
                wait_for(tab, "%s.includes('redis-cli: hi browsers')" % LINES,
                         "tab %d shows the line from redis-cli" % (i + 1))
                lines = tab.evaluate(LINES)
                check(lines == ["ann: hello from the first tab", "bob: and from the second", "redis-cli: hi browsers"],
                      "tab %d shows the three lines once each, in order: %r" % (i + 1, lines))
                tab.pump(0.2)
                errors = tab.errors()
                check(not errors, "no console error, exception or failed load in tab %d: %s" % (i + 1, errors))
        finally:
            for tab in tabs:
                tab.close()
        rc, _ = srv.stop()
        check(rc == 0, "SIGTERM stops chat_web with exit 0 (exit %r)" % rc)
    finish()


if __name__ == "__main__":
    main()
