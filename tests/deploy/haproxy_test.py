#!/usr/bin/env python3
"""coronet behind a real HAProxy (deploy/haproxy/haproxy.cfg): three
timestamp_server instances with PROXY protocol v2 and agent-check, and a load
client of its own that keeps persistent connections busy with PING.

Usage: haproxy_test.py SCENARIO PATH/TO/timestamp_server
  sigterm         one instance gets SIGTERM under load: it drains and exits 0,
                  HAProxy marks it down, the other connections see no error
  rolling         all three restarted one by one (the new process binds the
                  same ports with SO_REUSEPORT, then the old one gets SIGTERM)
                  under load: zero failed requests; connection errors listed
  kill9           kill -9 of one instance under load: HAProxy's check removes it
                  within its interval; errors only on the connections it had
  client_address  CLIENT INFO / CLIENT LIST / log show the client's own address
  reuseport       no HAProxy: a new process takes over the port while the old
                  drains; a client opening connections sees none refused
  run_script      deploy/haproxy/run starts everything, serves, stops on SIGTERM

The load client counts a request as failed when it gets no +PONG, even after
being resent on a new connection (PING is idempotent, as a pooling Redis
client retries it). Every connection error is listed with the instance the
connection was on. Checks use 200 ms intervals; each scenario takes < 20 s.
Exits 77 (skipped) when haproxy is missing, unless CI is set."""
import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))
from interop import Server, _die_with_parent, check, main, skip  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
CONFIG = os.path.join(ROOT, "deploy", "haproxy", "haproxy.cfg")
CHECK_INTER = 0.2  # seconds, HAProxy's `inter` and `agent-inter` here


def need(tool):
    path = shutil.which(tool) or (os.path.exists("/usr/sbin/" + tool) and "/usr/sbin/" + tool)
    if not path:
        if os.environ.get("CI"):
            sys.exit("%s is not installed (scripts/setup installs it)" % tool)
        skip("%s is not installed (scripts/setup installs it)" % tool)
    return path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def eventually(pred, limit=5.0, step=0.01):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()


class Instance:
    """One timestamp_server behind HAProxy: PROXY v2, an agent port, SO_REUSEPORT."""

    def __init__(self, binary, port, agent_port, *extra, proxy="v2"):
        self.port, self.agent_port = port, agent_port
        self.server = Server([binary, "--host", "127.0.0.1", "--port", str(port), "--threads", "1",
                              "--reuse-port", "--proxy-protocol", proxy, "--agent-port", str(agent_port),
                              "--drain-timeout", "5", *extra], ready=rb"agent-check on port \d+")
        self.pid = self.server.proc.pid

    def terminate(self):
        """SIGTERM; the exit code and output once it has exited."""
        return self.server.stop()

    def wait_exit(self, limit=15):
        """The exit code and output of a process already signalled (a second SIGTERM would cut its drain short)."""
        try:
            out, _ = self.server.proc.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            self.server.kill()
            return None, ""
        return self.server.proc.returncode, out.decode(errors="replace")


