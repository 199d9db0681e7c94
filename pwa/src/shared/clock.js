/**
 * The server's clock, as seen from this device.
 *
 * Everything the server stores (status times, assignment times, positions) is
 * on the server's clock: it corrects each device's times by that device's
 * offset. A dispatcher PC or a phone whose clock is a few minutes off would
 * otherwise show a fresh position as "3 min ago" or flag an assignment as
 * overdue the moment it is made. So "how long ago" is always measured
 * against `serverNow()`.
 *
 * The offset is estimated the way NTP's clock filter does: each ping/pong
 * round trip gives offset = server_now - (sent + received) / 2, accurate to
 * half the round trip; of the last few samples the one with the shortest
 * round trip wins. Times the device *sends* stay on its own clock (the server
 * corrects them), so nothing here touches the outbox.
 */
import { signal } from '@preact/signals';

const KEEP = 8;
/** Changes smaller than this are noise: they would only make "12 s ago" labels jitter. */
const MIN_CHANGE_MS = 500;
const STORE_KEY = 'patrol.clockOffset';

/** Server clock minus device clock, in ms (0 until the server has answered once). */
export const clockOffset = signal(readStored());

/** @type {Array<{offset: number, rtt: number}>} */
let samples = [];

/** Now, on the server's clock (best estimate). */
export function serverNow() {
  return Date.now() + clockOffset.value;
}

/**
 * One round trip: the device sent at `sentAt`, the server stamped `serverAt`,
 * the answer arrived at `receivedAt` (device clock). Returns the offset in use.
 * @param {number} sentAt @param {number} serverAt @param {number} receivedAt
 */
export function observeRoundTrip(sentAt, serverAt, receivedAt) {
  const rtt = receivedAt - sentAt;
  if (!Number.isFinite(rtt) || rtt < 0 || !Number.isFinite(serverAt)) return clockOffset.value;
  samples.push({ offset: Math.round(serverAt - (sentAt + receivedAt) / 2), rtt });
  if (samples.length > KEEP) samples = samples.slice(-KEEP);
  const best = samples.reduce((a, b) => (b.rtt < a.rtt ? b : a));
  if (Math.abs(best.offset - clockOffset.value) >= MIN_CHANGE_MS) {
    clockOffset.value = best.offset;
    store(best.offset);
  }
  return clockOffset.value;
}

/** Forget the samples (a new connection may take another route). */
export function resetSamples() {
  samples = [];
}

function readStored() {
  try {
    const v = Number(globalThis.localStorage?.getItem(STORE_KEY));
    return Number.isFinite(v) ? v : 0;
  } catch {
    return 0;
  }
}

/** @param {number} v */
function store(v) {
  try {
    globalThis.localStorage?.setItem(STORE_KEY, String(v));
  } catch {
    /* private mode: the estimate lives for this page only */
  }
}
