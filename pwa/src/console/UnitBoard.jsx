import { useState } from 'preact/hooks';
import { t, ago, duration, hm } from './i18n.js';
import { db, rev, now, unitList, unitExtra, orgUnits, openAlerts, loaded } from './store.js';
import { search, selectedUnit, focusPoint, openIncident, openUnit } from './ui.js';

export const STATUSES = ['available', 'en_route', 'on_scene', 'busy', 'off_duty'];
/** Positions older than this are marked stale (the server's recommendation rule too). */
export const STALE_MS = 10 * 60_000;

/** @param {any} u @param {string} q @param {any} x the unit's crews (GET /api/units) */
function matches(u, q, x) {
  if (!q) return true;
  const people = [...(x?.crew ?? []), ...(x?.next_crew ?? [])];
  const hay = [u.call_sign, ...people.map((/** @type {any} */ c) => c.full_name)].join(' ').toLowerCase();
  return hay.includes(q);
}

export function UnitBoard() {
  const [station, setStation] = useState('');
  const [status, setStatus] = useState('');
  rev.value;
  const nowMs = now.value;
  const extra = unitExtra.value;
  const q = search.value.trim().toLowerCase();
  const alarmed = new Set(openAlerts.value.map((a) => a.unit_id));
  const stations = orgUnits.value.filter((o) => o.kind !== 'directorate');
  // Off-duty units go last (in their own order): the crews on duty are what a dispatcher scans.
  const units = unitList.value
    .filter((u) => (!station || u.org_unit_id === station) && (!status || u.status === status) && matches(u, q, extra.get(u.id)))
    .sort((a, b) => Number(a.status === 'off_duty') - Number(b.status === 'off_duty'));
  const counts = Object.fromEntries(STATUSES.map((s) => [s, unitList.value.filter((u) => u.status === s).length]));

  return (
    <aside class="console__units panel" aria-labelledby="units-title">
      <h2 id="units-title" class="panel__title">
        {t('console.units')} <span class="count">{units.length}</span>
      </h2>
      <div class="filters">
        <label>
          <span class="visually-hidden">{t('c.filter_station')}</span>
          <select data-testid="filter-station" value={station} onChange={(e) => setStation(e.currentTarget.value)}>
            <option value="">{t('c.all_stations')}</option>
            {stations.map((o) => (
              <option key={o.id} value={o.id}>
                {o.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span class="visually-hidden">{t('c.filter_status')}</span>
          <select data-testid="filter-status" value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
            <option value="">{t('c.all_statuses')}</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {t(`status.${s}`)} ({counts[s]})
              </option>
            ))}
          </select>
        </label>
      </div>
      {units.length === 0 && <p class="empty__title">{loaded.value ? t('console.no_units') : t('c.loading')}</p>}
      <ul class="board" data-testid="unit-board">
        {units.map((u) => {
          const x = extra.get(u.id);
          const a = u.current_assignment_id ? db.assignment.get(u.current_assignment_id) : null;
          const inc = a ? db.incident.get(a.incident_id) : null;
          // A stale position is a warning only for a unit on duty; off duty nobody shares one.
          const stale = u.status !== 'off_duty' && (!u.last_position_at || nowMs - u.last_position_at > STALE_MS);
          const st = alarmed.has(u.id) ? 'emergency' : u.status;
          return (
            <li
              key={u.id}
              class={`unit${selectedUnit.value === u.id ? ' unit--selected' : ''}`}
              data-unit-id={u.id}
              data-call-sign={u.call_sign}
              data-status={u.status}
            >
              <button
                type="button"
                class="unit__main"
                data-testid="unit-open"
                onClick={() => {
                  openUnit(u.id);
                  if (u.last_lat != null) focusPoint.value = { lat: u.last_lat, lon: u.last_lon, at: Date.now() };
                }}
              >
                <span class="unit__call">{u.call_sign}</span>
                <span class={`pill pill--${st}`} data-testid="unit-status">
                  {t(`status.${st}`)}
                </span>
                <span class="unit__time" title={t('c.time_in_status')}>
                  {duration(u.status_at, nowMs)}
                </span>
              </button>
              <div class="unit__meta">
                <span class={stale ? 'unit__pos unit__pos--stale' : 'unit__pos'} data-testid="position-age">
                  {u.last_position_at ? t('c.position_age', { ago: ago(u.last_position_at, nowMs) }) : t('c.no_position')}
                  {stale && u.last_position_at ? ` · ${t('c.stale')}` : ''}
                </span>
                {x?.org_unit_code && <span class="unit__station">{x.org_unit_code}</span>}
              </div>
              {inc && (
                <button type="button" class="unit__assignment link" data-testid="unit-assignment" onClick={() => openIncident(inc.id)}>
                  {inc.number} · {t(`astate.${a.state}`)}
                </button>
              )}
              {x?.crew?.length > 0 && <p class="unit__crew">{x.crew.map((/** @type {any} */ c) => c.full_name).join(', ')}</p>}
              {x?.next_crew?.length > 0 && (
                <p class="unit__crew unit__crew--next" data-testid="unit-next-crew">
                  {t('c.next_crew')} {t('c.next_crew_from', { time: hm(x.next_shift_starts_at), names: x.next_crew.map((/** @type {any} */ c) => c.full_name).join(', ') })}
                </p>
              )}
            </li>
          );
        })}
      </ul>
    </aside>
  );
}
