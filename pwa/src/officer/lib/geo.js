/**
 * Position sharing while on duty and while the app is open: watchPosition,
 * pings batched into one `unit.report_location` every ~30 s (through the
 * outbox, so offline positions are queued, not lost), and an honest state.
 *
 * positionState: 'off' (off duty / signed out) | 'unsupported' | 'denied'
 *   | 'waiting' (no fix yet) | 'sharing' | 'queued' (fixes stored, no link)
 */
import { signal, effect } from '@preact/signals';
import { mutate, pendingPositions } from '../../shared/sync.js';
import { session } from '../../shared/session.js';
import { connectionState } from '../../shared/sync-status.js';
import { myUnit } from './state.js';

const BATCH_MS = 30_000;
const MIN_GAP_MS = 5_000; // keep at most one ping per 5 s

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
  watchId = navigator.geolocation.watchPosition(
    (pos) => {
      const fix = { lat: pos.coords.latitude, lon: pos.coords.longitude, accuracy_m: pos.coords.accuracy ?? null, at: Date.now() };
      lastFix.value = fix;
      const prev = buffer[buffer.length - 1];
      if (!prev || fix.at - prev.at >= MIN_GAP_MS) {
        buffer.push({ at: fix.at, lat: fix.lat, lon: fix.lon, ...(fix.accuracy_m !== null ? { accuracy_m: fix.accuracy_m } : {}) });
      }
      updateState();
    },
    (err) => {
      positionState.value = err.code === 1 ? 'denied' : 'waiting';
    },
    { enableHighAccuracy: true, maximumAge: 15_000, timeout: 60_000 },
  );
  timer = setInterval(sendBatch, BATCH_MS);
}

function updateState() {
  if (positionState.value === 'denied' || positionState.value === 'unsupported' || watchId === null) return;
  if (!lastFix.value) positionState.value = 'waiting';
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
