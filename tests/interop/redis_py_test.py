#!/usr/bin/python3
"""redis-py (Debian's python3-redis) against the timestamp sample with its
default options, as a new user would connect: the sync client, a connection
pool from a URL, client_name, the command table, INFO, pipelining, asyncio;
and `password=` against a server started with --password.

Usage: redis_py_test.py {sync|asyncio|password} PATH/TO/timestamp_server
Run it with /usr/bin/python3, where Debian installs the module."""
import asyncio
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop import CTIME, check, main, server_still_up, skip, timestamp_server  # noqa: E402

try:
    import redis
    import redis.asyncio
except ImportError as e:
    skip("redis-py is not importable by %s (%s); scripts/setup installs python3-redis" % (sys.executable, e))

TIMEOUT = 5  # socket timeouts, seconds
print("redis-py", redis.__version__, flush=True)


def bulk_matching(value, pattern):
    """Whether a reply is bytes (a bulk string, as issue 12 asks for values) matching `pattern`."""
    return isinstance(value, bytes) and re.fullmatch(pattern, value.decode(errors="replace")) is not None


def error_text(call):
    """The exception a call raises, as 'ClassName: message', or None."""
    try:
        call()
    except Exception as e:  # noqa: BLE001 - the class is part of what is checked
        return "%s: %s" % (type(e).__name__, e)
    return None


