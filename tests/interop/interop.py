"""Shared by the interop tests: a server process on a free port, bounded
client runs, and checks that report every failure before the test exits.

Every wait is bounded; a server is killed when its test ends, also when the
test itself is killed (PR_SET_PDEATHSIG)."""
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import time

# Exit code ctest reads as "skipped" (SKIP_RETURN_CODE in tests/CMakeLists.txt).
SKIP = 77
# Seconds one client program may run.
CLIENT_TIMEOUT = 30
CTIME = r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d \d{4}"

failures = []


def check(ok, what):
    """Records one check; the test goes on, and `finish` fails it at the end."""
    print(("ok    " if ok else "FAIL  ") + what, flush=True)
    if not ok:
        failures.append(what)
    return ok


def finish():
    if failures:
        sys.exit("%d check(s) failed:\n  %s" % (len(failures), "\n  ".join(failures)))
    print("all checks passed", flush=True)


def skip(why):
    print("skipped: " + why, flush=True)
    sys.exit(SKIP)


def need_module(name, package):
    """Imports module `name`, or skips the test when this python3 cannot (Debian installs
    `package` for /usr/bin/python3 only)."""
    import importlib
    try:
        return importlib.import_module(name)
    except ImportError as e:
        skip("%s is not importable by %s (%s); scripts/setup installs %s" % (name, sys.executable, e, package))


def need_tool(name):
    """The path of program `name`. Without it the scenario is skipped, except
    under CI (CI set), where scripts/setup installs every tool: a failure."""
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI"):
            check(False, "%s is installed (scripts/setup installs it; CI must not skip)" % name)
            sys.exit(1)
        skip("%s is not installed (scripts/setup installs it)" % name)
    return path


def _die_with_parent():
    try:
        import ctypes
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class Server:
    """A server started on port 0 that reports its port on stdout (`port N`):
    timestamp_server, coronet_test_server, time_services (several ports); or, with
    `port` given, one started on that port, ready once its output matches `ready`."""

    def __init__(self, argv, ready=rb"port \d+", wait=10, port=None):
        self.argv = argv
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     preexec_fn=_die_with_parent, env=dict(os.environ, LC_ALL="C"))
        out = b""
        deadline = time.monotonic() + wait
        while not re.search(ready, out):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.proc.stdout], [], [], left)[0]:
                self.kill()
                raise RuntimeError("%s did not report its port in %d s: %r" % (argv[0], wait, out))
            chunk = os.read(self.proc.stdout.fileno(), 4096)
            if not chunk:
                self.kill()
                raise RuntimeError("%s exited before listening: %r" % (argv[0], out))
            out += chunk
        self.banner = out.decode(errors="replace")
        self.ports = {name.decode(): int(p) for name, p in re.findall(rb"(\w+) port (\d+)", out)}
        self.port = port if port is not None else int(re.search(rb"port (\d+)", out).group(1))
        if port is None:
            print(self.banner.rstrip(), flush=True)

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        """SIGTERM, then the exit code (None if it had to be killed) and the rest of its output."""
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
        try:
            out, _ = self.proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()
            return None, ""
        return self.proc.returncode, out.decode(errors="replace")

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.kill()


def free_port():
    """A port the kernel just gave out, hence free (for servers that cannot take port 0)."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_server(port=None):
    """redis-server (Debian's, scripts/setup installs it) on 127.0.0.1:`port` (a free one by
    default), nothing saved; returned once its log says it accepts connections."""
    port = port or free_port()
    return Server([need_tool("redis-server"), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                   "--appendonly", "no", "--daemonize", "no", "--loglevel", "notice"],
                  ready=rb"Ready to accept connections", port=port)


def timestamp_server(binary, *extra):
    """The timestamp sample with its default options, on a free port, one thread."""
    return Server([binary, "--port", "0", "--threads", "1", *extra])


def run(argv, data=None, timeout=CLIENT_TIMEOUT, cwd=None):
    """Runs a client to its end (killed after `timeout` s): (exit code, stdout, stderr) as text."""
    try:
        done = subprocess.run(argv, input=data, capture_output=True, timeout=timeout, cwd=cwd,
                              env=dict(os.environ, LC_ALL="C"))
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode(errors="replace")
        return None, out, "timed out after %d s" % timeout
    return done.returncode, done.stdout.decode(errors="replace"), done.stderr.decode(errors="replace")


def server_still_up(server):
    check(server.alive(), "the server is still running")
    rc, _ = server.stop()
    check(rc == 0, "SIGTERM stops the server with exit 0 (exit %r)" % rc)


def main(scenarios):
    """Runs `scenarios[argv[1]](*argv[2:])`, then reports. SIGTERM (ctest's
    timeout) still runs the cleanups."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("terminated"))
    if len(sys.argv) < 2 or sys.argv[1] not in scenarios:
        sys.exit("usage: %s {%s} ARGS..." % (sys.argv[0], "|".join(scenarios)))
    started = time.monotonic()
    try:
        scenarios[sys.argv[1]](*sys.argv[2:])
    except Exception as e:  # an unexpected exception is one more failure, with its text
        import traceback
        traceback.print_exc()
        check(False, "%s: %s" % (type(e).__name__, e))
    print("took %.1f s" % (time.monotonic() - started), flush=True)
    finish()
