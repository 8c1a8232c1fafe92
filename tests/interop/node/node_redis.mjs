// node-redis (npm `redis`) with its default options against a coronet server:
// its handshake (HELLO 3, CLIENT SETINFO), ready, then PING, TIMESTAMP,
// HELLO 3, INFO and a pipeline; no error events, no reconnects.
// Usage: node node_redis.mjs PORT
import { createRequire } from 'node:module';
import { CTIME, check, field, runClient, show, start, watchClient } from './check.mjs';

const { createClient } = createRequire(import.meta.url)('redis');
const { port, timer } = start();

const client = createClient({ url: `redis://127.0.0.1:${port}` });
const seen = watchClient(client);
let ready = false;
client.on('ready', () => { ready = true; });

await runClient(timer, seen, async () => {
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
}, () => (client.close ? client.close() : client.quit()));
