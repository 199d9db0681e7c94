/**
 * Position sharing while on duty and while the app is open: watchPosition,
 * pings batched into one `unit.report_location` every ~30 s (through the
 * outbox, so offline positions are queued, not lost), and an honest state.
 *
 * positionState: 'off' (off duty / signed out) | 'unsupported' | 'denied'
 *   | 'waiting' (no fix yet) | 'sharing' | 'queued' (fixes stored, no link)
 *   | 'no_fix' (the phone gives no fresh position: dispatch sees an old one)
 *
 * Browsers report a watched position only when it changes, so a car parked at a
 * roadblock would go "stale" on the console while the app said "shared": when no
 * fix arrived for REFRESH_MS the app asks for one, and says so when none comes.
 */
import { signal, effect } from '@preact/signals';
import { mutate, pendingPositions } from '../../shared/sync.js';
import { session } from '../../shared/session.js';
import { connectionState } from '../../shared/sync-status.js';
import { myUnit } from './state.js';

const BATCH_MS = 30_000;
const MIN_GAP_MS = 5_000; // keep at most one ping per 5 s
// Ask for a fresh fix when none came for this long (the console calls 10 min "stale").
export const REFRESH_MS = 4 * 60_000;

export const positionState = signal('off');
/** @type {import('@preact/signals').Signal<{lat: number, lon: number, accuracy_m: number | null, at: number} | null>} */
export const lastFix = signal(null);

/** @type {Array<{at: number, lat: number, lon: number, accuracy_m?: number}>} */
let buffer = [];
let watchId = /** @type {number | null} */ (null);
let timer = /** @type {any} */ (null);

function stop() {
  if (watchId !== null) navigator.geolocation.clearWatch(watchId);
  watchId = null;
  clearInterval(timer);
  timer = null;
  sendBatch();
}

function start() {
  if (watchId !== null) return;
  if (!('geolocation' in navigator)) {
    positionState.value = 'unsupported';
    return;
  }
  positionState.value = 'waiting';
  watchId = navigator.geolocation.watchPosition(onFix, onFixError, { enableHighAccuracy: true, maximumAge: 15_000, timeout: 60_000 });
  timer = setInterval(tick, BATCH_MS);
}

/** @param {GeolocationPosition} pos */
function onFix(pos) {
  const fix = { lat: pos.coords.latitude, lon: pos.coords.longitude, accuracy_m: pos.coords.accuracy ?? null, at: Date.now() };
  lastFix.value = fix;
  const prev = buffer[buffer.length - 1];
  if (!prev || fix.at - prev.at >= MIN_GAP_MS) {
    buffer.push({ at: fix.at, lat: fix.lat, lon: fix.lon, ...(fix.accuracy_m !== null ? { accuracy_m: fix.accuracy_m } : {}) });
  }
  updateState();
}

/** @param {GeolocationPositionError} err */
function onFixError(err) {
  if (err.code === 1) positionState.value = 'denied';
  else positionState.value = lastFix.value ? 'no_fix' : 'waiting';
}

function tick() {
  const f = lastFix.value;
  // Standing still: the watch is silent. Ask, so dispatch keeps a fresh position.
  if (watchId !== null && (!f || Date.now() - f.at >= REFRESH_MS)) {
    navigator.geolocation.getCurrentPosition(onFix, onFixError, { enableHighAccuracy: true, maximumAge: 0, timeout: 30_000 });
  }
  sendBatch();
  updateState();
}

function updateState() {
  if (positionState.value === 'denied' || positionState.value === 'unsupported' || watchId === null) return;
  const f = lastFix.value;
  if (!f) positionState.value = 'waiting';
  else if (Date.now() - f.at > 2 * REFRESH_MS) positionState.value = 'no_fix';
  else positionState.value = connectionState.value === 'live' ? 'sharing' : 'queued';
}

function sendBatch() {
  const unitId = session.value?.unit_id;
  if (!unitId || buffer.length === 0) return;
  const pings = buffer;
  buffer = [];
  mutate('unit.report_location', { unit_id: unitId, pings }).catch(() => {
    buffer = pings.concat(buffer);
  });
}

/** Start/stop with the session, duty status and page visibility. */
export function startPositionSharing() {
  effect(() => {
    const onDuty = session.value?.unit_id && myUnit.value && myUnit.value.status !== 'off_duty';
    if (onDuty) start();
    else {
      stop();
      positionState.value = 'off';
    }
  });
  effect(() => {
    connectionState.value;
    pendingPositions.value;
    updateState();
  });
  addEventListener('pagehide', sendBatch);
}

/** Current position for a status or an alert, if we have a recent one. */
export function currentPosition() {
  const f = lastFix.value;
  return f && Date.now() - f.at < 5 * 60_000 ? { lat: f.lat, lon: f.lon } : null;
}

/** Distance in km (haversine). */
export function distanceKm(/** @type {number} */ lat1, /** @type {number} */ lon1, /** @type {number} */ lat2, /** @type {number} */ lon2) {
  const r = (/** @type {number} */ d) => (d * Math.PI) / 180;
  const a = Math.sin(r(lat2 - lat1) / 2) ** 2 + Math.cos(r(lat1)) * Math.cos(r(lat2)) * Math.sin(r(lon2 - lon1) / 2) ** 2;
  return 6371 * 2 * Math.asin(Math.sqrt(a));
}
