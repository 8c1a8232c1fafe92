// Node's `ws` (npm) against coronet's WebSocket endpoint (/ws) with its default
// options: commands as text messages answered with the HTTP mapping's JSON, a ping
// answered with a pong, subscribe and a message published over the same
// connection, then the close handshake (1000).
// Usage: node ws.mjs HTTP_PORT
import { createRequire } from 'node:module';
import { check, finish, show, start } from './check.mjs';

const WebSocket = createRequire(import.meta.url)('ws');
const { port, timer } = start();

const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
const inbox = [];
let waiting = null;
ws.on('message', (data, isBinary) => {
  check(!isBinary, 'every message from the server is text');
  inbox.push(data.toString());
  if (waiting) waiting();
});
const next = () => new Promise((resolve) => {
  if (inbox.length > 0) return resolve(inbox.shift());
  waiting = () => { waiting = null; resolve(inbox.shift()); };
});
ws.on('error', (e) => check(false, `no error event: ${e.message}`));

await new Promise((resolve) => ws.once('open', resolve));
ws.send('ping');
check((await next()) === '{"ping":"PONG"}', 'ping answers {"ping":"PONG"}');
ws.send('echo héllo');
check((await next()) === '{"echo":"héllo"}', 'UTF-8 goes through unchanged');
const pong = new Promise((resolve) => ws.once('pong', (data) => resolve(data.toString())));
ws.ping('are you there');
check((await pong) === 'are you there', 'a ping is answered with a pong of the same payload');
ws.send('subscribe room');
const confirmation = JSON.parse(await next());
check(confirmation.subscribe && confirmation.subscribe.channel === 'room' && confirmation.subscribe.subscriptions === 1,
  `subscribe room is confirmed: ${show(confirmation)}`);
ws.send('publish room hello');
const replies = [JSON.parse(await next()), JSON.parse(await next())];
const message = replies.find((r) => r.message);
const count = replies.find((r) => r.publish !== undefined);
check(message && message.message.channel === 'room' && message.message.data === 'hello',
  `the message published arrives as a text message: ${show(replies)}`);
check(count && count.publish === 1, `PUBLISH counts this subscriber: ${show(replies)}`);
const closed = new Promise((resolve) => ws.once('close', (code) => resolve(code)));
ws.close(1000);
check((await closed) === 1000, 'the close handshake ends with 1000');
finish(timer);
