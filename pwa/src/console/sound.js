/**
 * Sounds generated with Web Audio (no audio files): a two-tone alarm that
 * repeats while an emergency alert is open, and a short beep for an
 * assignment not acknowledged in time. Browsers only start audio after a
 * user gesture: `unlockAudio()` runs on sign-in and on any click or key,
 * and `audioState` tells the UI whether sound can actually play.
 */
import { signal } from '@preact/signals';

/** 'running' | 'suspended' | 'unavailable' */
export const audioState = signal('suspended');
/** True while the alarm loop is sounding. */
export const alarmPlaying = signal(false);

/** @type {AudioContext | null} */
let ctx = null;
let alarmTimer = 0;

function context() {
  if (ctx) return ctx;
  const AC = globalThis.AudioContext ?? /** @type {any} */ (globalThis).webkitAudioContext;
  if (!AC) {
    audioState.value = 'unavailable';
    return null;
  }
  ctx = new AC();
  ctx.onstatechange = () => (audioState.value = ctx?.state ?? 'unavailable');
  audioState.value = ctx.state;
  return ctx;
}

export function unlockAudio() {
  const c = context();
  if (c && c.state !== 'running') c.resume().then(() => (audioState.value = c.state)).catch(() => {});
}

/**
 * @param {number} freq Hz @param {number} start s from now @param {number} length s @param {number} [gain]
 */
function tone(freq, start, length, gain = 0.25) {
  const c = context();
  if (!c || c.state !== 'running') return false;
  const osc = c.createOscillator();
  const amp = c.createGain();
  osc.type = 'square';
  osc.frequency.value = freq;
  const t0 = c.currentTime + start;
  amp.gain.setValueAtTime(0, t0);
  amp.gain.linearRampToValueAtTime(gain, t0 + 0.01);
  amp.gain.setValueAtTime(gain, t0 + length - 0.02);
  amp.gain.linearRampToValueAtTime(0, t0 + length);
  osc.connect(amp).connect(c.destination);
  osc.start(t0);
  osc.stop(t0 + length + 0.02);
  return true;
}

/** How many overdue beeps actually sounded (a DOM flag for tests and a record for the curious). */
export const beepCount = signal(0);

/** A short double beep (acknowledgement overdue). */
export function beep() {
  if (tone(880, 0, 0.12, 0.2)) {
    tone(880, 0.18, 0.12, 0.2);
    beepCount.value++;
  }
}

function alarmCycle() {
  tone(960, 0, 0.35);
  tone(640, 0.4, 0.35);
}

/** Start (or keep) the alarm loop; idempotent. */
export function startAlarm() {
  if (alarmTimer) return;
  alarmCycle();
  alarmTimer = setInterval(alarmCycle, 900);
  alarmPlaying.value = true;
}

export function stopAlarm() {
  clearInterval(alarmTimer);
  alarmTimer = 0;
  alarmPlaying.value = false;
}
