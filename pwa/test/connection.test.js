import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createConnection, backoffDelay, canMove, parseFrame } from '../src/shared/connection.js';

/** A socket that the test opens, feeds and closes by hand. */
class FakeSocket {
  constructor() {
    this.sent = [];
    this.closed = false;
    this.onopen = this.onmessage = this.onclose = this.onerror = null;
  }
  send(data) {
    this.sent.push(JSON.parse(data));
  }
  close() {
    this.closed = true;
  }
  // test side
  open() {
    this.onopen?.();
  }
  receive(data) {
    this.onmessage?.({ data });
  }
  drop() {
    this.onclose?.();
  }
}

function harness({ online = true, random = () => 0.5 } = {}) {
  const sockets = [];
  const timers = new Map();
  let nextTimer = 1;
  const listeners = { online: new Set(), offline: new Set() };
  const states = [];
  const frames = [];
  const env = {
    isOnline: () => online,
    addEventListener: (t, fn) => listeners[t].add(fn),
    removeEventListener: (t, fn) => listeners[t].delete(fn),
    setTimeout: (fn, ms) => {
      const id = nextTimer++;
      timers.set(id, { fn, ms });
      return id;
    },
    clearTimeout: (id) => timers.delete(id),
    random,
  };
  const conn = createConnection({
    socketFactory: () => {
      const s = new FakeSocket();
      sockets.push(s);
      return s;
    },
    handlers: {
      onOpen: (c) => c.send({ type: 'auth', token: 't' }),
      onMessage: (frame, c) => {
        frames.push(frame);
        if (frame.type === 'auth_ok') c.authenticated();
      },
      onStateChange: (state, info) => states.push([state, info.delayMs]),
    },
    env,
  });
  return {
    conn,
    sockets,
    states,
    frames,
    timers,
    get socket() {
      return sockets.at(-1);
    },
    setOnline(value) {
      online = value;
      for (const fn of [...listeners[value ? 'online' : 'offline']]) fn();
    },
    /** Run the pending timer with the given delay (or the only retry timer). */
    fire(predicate = () => true) {
      const entry = [...timers.entries()].find(([, t]) => predicate(t));
      assert.ok(entry, 'a timer is pending');
      timers.delete(entry[0]);
      entry[1].fn();
      return entry[1].ms;
    },
    listeners,
  };
}

test('connects, authenticates, goes live and exchanges frames', () => {
  const h = harness();
  h.conn.start();
  assert.equal(h.conn.state, 'connecting');
  assert.equal(h.conn.send({ type: 'x' }), false, 'nothing to send on before open');
  h.socket.open();
  assert.equal(h.conn.state, 'authenticating');
  assert.deepEqual(h.socket.sent, [{ type: 'auth', token: 't' }]);
  h.socket.receive(JSON.stringify({ type: 'auth_ok' }));
  assert.equal(h.conn.state, 'live');
  assert.equal(h.conn.send({ type: 'ping' }), true);
  assert.deepEqual(h.socket.sent.at(-1), { type: 'ping' });
  assert.deepEqual(h.states.map((s) => s[0]), ['connecting', 'authenticating', 'live']);
});

test('malformed frames are dropped, not delivered', () => {
  const h = harness();
  h.conn.start();
  h.socket.open();
  for (const bad of ['not json', '[]', '{"no":"type"}', '{"type":3}', 'null']) h.socket.receive(bad);
  h.socket.receive('{"type":"hello","n":1}');
  assert.deepEqual(h.frames, [{ type: 'hello', n: 1 }]);
  assert.equal(parseFrame(new ArrayBuffer(2)), null);
});

test('a lost link backs off with growing jittered delays capped at 10 s (RECONNECT_CAP_MS)', () => {
  const h = harness({ random: () => 0.999999 });
  h.conn.start();
  const delays = [];
  for (let i = 0; i < 10; i++) {
    h.socket.drop();
    assert.equal(h.conn.state, 'backoff');
    delays.push(h.states.at(-1)[1]);
    h.fire((t) => t.ms === delays.at(-1));
    assert.equal(h.conn.state, 'connecting');
  }
  assert.deepEqual(delays, [999, 1999, 3999, 7999, 9999, 9999, 9999, 9999, 9999, 9999]);
});

test('going live resets the backoff', () => {
  const h = harness({ random: () => 0.999999 });
  h.conn.start();
  h.socket.drop();
  h.fire((t) => t.ms === 999);
  h.socket.drop();
  assert.equal(h.states.at(-1)[1], 1999);
  h.fire((t) => t.ms === 1999);
  h.socket.open();
  h.socket.receive('{"type":"auth_ok"}');
  h.socket.drop();
  assert.equal(h.states.at(-1)[1], 999);
});

test('backoff jitter spreads delays between 0 and the ceiling', () => {
  assert.equal(backoffDelay(0, { random: () => 0 }), 0);
  assert.equal(backoffDelay(3, { random: () => 0.5 }), 4000);
  assert.equal(backoffDelay(50, { random: () => 0.5 }), 5000);
  assert.equal(backoffDelay(2, { baseMs: 100, capMs: 250, random: () => 0.999999 }), 249);
});

test('offline and online events', () => {
  const h = harness();
  h.conn.start();
  h.socket.open();
  const first = h.socket;
  h.setOnline(false);
  assert.equal(h.conn.state, 'offline');
  assert.ok(first.closed);
  assert.equal(h.timers.size, 0, 'no timers while offline');
  h.setOnline(true);
  assert.equal(h.conn.state, 'connecting');
  assert.notEqual(h.socket, first);
});

test('starting without coverage waits for the online event', () => {
  const h = harness({ online: false });
  h.conn.start();
  assert.equal(h.conn.state, 'offline');
  assert.equal(h.sockets.length, 0);
  h.setOnline(true);
  assert.equal(h.conn.state, 'connecting');
});

test('coverage returning during backoff retries at once', () => {
  const h = harness();
  h.conn.start();
  h.socket.drop();
  assert.equal(h.conn.state, 'backoff');
  h.setOnline(true);
  assert.equal(h.conn.state, 'connecting');
  assert.equal(h.sockets.length, 2);
});

test('a socket that never gets live times out into backoff', () => {
  const h = harness();
  h.conn.start();
  h.socket.open();
  const ms = h.fire((t) => t.ms === 20_000);
  assert.equal(ms, 20_000);
  assert.equal(h.conn.state, 'backoff');
});

test('a closing socket while the device lost coverage lands in offline', () => {
  const h = harness();
  h.conn.start();
  h.socket.open();
  // the close event can arrive before the offline event
  const s = h.socket;
  h.setOnline(false);
  s.drop();
  assert.equal(h.conn.state, 'offline');
});

test('stop closes and ignores later events', () => {
  const h = harness();
  h.conn.start();
  const s = h.socket;
  h.conn.stop();
  assert.equal(h.conn.state, 'stopped');
  assert.ok(s.closed);
  s.open();
  s.drop();
  h.setOnline(true);
  assert.equal(h.conn.state, 'stopped');
  assert.equal(h.listeners.online.size, 0);
});

test('authenticated() outside authenticating is a bug', () => {
  const h = harness();
  h.conn.start();
  assert.throws(() => h.conn.authenticated(), /authenticated\(\) in state connecting/);
});

test('transition table', () => {
  assert.ok(canMove('offline', 'connecting'));
  assert.ok(!canMove('offline', 'live'));
  assert.ok(!canMove('connecting', 'live'));
  assert.ok(!canMove('backoff', 'authenticating'));
  assert.ok(!canMove('live', 'constructor'));
});

