// Shared by the Node interop scripts: checks that report, a bounded run.

export const CTIME = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d \d{4}$/;

const failures = [];

/** Records one check; `finish` exits non-zero if any failed. */
export function check(ok, what) {
  console.log((ok ? 'ok    ' : 'FAIL  ') + what);
  if (!ok) failures.push(what);
  return ok;
}

/** The port from argv, and a deadline: the process exits 2 when it passes. */
export function start(seconds = 20) {
  // The npm packages need Node 20 (Debian 12's nodejs is 18): skip (77), as a missing client does.
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 20) {
    console.log(`skipped: Node ${process.versions.node} is older than the clients need (20)`);
    process.exit(77);
  }
  const port = Number(process.argv[2]);
  if (!Number.isInteger(port) || port <= 0) {
    console.error('usage: node SCRIPT PORT');
    process.exit(2);
  }
  const timer = setTimeout(() => {
    console.error(`FAIL  not done within ${seconds} s`);
    process.exit(2);
  }, seconds * 1000);
  return { port, timer };
}

/** A field of a map reply, whatever shape the client gives it: Map, object or flat [k, v, ...] array. */
export function field(reply, key) {
  if (reply instanceof Map) {
    for (const [k, v] of reply) if (String(k) === key) return v;
    return undefined;
  }
  if (Array.isArray(reply)) {
    for (let i = 0; i + 1 < reply.length; i += 2) if (String(reply[i]) === key) return reply[i + 1];
    return undefined;
  }
  return reply && typeof reply === 'object' ? reply[key] : undefined;
}

export function show(value) {
  return JSON.stringify(value instanceof Map ? Object.fromEntries(value) : value, (_, v) =>
    typeof v === 'bigint' ? v.toString() : v instanceof Map ? Object.fromEntries(v) : v);
}

/** Counts a client's `error` events and `reconnecting` events from now on. */
export function watchClient(client) {
  const seen = { errors: [], reconnects: 0 };
  client.on('error', (e) => seen.errors.push(e.message));
  client.on('reconnecting', () => { seen.reconnects += 1; });
  return seen;
}

/**
 * Runs the async `body` (an exception fails a check), then checks that `seen`
 * (from watchClient) has no error event and no reconnect, closes the client
 * with `close` (a failure fails a check) and finishes.
 */
export async function runClient(timer, seen, body, close) {
  try {
    await body();
  } catch (e) {
    check(false, `unexpected exception: ${e?.stack ?? e}`);
  } finally {
    check(seen.errors.length === 0, `no error events: ${show(seen.errors)}`);
    check(seen.reconnects === 0, `no reconnects (${seen.reconnects})`);
    try {
      await close();
    } catch (e) {
      check(false, `close: ${e}`);
    }
  }
  finish(timer);
}

export function finish(timer) {
  clearTimeout(timer);
  if (failures.length > 0) {
    console.error(`${failures.length} check(s) failed`);
    process.exit(1);
  }
  console.log('all checks passed');
  process.exit(0);
}
