import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { handleNotificationClick } from '../src/sw/notification-click.js';

const ORIGIN = 'https://patrol.example';
const ASG = `${ORIGIN}/?assignment=a-1`;
let log;

/** A window the worker can see (a page of the app). */
function client(url) {
  const c = {
    url,
    focus: async () => { log.push(['focus', c.url]); return c; },
    navigate: async (to) => { log.push(['navigate', to]); c.url = to; return c; },
    postMessage: (m) => log.push(['message', m]),
  };
  return c;
}

function world(windows) {
  globalThis.self = /** @type {any} */ ({
    location: { origin: ORIGIN },
    clients: {
      matchAll: async () => windows,
      openWindow: async (u) => { log.push(['open', u]); return null; },
    },
  });
}

async function click(action, url = ASG) {
  let waited = null;
  const closed = [];
  handleNotificationClick(/** @type {any} */ ({
    action,
    notification: { data: { url }, close: () => closed.push(true) },
    waitUntil: (p) => { waited = p; },
  }));
  assert.ok(waited, 'the worker is kept alive until the window is handled');
  await waited;
  assert.deepEqual(closed, [true], 'the notification goes away');
}

beforeEach(() => { log = []; });

test('acknowledge with the app open: the page (which owns the outbox) is told, and focused', async () => {
  world([client(`${ORIGIN}/`)]);
  await click('acknowledge');
  assert.deepEqual(log, [['message', { type: 'ACKNOWLEDGE', url: ASG }], ['focus', `${ORIGIN}/`]]);
});

test('acknowledge with no window: the app opens on the assignment with #ack', async () => {
  world([]);
  await click('acknowledge');
  assert.deepEqual(log, [['open', `${ASG}#ack`]]);
});

test('a tap on the body focuses a window already on that assignment', async () => {
  world([client(`${ORIGIN}/`), client(ASG)]);
  await click('');
  assert.deepEqual(log, [['focus', ASG]]);
});

test('otherwise the app window is taken to the assignment rather than stacking a new one', async () => {
  world([client(`${ORIGIN}/`)]);
  await click('open');
  assert.deepEqual(log, [['navigate', ASG], ['focus', ASG]]);
});

test('with no window at all, one is opened; a link to another site never is', async () => {
  world([]);
  await click('open');
  await click('open', 'https://evil.example/phish');
  assert.deepEqual(log, [['open', ASG], ['open', `${ORIGIN}/`]]);
});
