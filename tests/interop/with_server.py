#!/usr/bin/env python3
"""Runs one client program against a coronet server started for it on a free
port, then checks that the server is still up and stops cleanly.

Usage: with_server.py [--require PATH]... SERVER [SERVER_ARGS...] -- CLIENT [ARGS...]
`{port}` in the client's arguments becomes the server's port, `{port:NAME}`
the port its banner names NAME (`{port:http}` for `--http-port 0`). The server gets
`--port 0 --threads 1` and otherwise its defaults. A missing client program
or --require'd file skips the test (exit 77), and so does a client that exits 77."""
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop import SKIP, check, main, run, server_still_up, skip, timestamp_server  # noqa: E402


def with_server(*args):
    args = list(args)
    while args and args[0] == "--require":
        path = args[1]
        if not os.path.exists(path):
            skip("%s is missing (scripts/setup installs it)" % path)
        args = args[2:]
    split = args.index("--")
    server_argv, client_argv = args[:split], args[split + 1:]
    exe = shutil.which(client_argv[0])
    if exe is None:
        skip("%s is not installed (scripts/setup installs it)" % client_argv[0])
    with timestamp_server(*server_argv) as srv:
        def fill(a):
            for name, port in srv.ports.items():
                a = a.replace("{port:%s}" % name, str(port))
            return a.replace("{port}", str(srv.port))
        argv = [exe] + [fill(a) for a in client_argv[1:]]
        print("running:", " ".join(argv), flush=True)
        rc, out, err = run(argv)
        print(out.rstrip(), flush=True)
        if err.strip():
            print("stderr:", err.rstrip(), flush=True)
        if rc == SKIP:
            srv.stop()
            skip("the client skipped itself")
        check(rc == 0, "%s exits 0 (exit %r)" % (os.path.basename(client_argv[0]), rc))
        server_still_up(srv)


if __name__ == "__main__":
    sys.argv.insert(1, "run")
    main({"run": with_server})
