import { useState } from 'preact/hooks';
import { t, clock, typeLabel, ago, dateTime } from './i18n.js';
import { rev, now, openIncidents, recentlyClosed, incidentTypes, db, config, loaded } from './store.js';
import { panel, search, openIncident, toast } from './ui.js';
import { api } from '../shared/session.js';
import { IncidentDetail } from './IncidentDetail.jsx';
import { IncidentForm } from './IncidentForm.jsx';
import { UnitDetail } from './UnitDetail.jsx';

/** How far back "Closed earlier" reads (by call time). */
const EARLIER_DAYS = 7;

/** Right column: open incidents, one incident, or the create/edit form. */
export function IncidentPanel() {
  const p = panel.value;
  return (
    <aside class="console__incidents panel" aria-labelledby="incidents-title">
      {p.view === 'list' && <IncidentList />}
      {p.view === 'detail' && <IncidentDetail key={p.id} id={p.id} />}
      {p.view === 'form' && <IncidentForm key={p.id ?? 'new'} id={p.id} />}
      {p.view === 'unit' && <UnitDetail key={p.id} id={p.id} />}
    </aside>
  );
}

function IncidentList() {
  rev.value;
  const nowMs = now.value;
  const q = search.value.trim().toLowerCase();
  const types = incidentTypes.value;
  const target = config.value.response_target_min * 60_000;
  /** @param {any} i */
  const hit = (i) => !q || [i.number, i.address, i.description, typeLabel(types, i.type)].join(' ').toLowerCase().includes(q);
  const list = openIncidents.value.filter(hit);
  return (
    <>
      <h2 id="incidents-title" class="panel__title">
        {t('console.incidents')} <span class="count">{list.length}</span>
      </h2>
      {list.length === 0 && <p class="empty__title">{loaded.value ? t('console.no_incidents') : t('c.loading')}</p>}
      <ul class="incidents" data-testid="incident-list">
        {list.map((i) => {
          const units = [...db.assignment.values()].filter((a) => a.incident_id === i.id && ['pending', 'acknowledged', 'en_route', 'on_scene'].includes(a.state));
          const late = i.state === 'new' || i.state === 'dispatched' ? nowMs - i.call_received_at > target : false;
          return (
            <li key={i.id}>
              <button type="button" class={`incident incident--p${i.priority}`} data-incident-id={i.id} onClick={() => openIncident(i.id)}>
                <span class="incident__top">
                  <span class={`prio prio--${i.priority}`}>P{i.priority}</span>
                  <strong>{typeLabel(types, i.type)}</strong>
                  <span class="incident__num">{i.number}</span>
                </span>
                <span class="incident__addr">{i.address || '—'}</span>
                <span class="incident__meta">
                  {t(`istate.${i.state}`)} · {clock(i.call_received_at)} ({ago(i.call_received_at, nowMs)})
                  {late && <span class="badge badge--late"> {t('c.over_target')}</span>}
                </span>
                {units.length > 0 && (
                  <span class="incident__units">
                    {units.map((a) => `${db.unit.get(a.unit_id)?.call_sign ?? '?'} (${t(`astate.${a.state}`)})`).join(', ')}
                  </span>
                )}
              </button>
            </li>
          );
        })}
      </ul>
      <ClosedSections hit={hit} />
    </>
  );
}

/** One closed or cancelled incident in a list. @param {{i: any, types: any}} props */
function ClosedRow({ i, types }) {
  return (
    <li>
      <button type="button" class="incident incident--closed" data-incident-id={i.id} onClick={() => openIncident(i.id)}>
        <span class="incident__top">
          <strong>{typeLabel(types, i.type)}</strong>
          <span class="incident__num">{i.number}</span>
        </span>
        <span class="incident__addr">{i.address || '—'}</span>
        <span class="incident__meta">
          {t(`istate.${i.state}`)} · {dateTime(i.closed_at ?? i.call_received_at)}
        </span>
      </button>
    </li>
  );
}

/**
 * The live list holds what the desk snapshot holds: open incidents and those closed in the last
 * 24 h. Older ones are read over REST when the dispatcher asks.
 * @param {{hit: (i: any) => boolean}} props
 */
function ClosedSections({ hit }) {
  const [earlier, setEarlier] = useState(/** @type {any[] | null} */ (null));
  const [busy, setBusy] = useState(false);
  const types = incidentTypes.value;
  const recent = recentlyClosed.value.filter(hit);

  async function loadEarlier() {
    setBusy(true);
    try {
      // Closed in the last EARLIER_DAYS by close time (not call time), newest close first.
      const since = Date.now() - EARLIER_DAYS * 86_400_000;
      setEarlier(await api(`/api/incidents?closed=true&closed_since=${since}&limit=500`));
    } catch (err) {
      toast('error', /** @type {Error} */ (err).message);
    } finally {
      setBusy(false);
    }
  }
  const older = (earlier ?? []).filter((i) => !db.incident.has(i.id) && hit(i));

  return (
    <>
      <details class="closed-list" data-testid="closed-recent">
        <summary>
          {t('c.closed_recent')} <span class="count">{recent.length}</span>
        </summary>
        <ul class="incidents">
          {recent.map((i) => (
            <ClosedRow key={i.id} i={i} types={types} />
          ))}
        </ul>
      </details>
      <details class="closed-list" data-testid="closed-earlier" onToggle={(e) => e.currentTarget.open && earlier === null && !busy && loadEarlier()}>
        <summary>{t('c.closed_earlier')}</summary>
        <p class="hint">{t('c.closed_earlier_hint', { days: EARLIER_DAYS })}</p>
        {busy && <p class="hint">{t('c.loading')}</p>}
        {earlier !== null && older.length === 0 && <p class="hint">{t('c.none')}</p>}
        <ul class="incidents">
          {older.map((i) => (
            <ClosedRow key={i.id} i={i} types={types} />
          ))}
        </ul>
      </details>
    </>
  );
}
