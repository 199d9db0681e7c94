import { useEffect, useState } from 'preact/hooks';
import { t, ago, clock, duration, hm, typeLabel } from './i18n.js';
import { api } from '../shared/session.js';
import { uuidv7 } from '../shared/ids.js';
import { db, rev, now, unitExtra, incidentTypes, openIncidents, assignmentsOf, assignmentsOfUnit, onChange, ACTIVE_ASSIGNMENT, startOfDay, unitHistory } from './store.js';
import { panel, focusPoint, openIncident } from './ui.js';
import { send } from './outcome.js';
import { STALE_MS } from './UnitBoard.jsx';

/** Incident timelines read per unit panel (the newest first). */
const MAX_TIMELINES = 12;

/** @param {{id: string}} props */
export function UnitDetail({ id }) {
  const [timelines, setTimelines] = useState(/** @type {any[] | null} */ (null));
  const [events, setEvents] = useState(/** @type {any[] | null} */ (null));
  rev.value;
  const nowMs = now.value;
  const u = db.unit.get(id);
  const since = startOfDay(nowMs);
  const todays = assignmentsOfUnit(id).filter((a) => a.assigned_at >= since || ACTIVE_ASSIGNMENT.has(a.state));
  const incidentIds = [...new Set(todays.map((a) => a.incident_id))].slice(-MAX_TIMELINES);
  const idsKey = incidentIds.join(',');

  useEffect(() => {
    let alive = true;
    let timer = /** @type {any} */ (0);
    const load = () => {
      Promise.all(incidentIds.map((i) => api(`/api/incidents/${i}`).catch(() => null))).then((list) => {
        if (alive) setTimelines(list.filter(Boolean));
      });
      // The unit's own status history (also the steps made outside any assignment).
      api(`/api/units/${id}/status-events?since=${since}`)
        .then((rows) => {
          if (alive) setEvents(rows.map((/** @type {any} */ e) => ({ ...e, unit_id: id })));
        })
        .catch(() => {});
    };
    load();
    const off = onChange((c) => {
      if ((c.entity === 'assignment' || c.entity === 'unit_status_event') && c.data?.unit_id === id) {
        clearTimeout(timer);
        timer = setTimeout(load, 300);
      }
    });
    return () => {
      alive = false;
      off();
      clearTimeout(timer);
    };
  }, [id, idsKey]);

  if (!u) return <p class="empty__title">{t('c.loading')}</p>;
  const extra = unitExtra.value.get(id);
  const crew = extra?.crew ?? [];
  const current = u.current_assignment_id ? db.assignment.get(u.current_assignment_id) : null;
  const inc = current ? db.incident.get(current.incident_id) : null;
  const stale = !u.last_position_at || nowMs - u.last_position_at > STALE_MS;
  const history = unitHistory(id, since, timelines ?? [], [...db.unit_status_event.values(), ...(events ?? [])], [...db.alert.values()]);
  const types = incidentTypes.value;

  return (
    <div class="detail" data-testid="unit-detail" data-unit-id={id}>
      <div class="detail__head">
        <button type="button" class="btn btn--quiet" onClick={() => (panel.value = { view: 'list' })} aria-keyshortcuts="Escape">
          ← {t('c.back')}
        </button>
        <h2 id="incidents-title" class="detail__title">
          {u.call_sign}{' '}
          <span class={`pill pill--${u.status}`} data-testid="unit-detail-status">
            {t(`status.${u.status}`)}
          </span>
        </h2>
      </div>
      <dl class="facts">
        <dt>{t('c.time_in_status')}</dt>
        <dd>{duration(u.status_at, nowMs)}</dd>
        <dt>{t('c.station')}</dt>
        <dd>{extra?.org_unit_code ?? '—'}</dd>
        <dt>{t('c.crew')}</dt>
        <dd data-testid="unit-crew">
          {crew.length === 0 ? t('c.no_crew') : crew.map((/** @type {any} */ c) => c.full_name).join(', ')}
        </dd>
        {extra?.next_crew?.length > 0 && (
          <>
            <dt>{t('c.next_crew')}</dt>
            <dd data-testid="unit-next-crew">
              {t('c.next_crew_from', { time: hm(extra.next_shift_starts_at), names: extra.next_crew.map((/** @type {any} */ c) => c.full_name).join(', ') })}
            </dd>
          </>
        )}
        <dt>{t('c.position')}</dt>
        <dd class={stale ? 'unit__pos--stale' : ''} data-testid="unit-position-age">
          {u.last_position_at ? t('c.position_age', { ago: ago(u.last_position_at, nowMs) }) : t('c.no_position')}
          {stale && u.last_position_at ? ` · ${t('c.stale')}` : ''}
          {u.last_lat != null && (
            <button type="button" class="link" onClick={() => (focusPoint.value = { lat: u.last_lat, lon: u.last_lon, at: Date.now() })}>
              {' '}
              {t('c.show_on_map')}
            </button>
          )}
        </dd>
        <dt>{t('c.current_assignment')}</dt>
        <dd data-testid="unit-current">
          {current && inc ? (
            <button type="button" class="link" onClick={() => openIncident(inc.id)}>
              {inc.number} · {typeLabel(types, inc.type)} · {t(`astate.${current.state}`)}
            </button>
          ) : (
            t('c.none')
          )}
        </dd>
      </dl>

      <AssignTo unitId={id} callSign={u.call_sign} busy={!!current} />

      <section aria-labelledby="hist-title">
        <h3 id="hist-title" class="section__title">
          {t('c.history_today')}
        </h3>
        {timelines === null && <p class="hint">{t('c.loading')}</p>}
        {timelines !== null && history.length === 0 && <p class="hint">{t('c.no_history')}</p>}
        <ol class="history" data-testid="unit-history">
          {history.map((h, i) => (
            <li key={`${h.kind}${h.at}${i}`} data-kind={h.kind}>
              <time>{clock(h.at)}</time>
              <strong>{h.kind === 'emergency' ? t('c.emergency') : t(`tl.${h.kind}`) === `tl.${h.kind}` ? t(`status.${h.kind}`) : t(`tl.${h.kind}`)}</strong>
              {h.kind === 'note' && h.text && <span class="prewrap"> — {h.text}</span>}
              {h.incident_id && (
                <>
                  {' · '}
                  <button type="button" class="link" onClick={() => openIncident(/** @type {string} */ (h.incident_id))}>
                    {h.number}
                  </button>
                </>
              )}
            </li>
          ))}
        </ol>
      </section>
    </div>
  );
}