def sync(binary):
    with timestamp_server(binary) as srv:
        r = redis.Redis(host="127.0.0.1", port=srv.port, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT)
        check(r.ping() is True, "PING answers True")
        value = r.execute_command("TIMESTAMP")
        check(bulk_matching(value, CTIME), "TIMESTAMP is the ctime text as bytes, not True: %r" % (value,))
        for fmt, pattern in (("unix", r"\d+"), ("iso", r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")):
            value = r.execute_command("TIMESTAMP", fmt)
            check(bulk_matching(value, pattern), "TIMESTAMP %s is a bulk string (bytes): %r" % (fmt, value))
        check(r.echo("hello world") == b"hello world", "ECHO returns its argument")

        text = redis.Redis(host="127.0.0.1", port=srv.port, socket_timeout=TIMEOUT, decode_responses=True)
        value = text.execute_command("TIMESTAMP")
        check(isinstance(value, str) and re.fullmatch(CTIME, value) is not None,
              "with decode_responses, TIMESTAMP is a str: %r" % (value,))

        # A pool from a URL with a database number; SELECT 0 is what such
        # clients send when the number is not 0 in their defaults.
        pool = redis.ConnectionPool.from_url("redis://127.0.0.1:%d/0" % srv.port, socket_timeout=TIMEOUT)
        pooled = redis.Redis(connection_pool=pool)
        check(pooled.ping() is True, "a pool from redis://127.0.0.1:PORT/0 connects and pings")
        check(pooled.execute_command("SELECT", 0) in (b"OK", True), "SELECT 0 answers OK")
        err = error_text(lambda: redis.Redis.from_url("redis://127.0.0.1:%d/1" % srv.port,
                                                      socket_timeout=TIMEOUT).ping())
        check(err == "ResponseError: DB index is out of range",
              "redis://.../1 fails with Redis's SELECT error: %r" % err)
        pool.disconnect()

        named = redis.Redis(host="127.0.0.1", port=srv.port, socket_timeout=TIMEOUT, client_name="coronet-interop")
        check(named.client_getname() == "coronet-interop", "client_name= sends CLIENT SETNAME; CLIENT GETNAME "
              "returns it")
        client_id = named.client_id()
        check(isinstance(client_id, int) and client_id > 0, "CLIENT ID is a positive integer: %r" % (client_id,))

        # The command table: redis-py parses COMMAND into a dict (it raised TypeError on help's shape).
        table = r.command()
        check(isinstance(table, dict) and "ping" in table and table["ping"]["arity"] == -1,
              "COMMAND parses into a dict with ping, arity -1: %r" % ({k: table[k] for k in list(table)[:3]}
                                                                     if isinstance(table, dict) else table,))
        check("timestamp" in table, "COMMAND lists timestamp")
        count = r.command_count()
        check(isinstance(count, int) and count == len(table),
              "COMMAND COUNT (%r) is the number of COMMAND's entries (%d)" % (count, len(table)))
        # One word "COMMAND DOCS" (redis-py splits it when sending): a reply
        # callback is looked up by the first argument, and COMMAND's would parse DOCS's reply.
        docs = r.execute_command("COMMAND DOCS", "ping")
        check(isinstance(docs, list) and len(docs) == 2 and docs[0] == b"ping" and isinstance(docs[1], list),
              "COMMAND DOCS ping is [name, [field, value, ...]] in RESP2: %r" % (docs,))
        raw = r.execute_command("COMMAND")
        check(isinstance(raw, (list, dict)) and len(raw) == count, "execute_command('COMMAND') works")

        info = r.info()
        check(isinstance(info, dict) and "redis_version" in info and "coronet_version" in info,
              "INFO parses into a dict with redis_version and coronet_version: %r" % (sorted(info)[:12],))
        check(info.get("tcp_port") == srv.port, "INFO says tcp_port %d: %r" % (srv.port, info.get("tcp_port")))
        check(isinstance(info.get("uptime_in_seconds"), int), "INFO has uptime_in_seconds as a number")
        server_section = r.info("server")
        check("redis_version" in server_section and "connected_clients" not in server_section,
              "INFO server has the server section only")

        # Pipelining without MULTI: 300 commands in one write.
        pipe = r.pipeline(transaction=False)
        for i in range(100):
            pipe.ping()
            pipe.execute_command("TIMESTAMP", "iso")
            pipe.echo("n%d" % i)
        results = pipe.execute()
        check(len(results) == 300 and all(x is True for x in results[0::3])
              and all(bulk_matching(x, r"\d{4}-.*Z") for x in results[1::3])
              and results[2::3] == [b"n%d" % i for i in range(100)],
              "a pipeline of 300 commands answers in order: %r" % (results[:6],))

        err = error_text(lambda: r.execute_command("NOPE", "x"))
        check(err is not None and err.startswith("ResponseError: unknown command 'NOPE', with args beginning with:"),
              "an unknown command raises ResponseError with Redis's text: %r" % err)
        for client in (r, text, named):
            client.close()
        server_still_up(srv)


async def asyncio_checks(port):
    r = redis.asyncio.Redis(host="127.0.0.1", port=port, socket_timeout=TIMEOUT, client_name="coronet-async")
    try:
        check(await r.ping() is True, "asyncio: PING answers True")
        value = await r.execute_command("TIMESTAMP")
        check(bulk_matching(value, CTIME), "asyncio: TIMESTAMP is bytes: %r" % (value,))
        check(await r.client_getname() == "coronet-async", "asyncio: client_name= sets the name")
        info = await r.info()
        check("redis_version" in info and "coronet_version" in info, "asyncio: INFO parses into a dict")
        pipe = r.pipeline(transaction=False)
        for i in range(50):
            pipe.echo("a%d" % i)
        check(await pipe.execute() == [b"a%d" % i for i in range(50)], "asyncio: a pipeline of 50 ECHOs")
        # Ten connections from the pool at once.
        results = await asyncio.gather(*(r.execute_command("TIMESTAMP") for _ in range(10)))
        check(len(results) == 10 and all(bulk_matching(x, CTIME) for x in results),
              "asyncio: 10 concurrent TIMESTAMPs: %r" % (results[:2],))
    finally:
        await r.close()
        await r.connection_pool.disconnect()


def asyncio_scenario(binary):
    with timestamp_server(binary) as srv:
        asyncio.run(asyncio.wait_for(asyncio_checks(srv.port), 30))
        server_still_up(srv)


def password(binary):
    with timestamp_server(binary, "--password", "s3cret") as srv:
        def client(**kw):
            return redis.Redis(host="127.0.0.1", port=srv.port, socket_timeout=TIMEOUT, **kw)

        good = client(password="s3cret")
        check(good.ping() is True, "password= authenticates (AUTH s3cret)")
        value = good.execute_command("TIMESTAMP")
        check(bulk_matching(value, CTIME), "after AUTH, TIMESTAMP answers: %r" % (value,))
        user = client(username="default", password="s3cret")
        check(bulk_matching(user.execute_command("TIMESTAMP"), CTIME),
              "username='default' (AUTH default s3cret) authenticates; TIMESTAMP answers")

        err = error_text(lambda: client().execute_command("TIMESTAMP"))
        check(err == "AuthenticationError: Authentication required.",
              "without a password: NOAUTH, as AuthenticationError: %r" % err)
        err = error_text(lambda: client(password="wrong").ping())
        # redis-py 4 has no class for WRONGPASS (5.x maps it to AuthenticationError).
        check(err in ("ResponseError: WRONGPASS invalid username-password pair or user is disabled.",
                      "AuthenticationError: invalid username-password pair or user is disabled."),
              "a wrong password fails with Redis's WRONGPASS text: %r" % err)
        check(client().ping() is True, "PING answers before AUTH")
        pool = redis.ConnectionPool.from_url("redis://:s3cret@127.0.0.1:%d/0" % srv.port, socket_timeout=TIMEOUT)
        check(redis.Redis(connection_pool=pool).info().get("redis_version") is not None,
              "a pool from redis://:PASSWORD@127.0.0.1:PORT/0 authenticates and reads INFO")
        pool.disconnect()
        good.close()
        user.close()
        server_still_up(srv)


if __name__ == "__main__":
    main({"sync": sync, "asyncio": asyncio_scenario, "password": password})
