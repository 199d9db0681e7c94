/**
 * The connection to the server's websocket gateway, as a state machine.
 *
 *   offline ──online──▶ connecting ──open──▶ authenticating ──authenticated()──▶ live
 *      ▲                    │                      │                             │
 *      │                    └──────── close/error/timeout ───────────────────────┘
 *      │                                           ▼
 *      └────────offline event─────────────────  backoff ──timer──▶ connecting
 *
 * `stopped` is where it rests before start() and after stop() (signed out).
 * The protocol (auth frame, sync frames) lives outside: this module only
 * moves JSON frames with a `type` field and tells its owner what happens.
 */

/** @typedef {'stopped' | 'offline' | 'connecting' | 'authenticating' | 'live' | 'backoff'} ConnectionState */

/**
 * The part of a WebSocket this module uses; a fake one in tests.
 * @typedef {object} SocketLike
 * @property {(data: string) => void} send
 * @property {(code?: number, reason?: string) => void} close
 * @property {((ev?: unknown) => void) | null} onopen
 * @property {((ev: { data: unknown }) => void) | null} onmessage
 * @property {((ev?: unknown) => void) | null} onclose
 * @property {((ev?: unknown) => void) | null} onerror
 */

/**
 * @typedef {object} ConnectionHandlers
 * @property {(conn: Connection) => void} [onOpen] socket is open: send the auth frame
 * @property {(frame: {type: string, [k: string]: unknown}, conn: Connection) => void} [onMessage]
 * @property {(state: ConnectionState, info: {delayMs?: number, attempt: number}) => void} [onStateChange]
 * @property {(code: number, reason: string, conn: Connection) => boolean | void} [onClose] the server closed the
 *   socket with this code; return true when the handler took over (e.g. called stop()), so no retry is scheduled
 */

/**
 * @typedef {object} Environment
 * @property {() => boolean} isOnline
 * @property {(type: 'online' | 'offline', fn: () => void) => void} addEventListener
 * @property {(type: 'online' | 'offline', fn: () => void) => void} removeEventListener
 * @property {(fn: () => void, ms: number) => unknown} setTimeout
 * @property {(id: unknown) => void} clearTimeout
 * @property {() => number} random in [0, 1)
 */

/** @type {Record<ConnectionState, readonly ConnectionState[]>} */
const NEXT = {
  stopped: ['offline', 'connecting'],
  offline: ['connecting', 'stopped'],
  connecting: ['authenticating', 'backoff', 'offline', 'stopped'],
  authenticating: ['live', 'backoff', 'offline', 'stopped'],
  live: ['backoff', 'offline', 'stopped'],
  backoff: ['connecting', 'offline', 'stopped'],
};

/** @param {string} from @param {string} to */
export function canMove(from, to) {
  return Object.hasOwn(NEXT, from) && NEXT[/** @type {ConnectionState} */ (from)].includes(/** @type {ConnectionState} */ (to));
}

/**
 * The longest a phone waits between reconnect attempts. Full jitter spreads a storm over
 * this window (10,000 phones: ~1,000 attempts/s); at 30 s a phone waited 15 s on average
 * after an outage or a server restart before it even tried again.
 */
export const RECONNECT_CAP_MS = 10_000;

/**
 * "Full jitter" backoff: a random delay up to an exponentially growing
 * ceiling, so phones that lost coverage together don't return together.
 * @param {number} attempt 0 for the first retry
 * @param {{baseMs?: number, capMs?: number, random?: () => number}} [opts]
 */
export function backoffDelay(attempt, { baseMs = 1000, capMs = RECONNECT_CAP_MS, random = Math.random } = {}) {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}

/** @returns {Environment} */
function browserEnvironment() {
  return {
    isOnline: () => globalThis.navigator?.onLine ?? true,
    addEventListener: (type, fn) => globalThis.addEventListener?.(type, fn),
    removeEventListener: (type, fn) => globalThis.removeEventListener?.(type, fn),
    setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
    clearTimeout: (id) => globalThis.clearTimeout(/** @type {number} */ (id)),
    random: Math.random,
  };
}

/**
 * @param {object} options
 * @param {() => SocketLike} options.socketFactory e.g. `() => new WebSocket(url)`
 * @param {ConnectionHandlers} [options.handlers]
 * @param {Partial<Environment>} [options.env]
 * @param {number} [options.baseMs] first backoff ceiling
 * @param {number} [options.capMs] backoff ceiling cap
 * @param {number} [options.liveTimeoutMs] give up if not live this long after connecting (a hung socket on a weak signal)
 */
