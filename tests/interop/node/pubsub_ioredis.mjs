// ioredis Pub/Sub with its default options against a coronet server: one
// client subscribes (subscribe and psubscribe), another publishes; the
// messages arrive as 'message' and 'pmessage' events, in order.
// Usage: node pubsub_ioredis.mjs PORT
import { createRequire } from 'node:module';
import { check, runClient, show, start, watchClient } from './check.mjs';

const Redis = createRequire(import.meta.url)('ioredis');
const { port, timer } = start();

const sub = new Redis({ host: '127.0.0.1', port });
const pub = new Redis({ host: '127.0.0.1', port });
const seen = watchClient(sub);
const pubSeen = watchClient(pub);

await runClient(timer, seen, async () => {
  const got = [];
  const all = new Promise((resolve) => {
    const take = (entry) => {
      got.push(entry);
      if (got.length === 21) resolve();
    };
    sub.on('message', (channel, message) => take(`message ${channel} ${message}`));
    sub.on('pmessage', (pattern, channel, message) => take(`pmessage ${pattern} ${channel} ${message}`));
  });
  check((await sub.subscribe('news', 'sport')) === 2, 'subscribe answers the count of subscriptions (2)');
  check((await sub.psubscribe('al*')) === 3, 'psubscribe answers 3');
  for (let i = 0; i < 20; i += 1) await pub.publish(i % 2 === 0 ? 'news' : 'sport', `m${i}`);
  check((await pub.publish('alerts', 'fire')) === 1, 'publish to a pattern reaches one subscription');
  await all;
  const want = [];
  for (let i = 0; i < 20; i += 1) want.push(`message ${i % 2 === 0 ? 'news' : 'sport'} m${i}`);
  want.push('pmessage al* alerts fire');
  check(show(got) === show(want), `the 21 messages arrive in order: ${show(got)}`);
  check(show(await pub.pubsub('NUMSUB', 'news')) === show(['news', 1]), 'PUBSUB NUMSUB news is 1');
  await sub.unsubscribe('news', 'sport');
  await sub.punsubscribe('al*');
  check((await pub.publish('news', 'late')) === 0, 'after unsubscribing, nobody receives');
  check(pubSeen.errors.length === 0, `no error events on the publisher: ${show(pubSeen.errors)}`);
}, async () => {
  await sub.quit();
  await pub.quit();
});