class HAProxy:
    def __init__(self, exe, frontend, instances, workdir):
        self.socket = os.path.join(workdir, "haproxy.sock")
        env = dict(os.environ, CORONET_FRONTEND="127.0.0.1:%d" % frontend, CORONET_HAPROXY_SOCKET=self.socket,
                   CORONET_CHECK_INTER="%dms" % (CHECK_INTER * 1000), CORONET_CHECK_FALL="1",
                   CORONET_CHECK_TIMEOUT="500ms", CORONET_HAPROXY_MAXCONN="2000")
        for i, inst in enumerate(instances, 1):
            env["CORONET_APP%d" % i] = "127.0.0.1:%d" % inst.port
            env["CORONET_AGENT%d" % i] = str(inst.agent_port)
        self.log = open(os.path.join(workdir, "haproxy.log"), "w+")
        self.proc = subprocess.Popen([exe, "-db", "-f", CONFIG], env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     preexec_fn=_die_with_parent)
        ok = eventually(lambda: self.proc.poll() is None and len(self.servers_in("UP")) == len(instances), 10)
        if not ok:
            self.log.seek(0)
            raise RuntimeError("HAProxy did not see every instance UP: %s %s" % (self.stat(), self.log.read()))

    def stat(self):
        """{server name: status} from `show stat` on the admin socket."""
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(2)
                s.connect(self.socket)
                s.sendall(b"show stat\n")
                data = b""
                while chunk := s.recv(65536):
                    data += chunk
        except OSError:
            return {}
        out = {}
        for line in data.decode().splitlines():
            f = line.split(",")
            if len(f) > 17 and f[0] == "coronet" and f[1].startswith("app"):
                out[f[1]] = f[17]
        return out

    def servers_in(self, status):
        return [name for name, st in self.stat().items() if st.startswith(status)]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Load:
    """`conns` persistent connections through `port`, each sending PING and
    waiting for +PONG in a loop, on its own thread's asyncio loop. A
    connection first asks INFO for the instance's tcp_port, so every error is
    attributed to an instance."""

    def __init__(self, port, conns=12):
        self.port, self.conns = port, conns
        self.ok = 0
        self.failed = []       # (time, connection, what): requests that got no +PONG, resend included
        self.errors = []       # (time, connection, instance port, what): connections lost or refused
        self.resent = 0
        self.on = {}           # connection -> instance port it is on now
        self.stopping = False
        self.started = time.monotonic()
        self.thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)
        self.thread.start()

    async def _open(self, i):
        r, w = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", self.port), 2)
        w.write(b"*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n")
        header = await asyncio.wait_for(r.readline(), 2)
        if not header.startswith(b"$"):
            raise ConnectionError("INFO answered %r" % header)
        body = await asyncio.wait_for(r.readexactly(int(header[1:]) + 2), 2)
        self.on[i] = int(re.search(rb"tcp_port:(\d+)", body).group(1))
        return r, w

    async def _conn(self, i):
        r = w = None
        pending = False  # a PING is owed a reply
        attempts = 0
        while not self.stopping or pending:
            try:
                if w is None:
                    r, w = await self._open(i)
                if not pending:
                    if self.stopping:
                        break
                    pending, attempts = True, 0
                attempts += 1
                w.write(b"PING\r\n")
                reply = await asyncio.wait_for(r.readline(), 3)
                if reply == b"+PONG\r\n":
                    self.ok += 1
                    pending = False
                elif not reply:
                    raise ConnectionError("end of stream")
                else:
                    self.failed.append((self._t(), i, "reply %r" % reply))
                    pending = False
            except (OSError, ConnectionError, asyncio.TimeoutError, asyncio.IncompleteReadError) as e:
                self.errors.append((self._t(), i, self.on.get(i), "%s: %s" % (type(e).__name__, e)))
                if w is not None:
                    w.close()
                r = w = None
                self.on.pop(i, None)
                if pending and attempts >= 3:
                    self.failed.append((self._t(), i, "no reply after %d attempts" % attempts))
                    pending = False
                elif pending:
                    self.resent += 1
                await asyncio.sleep(0.01)
        if w is not None:
            w.close()

    def _t(self):
        return round(time.monotonic() - self.started, 3)

    async def _run(self):
        await asyncio.gather(*(self._conn(i) for i in range(self.conns)))

    def connections_on(self, instance_port):
        return sorted(i for i, p in list(self.on.items()) if p == instance_port)

    def wait_for_requests(self, n, limit=10):
        start = self.ok
        return eventually(lambda: self.ok >= start + n, limit)

    def stop(self):
        self.stopping = True
        self.thread.join(15)
        print("load: %d requests answered, %d resent on a new connection, %d failed, %d connection errors"
              % (self.ok, self.resent, len(self.failed), len(self.errors)), flush=True)
        for e in self.errors:
            print("  connection error at %.3f s: connection %d on instance port %s: %s" % e, flush=True)
        for f in self.failed:
            print("  FAILED request at %.3f s on connection %d: %s" % f, flush=True)


class Deployment:
    """Three instances and HAProxy on free loopback ports; stopped on exit."""

    def __init__(self, binary, *extra):
        self.binary = binary
        self.exe = need("haproxy")
        self.dir = tempfile.mkdtemp(prefix="coronet-deploy-")
        self.frontend = free_port()
        self.instances = [Instance(binary, free_port(), free_port(), *extra) for _ in range(3)]
        self.haproxy = HAProxy(self.exe, self.frontend, self.instances, self.dir)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.haproxy.stop()
        for inst in self.instances:
            inst.server.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def name_of(d, inst):
    return "app%d" % (d.instances.index(inst) + 1)


def under_load(d, index):
    """Starts load through HAProxy on deployment `d` and checks that it runs;
    the load, instance `index` and the load's connections on that instance."""
    load = Load(d.frontend)
    check(load.wait_for_requests(500), "load runs through HAProxy")
    victim = d.instances[index]
    return load, victim, load.connections_on(victim.port)


