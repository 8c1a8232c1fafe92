// node-redis (npm `redis`) Pub/Sub with its default options against a coronet
// server: a duplicate connection subscribes (subscribe and pSubscribe, RESP3
// pushes or RESP2 arrays, whichever it chose), the main one publishes.
// Usage: node pubsub_node_redis.mjs PORT
import { createRequire } from 'node:module';
import { check, runClient, show, start, watchClient } from './check.mjs';

const { createClient } = createRequire(import.meta.url)('redis');
const { port, timer } = start();

const client = createClient({ url: `redis://127.0.0.1:${port}` });
const seen = watchClient(client);

let sub;
await runClient(timer, seen, async () => {
  await client.connect();
  sub = client.duplicate();
  const subSeen = watchClient(sub);
  await sub.connect();
  const got = [];
  let resolveAll;
  const all = new Promise((resolve) => { resolveAll = resolve; });
  const take = (entry) => {
    got.push(entry);
    if (got.length === 11) resolveAll();
  };
  await sub.subscribe('news', (message, channel) => take(`message ${channel} ${message}`));
  await sub.pSubscribe('al*', (message, channel) => take(`pmessage ${channel} ${message}`));
  check(show(await client.sendCommand(['PUBSUB', 'NUMPAT'])) === '1', 'PUBSUB NUMPAT is 1');
  for (let i = 0; i < 10; i += 1) await client.publish('news', `m${i}`);
  check((await client.publish('alerts', 'fire')) === 1, 'publish to a pattern reaches one subscription');
  await all;
  const want = [];
  for (let i = 0; i < 10; i += 1) want.push(`message news m${i}`);
  want.push('pmessage alerts fire');
  check(show(got) === show(want), `the 11 messages arrive in order: ${show(got)}`);
  await sub.unsubscribe('news');
  await sub.pUnsubscribe('al*');
  check((await client.publish('news', 'late')) === 0, 'after unsubscribing, nobody receives');
  check(subSeen.errors.length === 0, `no error events on the subscriber: ${show(subSeen.errors)}`);
}, async () => {
  if (sub) await sub.quit();
  await client.quit();
});
