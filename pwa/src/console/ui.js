/** Console UI state shared between panels. */
import { signal } from '@preact/signals';

/** Right panel: the open-incident list, one incident, the incident form, or one unit. */
/** @type {import('@preact/signals').Signal<{view: 'list'} | {view: 'detail', id: string} | {view: 'form', id: string | null} | {view: 'unit', id: string}>} */
export const panel = signal({ view: 'list' });
/** @type {import('@preact/signals').Signal<string | null>} */
export const selectedUnit = signal(null);
export const search = signal('');
export const conflictsOpen = signal(false);
/** The point being picked for the incident form (map click sets it). */
/** @type {import('@preact/signals').Signal<{lat: number, lon: number} | null>} */
export const formPoint = signal(null);
/** A map request: pan to this point. */
/** @type {import('@preact/signals').Signal<{lat: number, lon: number, at: number} | null>} */
export const focusPoint = signal(null);

/** @type {import('@preact/signals').Signal<Array<{id: number, kind: 'ok'|'error'|'warn', text: string}>>} */
export const toasts = signal([]);
let toastId = 0;
/** @param {'ok'|'error'|'warn'} kind @param {string} text */
export function toast(kind, text) {
  const id = ++toastId;
  toasts.value = [...toasts.value, { id, kind, text }];
  setTimeout(() => (toasts.value = toasts.value.filter((x) => x.id !== id)), kind === 'error' ? 10_000 : 5_000);
}

/** @param {string} id */
export function openIncident(id) {
  panel.value = { view: 'detail', id };
}

/** @param {string} id */
export function openUnit(id) {
  selectedUnit.value = id;
  panel.value = { view: 'unit', id };
}
