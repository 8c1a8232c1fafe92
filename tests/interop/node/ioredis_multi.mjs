// ioredis multi() with its default options against a coronet server: MULTI,
// the queued commands, EXEC; a queued unknown command rejects the exec with
// EXECABORT; the connection goes on.
// Usage: node ioredis_multi.mjs PORT
import { createRequire } from 'node:module';
import { check, runClient, show, start, watchClient } from './check.mjs';

const Redis = createRequire(import.meta.url)('ioredis');
const { port, timer } = start();

const client = new Redis({ host: '127.0.0.1', port });
const seen = watchClient(client);

await runClient(timer, seen, async () => {
  const results = await client.multi().echo('a').ping().echo('b').exec();
  check(show(results) === show([[null, 'a'], [null, 'PONG'], [null, 'b']]),
    `multi().exec() answers each queued command in order: ${show(results)}`);
  let failure = null;
  try {
    await client.multi().echo('x').call('NOSUCH').exec();
  } catch (e) {
    failure = e;
  }
  check(failure !== null && /EXECABORT/.test(String(failure?.message)),
    `a queued unknown command makes exec() reject with EXECABORT: ${failure}`);
  check((await client.ping()) === 'PONG', 'the connection still answers after the aborted transaction');
}, () => client.quit());