/** "Assign to incident…": open incidents, highest priority first. @param {{unitId: string, callSign: string, busy: boolean}} props */
function AssignTo({ unitId, callSign, busy }) {
  const [open, setOpen] = useState(false);
  const types = incidentTypes.value;
  const list = openIncidents.value;

  /** @param {SubmitEvent} e */
  async function submit(e) {
    e.preventDefault();
    const incidentId = String(new FormData(/** @type {HTMLFormElement} */ (e.currentTarget)).get('incident'));
    const additional = assignmentsOf(incidentId).some((a) => ACTIVE_ASSIGNMENT.has(a.state));
    const entry = await send('assignment.create', { assignment_id: uuidv7(), incident_id: incidentId, unit_id: unitId, additional }, null, t('c.assigned_ok', { unit: callSign }));
    if (entry) {
      setOpen(false);
      openIncident(incidentId);
    }
  }

  return (
    <div class="actions">
      <button type="button" class="btn" data-testid="assign-to-incident" onClick={() => setOpen(!open)} aria-expanded={open}>
        {t('c.assign_to_incident')}
      </button>
      {open && (
        <form class="inline-form" onSubmit={submit} data-testid="assign-form">
          {busy && <p class="hint">{t('c.unit_busy_warning')}</p>}
          <label>
            {t('c.incident')}
            <select name="incident" required>
              {list.map((i) => (
                <option key={i.id} value={i.id}>
                  P{i.priority} · {i.number} · {typeLabel(types, i.type)} · {i.address || '—'}
                </option>
              ))}
            </select>
          </label>
          <button class="btn btn--primary btn--small" type="submit" disabled={list.length === 0}>
            {t('c.assign')}
          </button>
        </form>
      )}
    </div>
  );
}
