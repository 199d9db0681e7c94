/**
 * A new assignment arriving while the app is open makes the phone vibrate once (the push
 * notification does it when the app is closed). No sound: a patrol at night may need to
 * stay quiet, and the assignment card is on screen anyway.
 */
import { effect } from '@preact/signals';
import { activeAssignments } from './state.js';
import { newsAmong } from './attention-rule.js';
import { serverNow } from '../../shared/clock.js';
import { readLocal, writeLocal } from '../../shared/storage.js';
import { VIBRATION } from '../../shared/vibration.js';

const KEY = 'patrol.announcedAssignments';

function load() {
  try {
    const v = JSON.parse(readLocal(KEY) ?? '[]');
    return Array.isArray(v) ? v.filter((x) => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

export function startAttention() {
  effect(() => {
    const { news, announced } = newsAmong(activeAssignments.value, load(), serverNow());
    if (news.length === 0) return;
    writeLocal(KEY, JSON.stringify(announced));
    navigator.vibrate?.(VIBRATION);
  });
}
