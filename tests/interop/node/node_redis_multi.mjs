// node-redis (npm `redis`) multi() with its default options against a coronet
// server: MULTI, the queued commands, EXEC; a queued unknown command rejects
// the exec; the connection goes on.
// Usage: node node_redis_multi.mjs PORT
import { createRequire } from 'node:module';
import { check, runClient, show, start, watchClient } from './check.mjs';

const { createClient } = createRequire(import.meta.url)('redis');
const { port, timer } = start();

const client = createClient({ url: `redis://127.0.0.1:${port}` });
const seen = watchClient(client);

await runClient(timer, seen, async () => {
  await client.connect();
  const results = await client.multi().echo('a').ping().echo('b').exec();
  check(show(results) === show(['a', 'PONG', 'b']), `multi().exec() answers in order: ${show(results)}`);
  let failure = null;
  try {
    await client.multi().echo('x').addCommand(['NOSUCH']).exec();
  } catch (e) {
    failure = e;
  }
  check(failure !== null, `a queued unknown command makes exec() reject: ${failure}`);
  check((await client.ping()) === 'PONG', 'the connection still answers after the aborted transaction');
}, () => client.quit());