export function createConnection({ socketFactory, handlers = {}, env = {}, baseMs = 1000, capMs = RECONNECT_CAP_MS, liveTimeoutMs = 20_000 }) {
  const e = { ...browserEnvironment(), ...env };
  /** @type {ConnectionState} */
  let state = 'stopped';
  /** @type {SocketLike | null} */
  let socket = null;
  let attempt = 0;
  /** @type {unknown} */
  let retryTimer = null;
  /** @type {unknown} */
  let liveTimer = null;

  /** @param {ConnectionState} to @param {number} [delayMs] */
  function move(to, delayMs) {
    if (!canMove(state, to)) throw new Error(`illegal connection transition ${state} → ${to}`);
    state = to;
    handlers.onStateChange?.(to, { delayMs, attempt });
  }

  function clearTimers() {
    if (retryTimer !== null) e.clearTimeout(retryTimer);
    if (liveTimer !== null) e.clearTimeout(liveTimer);
    retryTimer = liveTimer = null;
  }

  function dropSocket() {
    const s = socket;
    socket = null;
    if (!s) return;
    // Detach first: the close we cause must not be taken for a lost link.
    s.onopen = s.onmessage = s.onclose = s.onerror = null;
    try {
      s.close(1000);
    } catch {
      /* already closed */
    }
  }

  function connect() {
    clearTimers();
    move('connecting');
    let s;
    try {
      s = socketFactory();
    } catch {
      scheduleRetry();
      return;
    }
    socket = s;
    s.onopen = () => {
      if (socket !== s) return;
      move('authenticating');
      handlers.onOpen?.(api);
    };
    s.onmessage = (ev) => {
      if (socket !== s) return;
      const frame = parseFrame(ev.data);
      if (frame) handlers.onMessage?.(frame, api);
    };
    s.onerror = () => {
      if (socket !== s) return;
      lost();
    };
    s.onclose = (/** @type {any} */ ev) => {
      if (socket !== s) return;
      if (handlers.onClose?.(Number(ev?.code ?? 1006), String(ev?.reason ?? ''), api) === true) {
        if (socket === s) dropSocket();
        return;
      }
      if (socket !== s) return;
      lost();
    };
    liveTimer = e.setTimeout(() => {
      liveTimer = null;
      if (state === 'connecting' || state === 'authenticating') lost();
    }, liveTimeoutMs);
  }

  function lost() {
    dropSocket();
    if (!e.isOnline()) {
      clearTimers();
      move('offline');
    } else {
      scheduleRetry();
    }
  }

  function scheduleRetry() {
    clearTimers();
    const delayMs = backoffDelay(attempt, { baseMs, capMs, random: e.random });
    attempt += 1;
    move('backoff', delayMs);
    retryTimer = e.setTimeout(() => {
      retryTimer = null;
      connect();
    }, delayMs);
  }

  function onOnline() {
    if (state === 'offline') connect();
    // In backoff, coverage just came back: try now instead of waiting.
    else if (state === 'backoff') {
      attempt = 0;
      connect();
    }
  }

  function onOffline() {
    if (state === 'stopped' || state === 'offline') return;
    clearTimers();
    dropSocket();
    move('offline');
  }

  /** @typedef {typeof api} Connection */
  const api = {
    get state() {
      return state;
    },
    /** Begin connecting (or wait for coverage). */
    start() {
      if (state !== 'stopped') return;
      e.addEventListener('online', onOnline);
      e.addEventListener('offline', onOffline);
      attempt = 0;
      if (e.isOnline()) connect();
      else move('offline');
    },
    /** Close and stay closed (sign-out, device revoked). */
    stop() {
      if (state === 'stopped') return;
      e.removeEventListener('online', onOnline);
      e.removeEventListener('offline', onOffline);
      clearTimers();
      dropSocket();
      move('stopped');
    },
    /** The protocol layer calls this when the server accepted the credentials. */
    authenticated() {
      if (state !== 'authenticating') throw new Error(`authenticated() in state ${state}`);
      clearTimers();
      attempt = 0;
      move('live');
    },
    /**
     * Send one frame. Returns false when there is no open socket, so the
     * caller keeps the data (the outbox does) rather than losing it.
     * @param {{type: string, [k: string]: unknown}} frame
     */
    send(frame) {
      if (!socket || (state !== 'authenticating' && state !== 'live')) return false;
      if (!frame || typeof frame.type !== 'string') throw new TypeError('a frame needs a string "type"');
      try {
        socket.send(JSON.stringify(frame));
        return true;
      } catch {
        return false;
      }
    },
    /** Drop the link and retry with backoff, e.g. after a protocol error. */
    reconnect() {
      if (state === 'connecting' || state === 'authenticating' || state === 'live') lost();
    },
  };
  return api;
}

/**
 * A frame is a JSON object with a string `type`; anything else is dropped
 * (a broken proxy must not crash the app).
 * @param {unknown} data
 * @returns {{type: string, [k: string]: unknown} | null}
 */
export function parseFrame(data) {
  if (typeof data !== 'string') return null;
  try {
    const value = JSON.parse(data);
    return value && typeof value === 'object' && !Array.isArray(value) && typeof value.type === 'string' ? value : null;
  } catch {
    return null;
  }
}
