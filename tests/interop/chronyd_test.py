#!/usr/bin/env python3
"""chronyd against the SNTP service of the time_services sample, as an NTP
daemon queries: from source port 123 (`acquisitionport 123`), which the
service once refused as one of its own ports.

`chronyd -Q` measures the offset once, prints it and exits without touching
the clock; its pidfile, logs and config live in a private directory, and its
command and NTP server ports are off, so it does not interfere with a system
chronyd (which must not hold port 123: scripts/setup keeps it from starting).

Usage: chronyd_test.py run PATH/TO/time_services
Needs root for the source port 123; skipped otherwise."""
import os
import re
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop import Server, check, main, run, server_still_up, skip  # noqa: E402

CHRONYD_TIMEOUT = 15  # seconds chronyd may wait for its measurements (-t)


def chronyd(binary):
    exe = shutil.which("chronyd") or next((p for p in ("/usr/sbin/chronyd", "/sbin/chronyd") if os.path.exists(p)),
                                          None)
    if exe is None:
        skip("chronyd is not installed (scripts/setup installs chrony)")
    if os.geteuid() != 0:
        skip("not root: chronyd cannot send from port 123 (CI runs as root)")
    with Server([binary, "--host", "127.0.0.1", "--daytime-port", "-1", "--time-port", "-1", "--sntp-port", "0"],
                ready=rb"serving on") as srv, tempfile.TemporaryDirectory(prefix="coronet-chronyd-") as tmp:
        sntp = srv.ports["sntp"]
        conf = os.path.join(tmp, "chrony.conf")
        with open(conf, "w") as f:
            f.write("\n".join([
                "server 127.0.0.1 port %d iburst" % sntp,
                "acquisitionport 123",  # the source port NTP daemons use; the point of this test
                "port 0",  # no NTP server port of its own
                "cmdport 0",  # no command port
                "bindcmdaddress %s" % os.path.join(tmp, "chronyd.sock"),
                "pidfile %s" % os.path.join(tmp, "chronyd.pid"),
                "driftfile %s" % os.path.join(tmp, "chrony.drift"),
                "",
            ]))
        argv = [exe, "-Q", "-d", "-u", "root", "-f", conf, "-t", str(CHRONYD_TIMEOUT)]
        print("running:", " ".join(argv), flush=True)
        rc, out, err = run(argv, timeout=CHRONYD_TIMEOUT + 10)
        text = out + err
        print(text.rstrip(), flush=True)
        if "Address already in use" in text and "123" in text:
            check(False, "port 123 is free for chronyd's source port (is a system chronyd or ntpd running?)")
        match = re.search(r"System clock wrong by (-?[\d.]+) seconds", text)
        check(rc == 0 and match is not None,
              "chronyd -Q with acquisitionport 123 gets an answer and prints the offset (exit %r)" % rc)
        if match:
            check(abs(float(match.group(1))) < 1.0, "the offset is under a second: %s s" % match.group(1))
        server_still_up(srv)


if __name__ == "__main__":
    main({"run": chronyd})