def sigterm(binary):
    with Deployment(binary) as d:
        load, victim, on_victim = under_load(d, 1)
        others = [i for i in range(load.conns) if i not in on_victim]
        print("connections on %s: %s; on the others: %s" % (name_of(d, victim), on_victim, others), flush=True)
        sent = time.monotonic()
        victim.server.proc.send_signal(signal.SIGTERM)
        check(eventually(lambda: name_of(d, victim) in d.haproxy.servers_in("DOWN")
                         or name_of(d, victim) in d.haproxy.servers_in("DRAIN"), 5),
              "HAProxy stops routing to the draining instance (%s after %.2f s)"
              % (d.haproxy.stat().get(name_of(d, victim)), time.monotonic() - sent))
        rc, out = victim.wait_exit()
        check(rc == 0, "the instance drained and exited 0 (exit %r)" % rc)
        check(eventually(lambda: d.haproxy.stat().get(name_of(d, victim), "").startswith("DOWN"), 5),
              "HAProxy marks it DOWN once its listener is gone: %s" % d.haproxy.stat())
        check(load.wait_for_requests(500), "load goes on through the other two")
        load.stop()
        victim_errors = [e for e in load.errors if e[2] == victim.port]
        other_errors = [e for e in load.errors if e[2] != victim.port]
        check(not other_errors, "no connection error on the other instances' connections: %s" % other_errors)
        check(not load.failed, "no failed request: %s" % load.failed)
        print("%d connection(s) of the drained instance were closed by it, each reconnected through HAProxy"
              % len(victim_errors), flush=True)


def rolling(binary):
    with Deployment(binary) as d:
        load = Load(d.frontend)
        check(load.wait_for_requests(500), "load runs through HAProxy")
        for n, old in enumerate(list(d.instances)):
            name = "app%d" % (n + 1)
            new = Instance(binary, old.port, old.agent_port)  # binds beside the old one (SO_REUSEPORT)
            rc, _ = old.terminate()
            check(rc == 0, "%s: the old process drained and exited 0 (exit %r)" % (name, rc))
            d.instances[n] = new
            check(eventually(lambda: d.haproxy.stat().get(name, "").startswith("UP"), 5),
                  "%s: HAProxy has the new process UP: %s" % (name, d.haproxy.stat()))
            check(load.wait_for_requests(300), "%s: load goes on" % name)
        load.stop()
        check(not load.failed, "zero failed requests over the rolling restart (%d answered)" % load.ok)
        print("connection errors during the restart (listed above): %d, every one resent and answered"
              % len(load.errors), flush=True)


def kill9(binary):
    with Deployment(binary) as d:
        load, victim, on_victim = under_load(d, 2)
        killed = time.monotonic()
        victim.server.proc.kill()
        check(eventually(lambda: name_of(d, victim) in d.haproxy.servers_in("DOWN"), 5, 0.005),
              "HAProxy's check marks it DOWN")
        detected = time.monotonic() - killed
        # One check interval, plus the check in flight and this poll.
        check(detected <= CHECK_INTER * 2 + 0.3,
              "within its check interval (%.0f ms after kill -9; inter %d ms)" % (detected * 1000, CHECK_INTER * 1000))
        check(load.wait_for_requests(500), "load goes on through the other two")
        load.stop()
        lost = sorted({e[1] for e in load.errors})
        print("kill -9: %d connection(s) were on the killed instance %s; %d lost their connection %s; "
              "%d request(s) failed" % (len(on_victim), on_victim, len(lost), lost, len(load.failed)), flush=True)
        check(set(lost) <= set(on_victim), "connection errors only on the connections the killed instance had")
        check(all(e[2] == victim.port for e in load.errors), "every error names the killed instance")
        check(not load.failed, "their requests were resent and answered (%d failed)" % len(load.failed))


def client_address(binary):
    with Deployment(binary, "--verbose") as d:
        with socket.create_connection(("127.0.0.1", d.frontend), timeout=5) as c:
            mine = "127.0.0.1:%d" % c.getsockname()[1]
            f = c.makefile("rb")
            c.sendall(b"CLIENT INFO\r\nCLIENT LIST\r\nINFO server\r\n")
            info = f.read(int(f.readline()[1:]) + 2).decode()
            listing = f.read(int(f.readline()[1:]) + 2).decode()
            server_info = f.read(int(f.readline()[1:]) + 2).decode()
            check(" addr=%s " % mine in info, "CLIENT INFO through HAProxy shows the client %s: %s" % (mine, info))
            check(" laddr=127.0.0.1:%d " % d.frontend in info, "and HAProxy's frontend as laddr")
            check(" addr=%s " % mine in listing, "so does CLIENT LIST (this connection only, see docs/protocols.md)")
            port = int(re.search(r"tcp_port:(\d+)", server_info).group(1))
            inst = next(i for i in d.instances if i.port == port)
            # On the instance itself (loopback is trusted: a LOCAL header
            # first, as HAProxy's checks send), an operator's own connection
            # keeps its real address; stats shows the instance's state.
            with socket.create_connection(("127.0.0.1", inst.port), timeout=5) as admin:
                af = admin.makefile("rb")
                admin.sendall(b"\r\n\r\n\x00\r\nQUIT\n\x20\x00\x00\x00" + b"CLIENT INFO\r\nstats\r\n")
                own = af.read(int(af.readline()[1:]) + 2).decode()
                check(" addr=127.0.0.1:%d " % admin.getsockname()[1] in own, "a LOCAL header keeps the real address")
                af.readline()
                stats = {}
                while True:
                    key = af.readline()
                    if not key.startswith(b"$"):
                        break
                    name = af.readline().strip().decode()
                    stats[name] = int(af.readline()[1:])
                    if name == "maintenance":
                        break
                check(stats.get("proxy_header_errors") == 0 and stats.get("draining") == 0,
                      "stats shows the instance serving, no bad header: %s" % stats)
        rc, out = inst.terminate()
        check(rc == 0 and ("connection from %s" % mine) in out,
              "the instance's log (--verbose) names the client %s" % mine)


