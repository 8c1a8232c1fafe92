// node-redis (npm `redis`) with its default options against a coronet server:
// its handshake (HELLO 3, CLIENT SETINFO), ready, then PING, TIMESTAMP,
// HELLO 3, INFO and a pipeline; no error events, no reconnects.
// Usage: node node_redis.mjs PORT
import { createRequire } from 'node:module';
import { CTIME, check, field, finish, show, start } from './check.mjs';

const { createClient } = createRequire(import.meta.url)('redis');
const { port, timer } = start();

const client = createClient({ url: `redis://127.0.0.1:${port}` });
const errors = [];
let reconnects = 0;
let ready = false;
client.on('error', (e) => errors.push(e.message));
client.on('reconnecting', () => { reconnects += 1; });
client.on('ready', () => { ready = true; });

try {
  await client.connect();
  check(ready, 'ready after connect (default options: RESP3 handshake, CLIENT SETINFO)');
  check((await client.ping()) === 'PONG', 'PING answers PONG');
  const ts = await client.sendCommand(['TIMESTAMP']);
  check(typeof ts === 'string' && CTIME.test(ts), `TIMESTAMP is the ctime text: ${show(ts)}`);
  const unix = await client.sendCommand(['TIMESTAMP', 'unix']);
  check(typeof unix === 'string' && /^\d+$/.test(unix), `TIMESTAMP unix is a string of digits: ${show(unix)}`);
  const hello = await client.sendCommand(['HELLO', '3']);
  check(!Array.isArray(hello) && Number(field(hello, 'proto')) === 3 && field(hello, 'server') !== undefined,
    `HELLO 3 is a map with proto 3: ${show(hello)}`);
  const info = await client.info();
  check(typeof info === 'string' && /^redis_version:/m.test(info) && /^coronet_version:/m.test(info),
    'INFO has redis_version and coronet_version');
  const id = await client.sendCommand(['CLIENT', 'ID']);
  check(Number(id) > 0, `CLIENT ID is positive: ${show(id)}`);
  const replies = await Promise.all(Array.from({ length: 100 }, (_, i) => client.sendCommand(['ECHO', `n${i}`])));
  check(replies.every((r, i) => r === `n${i}`), '100 ECHOs sent at once (pipelined) come back in order');
} catch (e) {
  check(false, `unexpected exception: ${e?.stack ?? e}`);
} finally {
  check(errors.length === 0, `no error events: ${show(errors)}`);
  check(reconnects === 0, `no reconnects (${reconnects})`);
  try {
    await (client.close ? client.close() : client.quit());
  } catch (e) {
    check(false, `close: ${e}`);
  }
}
finish(timer);
