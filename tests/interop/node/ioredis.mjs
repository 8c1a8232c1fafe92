// ioredis with its default options against a coronet server: its handshake
// (HELLO 3, CLIENT SETINFO), the INFO ready check, then PING, TIMESTAMP,
// HELLO 3, INFO and a pipeline; no error events, no reconnects.
// Usage: node ioredis.mjs PORT
import { createRequire } from 'node:module';
import { CTIME, check, field, runClient, show, start, watchClient } from './check.mjs';

const Redis = createRequire(import.meta.url)('ioredis');
const { port, timer } = start();

const client = new Redis({ host: '127.0.0.1', port });
const seen = watchClient(client);

await runClient(timer, seen, async () => {
  await new Promise((resolve, reject) => {
    client.once('ready', resolve);
    client.once('end', () => reject(new Error('connection ended before ready')));
    setTimeout(() => reject(new Error(`not ready within 10 s (errors: ${show(seen.errors)})`)), 10000);
  });
  check(true, 'ready (default options: HELLO 3, CLIENT SETINFO, INFO as the ready check)');
  check((await client.ping()) === 'PONG', 'PING answers PONG');
  const ts = await client.call('TIMESTAMP');
  check(typeof ts === 'string' && CTIME.test(ts), `TIMESTAMP is the ctime text: ${show(ts)}`);
  const hello = await client.call('HELLO', '3');
  check(Number(field(hello, 'proto')) === 3 && String(field(hello, 'server')).length > 0,
    `HELLO 3 has proto 3: ${show(hello)}`);
  const info = await client.info();
  check(/^redis_version:/m.test(info) && /^coronet_version:/m.test(info), 'INFO has redis_version and coronet_version');
  const pipeline = client.pipeline();
  for (let i = 0; i < 100; i += 1) pipeline.echo(`n${i}`);
  const results = await pipeline.exec();
  check(results.length === 100 && results.every(([err, r], i) => err === null && r === `n${i}`),
    'a pipeline of 100 ECHOs answers in order');
}, () => client.quit());