def reuseport(binary):
    port, agent = free_port(), free_port()
    old = Instance(binary, port, agent, proxy="off")
    counts = {"ok": 0, "refused": 0, "other": []}
    stop = threading.Event()

    def client():
        while not stop.is_set():
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=3) as c:
                    c.sendall(b"PING\r\n")
                    line = c.makefile("rb").readline()
                    if line == b"+PONG\r\n":
                        counts["ok"] += 1
                    else:
                        counts["other"].append("no +PONG: %r" % line)
            except ConnectionRefusedError:
                counts["refused"] += 1
            except OSError as e:
                counts["other"].append("%s: %s" % (type(e).__name__, e))

    threads = [threading.Thread(target=client, daemon=True) for _ in range(4)]
    for t in threads:
        t.start()
    new = None
    try:
        check(eventually(lambda: counts["ok"] > 200), "new connections are served")
        new = Instance(binary, port, agent, proxy="off")
        rc, _ = old.terminate()
        check(rc == 0, "the old process drained and exited 0 (exit %r)" % rc)
        before = counts["ok"]
        check(eventually(lambda: counts["ok"] > before + 200), "the new process serves the port alone")
    finally:
        stop.set()
        for t in threads:
            t.join(5)
        if new:
            new.server.kill()
        old.server.kill()
    print("reuseport restart: %d connections served, %d refused, other errors: %s"
          % (counts["ok"], counts["refused"], counts["other"]), flush=True)
    check(counts["refused"] == 0, "no connection refused during the restart")
    # A rare reset remains possible (seen once in ten runs of the C++ test of
    # the same sequence, tests/server/server_reuse_port_test.cpp): bounded, listed.
    resets = [e for e in counts["other"] if "reset" in e]
    check(len(counts["other"]) == len(resets), "no connection ended without its reply")
    check(len(resets) * 100 <= counts["ok"], "resets, if any, stay under 1%% (%d)" % len(resets))


def run_script(binary):
    need("haproxy")
    build = os.path.dirname(os.path.dirname(os.path.dirname(binary)))
    ports = [free_port() for _ in range(7)]
    env = dict(os.environ, CORONET_FRONTEND_PORT=str(ports[0]), CORONET_APP_PORTS="%d %d %d" % tuple(ports[1:4]),
               CORONET_AGENT_PORTS="%d %d %d" % tuple(ports[4:7]), CORONET_CHECK_INTER="200ms")
    proc = subprocess.Popen([os.path.join(ROOT, "deploy", "haproxy", "run"), build], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent,
                            start_new_session=True)
    out = b""
    try:
        deadline = time.monotonic() + 15
        while b"Ctrl-C stops everything" not in out and time.monotonic() < deadline and proc.poll() is None:
            import select
            if select.select([proc.stdout], [], [], 0.5)[0]:
                out += os.read(proc.stdout.fileno(), 4096)
        print(out.decode(errors="replace"), flush=True)
        check(b"redis-cli -p %d ping" % ports[0] in out, "the script says where to connect")
        with socket.create_connection(("127.0.0.1", ports[0]), timeout=5) as c:
            c.sendall(b"PING\r\n")
            check(c.makefile("rb").readline() == b"+PONG\r\n", "PING through the script's HAProxy")
        proc.send_signal(signal.SIGTERM)
        rest, _ = proc.communicate(timeout=15)
        check(b"run: stopping" in rest, "SIGTERM stops it")

        def all_closed():
            for p in ports:
                try:
                    socket.create_connection(("127.0.0.1", p), timeout=1).close()
                    return False
                except OSError:
                    pass
            return True
        check(eventually(all_closed, 5), "every instance, agent and HAProxy is gone")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


if __name__ == "__main__":
    main({"sigterm": sigterm, "rolling": rolling, "kill9": kill9, "client_address": client_address,
          "reuseport": reuseport, "run_script": run_script})
