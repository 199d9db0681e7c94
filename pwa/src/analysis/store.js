/** Page-wide filters and reference data (signals every tab reads). */
import { signal } from '@preact/signals';
import { api } from './api.js';
import { addDays, today } from './dates.js';

/** The reporting period, local dates, both inclusive. Default: the last 4 weeks. */
export const fromDate = signal(addDays(today(), -27));
export const toDate = signal(today());
/** Station filter: an org unit id, or '' for the whole scope. */
export const station = signal('');
export const tab = signal(/** @type {'response'|'availability'|'demand'|'track'|'shifts'} */ ('response'));

/** @type {import('@preact/signals').Signal<Array<{id: string, code: string, name: string, kind: string, path: string}>>} */
export const orgUnits = signal([]);
/** @type {import('@preact/signals').Signal<Array<{id: string, call_sign: string, org_unit_id: string}>>} */
export const units = signal([]);
export const targetDefault = signal(15);

export async function loadReference() {
  const [orgs, us, config] = await Promise.all([
    api('/api/org-units'),
    api('/api/units'),
    api('/api/config').catch(() => null),
  ]);
  orgUnits.value = orgs ?? [];
  units.value = (us ?? []).slice().sort((/** @type {any} */ a, /** @type {any} */ b) => a.call_sign.localeCompare(b.call_sign));
  if (config?.response_target_min) targetDefault.value = config.response_target_min;
  tileUrl.value = config?.tile_url ?? '';
}

export const tileUrl = signal('');

/** Units of the selected station (all units in scope when none is selected). */
export function unitsOfStation() {
  const s = station.value;
  if (!s) return units.value;
  const org = orgUnits.value.find((o) => o.id === s);
  const inside = new Set(orgUnits.value.filter((o) => org && o.path.startsWith(org.path)).map((o) => o.id));
  return units.value.filter((u) => inside.has(u.org_unit_id));
}

/** Common query parameters: the period and the station. */
export function periodParams() {
  return { from: fromDate.value, to: toDate.value, org_unit: station.value || undefined };
}
