import { Fragment } from 'preact';
import { useEffect, useState, useCallback } from 'preact/hooks';
import { t, clock, dateTime, typeLabel, ago } from './i18n.js';
import { api } from '../shared/session.js';
import { uuidv7 } from '../shared/ids.js';
import { rev, now, db, incidentTypes, config, onChange, ACTIVE_ASSIGNMENT, assignmentsOf, unitList } from './store.js';
import { panel, focusPoint, toast } from './ui.js';
import { send } from './outcome.js';
import { connectionState } from '../shared/sync-status.js';
import { language } from '../shared/prefs.js';
import { ConfirmButton } from './ConfirmButton.jsx';

export const OUTCOMES = ['resolved', 'report_filed', 'arrest', 'fine_issued', 'warning', 'no_offence', 'person_found', 'handed_over', 'referred', 'false_alarm'];
export const CANCEL_OUTCOMES = ['cancelled_by_caller', 'duplicate', 'resolved_before_arrival'];

/** @param {{id: string}} props */
export function IncidentDetail({ id }) {
  const [detail, setDetail] = useState(/** @type {any} */ (null));
  const [recs, setRecs] = useState(/** @type {any[] | null | 'failed'} */ (null));
  const [caller, setCaller] = useState(/** @type {any} */ (null));
  const [closing, setClosing] = useState(false);

  const load = useCallback(async () => {
    try {
      setDetail(await api(`/api/incidents/${id}`));
    } catch {
      // No raw "Failed to fetch": say what is missing; the reconnect reloads it.
      toast('error', t('c.detail_failed'));
    }
  }, [id]);
  const loadRecs = useCallback(async () => {
    try {
      setRecs(await api(`/api/incidents/${id}/recommendations`));
    } catch {
      setRecs('failed'); // not "no unit is available": we do not know
    }
  }, [id]);
  // Back online: what could not be read while the link was down is read again.
  const link = connectionState.value;
  useEffect(() => {
    if (link === 'live') {
      if (recs === 'failed') loadRecs();
      if (detail === null) load();
    }
  }, [link]);

  useEffect(() => {
    load();
    loadRecs();
    let t1 = 0;
    let t2 = 0;
    const off = onChange((c) => {
      const d = c.data ?? {};
      if (c.entity_id === id || d.incident_id === id) {
        clearTimeout(t1);
        t1 = setTimeout(load, 100);
      }
      if (c.entity === 'unit' || c.entity === 'assignment') {
        clearTimeout(t2);
        t2 = setTimeout(loadRecs, 250);
      }
    });
    return () => {
      off();
      clearTimeout(t1);
      clearTimeout(t2);
    };
  }, [id]);

  rev.value;
  const nowMs = now.value;
  // The replica is live; the REST detail fills in what the replica lacks (timeline).
  const inc = db.incident.get(id) ?? detail?.incident;
  if (!inc) return <p class="empty__title">{t('c.loading')}</p>;
  const types = incidentTypes.value;
  // An incident older than the desk snapshot (opened from "Closed earlier") is read over REST only.
  const assignments = db.incident.has(id) ? assignmentsOf(id) : (detail?.assignments ?? []);
  const active = assignments.filter((a) => ACTIVE_ASSIGNMENT.has(a.state));
  const open = !['closed', 'cancelled'].includes(inc.state);
  const ackLimit = config.value.ack_timeout_s * 1000;

  /** @param {string} unitId @param {boolean} additional */
  async function assign(unitId, additional) {
    const call = db.unit.get(unitId)?.call_sign ?? '';
    const entry = await send('assignment.create', { assignment_id: uuidv7(), incident_id: id, unit_id: unitId, additional }, null, t('c.assigned_ok', { unit: call }));
    entry?.result.then(loadRecs);
  }

  /** The per-incident export (EIDO-like JSON, no personal data), saved as a file. */
  async function exportIncident() {
    try {
      const doc = await api(`/api/analytics/incidents/${id}/export?locale=${encodeURIComponent(language.value)}`);
      const url = URL.createObjectURL(new Blob([JSON.stringify(doc, null, 2)], { type: 'application/json' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = `incident-${inc?.number ?? id}.json`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch {
      toast('error', t('c.export_failed'));
    }
  }

  async function showCaller() {
    try {
      setCaller(await api(`/api/incidents/${id}/caller`));
    } catch (err) {
      toast('error', /** @type {Error} */ (err).message);
    }
  }

  return (
    <div class="detail" data-testid="incident-detail" data-incident-id={id}>
      <div class="detail__head">
        <button type="button" class="btn btn--quiet" onClick={() => (panel.value = { view: 'list' })} aria-keyshortcuts="Escape">
          ← {t('c.back')}
        </button>
        <h2 id="incidents-title" class="detail__title">
          <span class={`prio prio--${inc.priority}`}>P{inc.priority}</span> {typeLabel(types, inc.type)}
        </h2>
      </div>
      <p class="detail__num">
        {inc.number} · <span data-testid="incident-state">{t(`istate.${inc.state}`)}</span> · {t(`source.${inc.source}`)}{' '}
        <button type="button" class="btn btn--small" data-testid="incident-export" onClick={exportIncident}>
          {t('c.export', { format: 'JSON' })}
        </button>
      </p>
      <dl class="facts">
        <dt>{t('c.call_received')}</dt>
        <dd>
          {dateTime(inc.call_received_at)} ({ago(inc.call_received_at, nowMs)})
        </dd>
        <dt>{t('c.address')}</dt>
        <dd>
          {inc.address || '—'}
          {inc.lat != null && (
            <>
              {' · '}
              <button type="button" class="link" onClick={() => (focusPoint.value = { lat: inc.lat, lon: inc.lon, at: Date.now() })}>
                {t('c.show_on_map')}
              </button>
            </>
          )}
        </dd>
        <dt>{t('c.description')}</dt>
        <dd class="prewrap">{inc.description || '—'}</dd>
        {inc.hazards && (
          <>
            <dt>{t('c.hazards')}</dt>
            <dd class="hazards">{inc.hazards}</dd>
          </>
        )}
        {inc.outcome && (
          <>
            <dt>{t('c.outcome')}</dt>
            <dd>{t(`outcome.${inc.outcome}`) === `outcome.${inc.outcome}` ? inc.outcome : t(`outcome.${inc.outcome}`)}</dd>
          </>
        )}
        <dt>{t('c.caller')}</dt>
        <dd>
          {caller ? (
            <span data-testid="caller">
              {caller.caller_name || '—'} · {caller.caller_phone || '—'}
            </span>
          ) : (
            <button type="button" class="link" onClick={showCaller} title={t('c.caller_audited')}>
              {t('c.show_caller')}
            </button>
          )}
        </dd>
      </dl>
      {detail?.open_conflicts > 0 && <p class="badge badge--warn">{t('c.open_conflicts', { count: detail.open_conflicts })}</p>}

      {open && (
        <div class="actions">
          <button type="button" class="btn" onClick={() => (panel.value = { view: 'form', id })}>
            {t('c.edit')}
          </button>
          <button type="button" class="btn" onClick={() => setClosing(!closing)} aria-expanded={closing}>
            {t('c.close_incident')}
          </button>
        </div>
      )}
      {closing && open && <CloseForm id={id} onDone={() => setClosing(false)} />}

      <section aria-labelledby="asg-title">
        <h3 id="asg-title" class="section__title">
          {t('c.assignments')}
        </h3>
        {assignments.length === 0 && <p class="hint">{t('c.no_assignments')}</p>}
        <ul class="assignments" data-testid="assignments">
          {assignments.map((a) => {
            const overdue = a.state === 'pending' && nowMs - a.assigned_at > ackLimit;
            return (
              <AssignmentRow key={a.id} a={a} overdue={overdue} nowMs={nowMs} />
            );
          })}
        </ul>
      </section>

      {open && (
        <section aria-labelledby="rec-title">
          <h3 id="rec-title" class="section__title">
            {t('c.recommended')}
          </h3>
          {recs === null && <p class="hint">{t('c.loading')}</p>}
          {recs === 'failed' && (
            <p class="hint" data-testid="recs-failed">
              {t('c.recs_failed')}{' '}
              <button type="button" class="btn btn--small" onClick={loadRecs}>
                {t('c.retry')}
              </button>
            </p>
          )}
          {Array.isArray(recs) && recs.length === 0 && <p class="hint">{t('c.no_available')}</p>}
          <ol class="recs" data-testid="recommendations">
            {(Array.isArray(recs) ? recs : []).map((r, i) => (
              <li key={r.unit_id} class="rec" data-unit-id={r.unit_id} data-call-sign={r.call_sign}>
                <span class="rec__call">{r.call_sign}</span>
                <span class="rec__why" title={r.reason} data-reason-code={r.reason_code}>
                  {recReason(r)}
                </span>
                <button type="button" class={i === 0 && active.length === 0 ? 'btn btn--primary' : 'btn'} onClick={() => assign(r.unit_id, active.length > 0)}>
                  {active.length > 0 ? t('c.add_unit') : t('c.assign')}
                </button>
              </li>
            ))}
          </ol>
        </section>
      )}

      {(detail?.reports ?? []).length > 0 && (
        <section aria-labelledby="rep-title" data-testid="reports">
          <h3 id="rep-title" class="section__title">
            {t('report.title')}
          </h3>
          {detail.reports.map((/** @type {any} */ r) => (
            <Report key={r.id} report={r} />
          ))}
        </section>
      )}

      <section aria-labelledby="tl-title">
        <h3 id="tl-title" class="section__title">
          {t('c.timeline')}
        </h3>
        <ol class="timeline" data-testid="timeline">
          {(detail?.timeline ?? []).map((e, i) => (
            <li key={i} class={`tl tl--${e.kind}${e.late ? ' tl--late' : ''}`} data-kind={e.kind}>
              <time>{clock(e.at)}</time> <strong>{t(`tl.${e.kind}`)}</strong>
              {e.call_sign && <span> · {e.call_sign}</span>}
              {e.by && <span class="hint"> · {e.by}</span>}
              {e.text && <span class="prewrap"> — {e.kind === 'closed' ? outcomeText(e.text) : e.text}</span>}
              {e.late && <span class="badge badge--late"> {t('c.late')}</span>}
              {flagTexts(e.flags).map((text) => (
                <span class="badge badge--warn" title={JSON.stringify(e.flags)}> {text}</span>
              ))}
            </li>
          ))}
        </ol>
      </section>
    </div>
  );
}

/** A closing outcome's words (the timeline carries its code, e.g. `report_filed`). @param {string} code */
function outcomeText(code) {
  const key = `outcome.${code}`;
  const text = t(key);
  return text === key ? code : text;
}

const REPORT_TEXTS = ['summary', 'actions_taken', 'vehicles', 'evidence'];

/**
 * A field report as the crew wrote it. The persons named in it are personal data: shown
 * only on request, and every view is recorded in the audit trail (as the caller's are).
 * @param {{report: any}} props
 */
function Report({ report }) {
  const [persons, setPersons] = useState(/** @type {string | null | undefined} */ (undefined));
  const unit = report.unit_id ? db.unit.get(report.unit_id)?.call_sign : null;
  async function showPersons() {
    try {
      const r = await api(`/api/reports/${report.id}/persons`);
      setPersons(r.persons ?? null);
    } catch (err) {
      toast('error', /** @type {Error} */ (err).message);
    }
  }
  return (
    <article class="report" data-testid="report" data-report-id={report.id}>
      <p class="hint">
        {unit ? `${unit} · ` : ''}
        {clock(report.updated_at)}
      </p>
      <dl class="facts">
        {REPORT_TEXTS.filter((f) => report[f]).map((f) => (
          <Fragment key={f}>
            <dt>{t(`report.${f}`)}</dt>
            <dd class="prewrap" data-field={f}>
              {report[f]}
            </dd>
          </Fragment>
        ))}
        <dt>{t('report.persons')}</dt>
        <dd>
          {persons === undefined ? (
            <button type="button" class="btn btn--small" data-testid="show-persons" onClick={showPersons} title={t('c.caller_audited')}>
              {t('c.show_persons')}
            </button>
          ) : (
            <span class="prewrap" data-testid="persons">{persons ?? '—'}</span>
          )}
        </dd>
      </dl>
    </article>
  );
}

/** The recommendation's reason in the dispatcher's language, from the server's `reason_code`. @param {any} r */
function recReason(r) {
  const d = r.distance_m == null ? '' : fmtDistance(r.distance_m);
  if (r.reason_code === 'declined') {
    const where = r.distance_m == null ? t('c.rec_no_position') : t('c.rec_distance', { d });
    return (
      <>
        {where} <span class="badge badge--declined">{t('c.rec_declined')}</span>
      </>
    );
  }
  if (r.reason_code === 'no_position' || r.distance_m == null) return t('c.rec_no_position');
  if (r.reason_code === 'stale_position') {
    return (
      <>
        {t('c.rec_distance', { d })} <span class="badge badge--stale">{t('c.rec_stale', { min: Math.round((r.position_age_s ?? 0) / 60) })}</span>
      </>
    );
  }
  return t('c.rec_distance', { d });
}

/** @param {number} m */
export function fmtDistance(m) {
  // "2,0 km" in Serbian and Slovenian, "2,0 км" in Cyrillic: the decimal sign and the unit are the language's.
  const f = (/** @type {number} */ n, /** @type {string} */ unit, /** @type {number} */ digits) =>
    new Intl.NumberFormat(language.value, { style: 'unit', unit, minimumFractionDigits: digits, maximumFractionDigits: digits }).format(n);
  return m >= 1000 ? f(m / 1000, 'kilometer', 1) : f(Math.round(m), 'meter', 0);
}

/** @param {{a: any, overdue: boolean, nowMs: number}} props */
function AssignmentRow({ a, overdue, nowMs }) {
  const [mode, setMode] = useState(/** @type {'' | 'reassign'} */ (''));
  const unit = db.unit.get(a.unit_id);
  const active = ACTIVE_ASSIGNMENT.has(a.state);
  const candidates = unitList.value.filter((u) => u.id !== a.unit_id && u.status !== 'off_duty');

  /** @param {SubmitEvent} e */
  async function reassign(e) {
    e.preventDefault();
    const data = new FormData(/** @type {HTMLFormElement} */ (e.currentTarget));
    const unitId = String(data.get('unit'));
    const reason = String(data.get('reason') || '') || undefined;
    const entry = await send('assignment.reassign', { assignment_id: a.id, new_assignment_id: uuidv7(), unit_id: unitId, reason }, null, t('c.reassigned_ok'));
    if (entry) setMode('');
  }
  return (
    <li class={`asg asg--${a.state}${overdue ? ' asg--overdue' : ''}`} data-assignment-id={a.id} data-state={a.state} data-overdue={overdue ? 'true' : 'false'}>
      <div class="asg__row">
        <strong>{unit?.call_sign ?? '?'}</strong>
        <span class={`pill pill--a-${a.state}`} data-testid="assignment-state">
          {t(`astate.${a.state}`)}
        </span>
        <span class="hint">
          {t('c.assigned_at', { time: clock(a.assigned_at) })}
          {a.acknowledged_at ? ` · ${t('c.acked_at', { time: clock(a.acknowledged_at) })}` : ''}
        </span>
        {a.is_primary === 0 && <span class="badge">{t('c.second_unit')}</span>}
      </div>
      {overdue && (
        <p class="asg__overdue" role="alert">
          {t('c.not_acked', { time: ago(a.assigned_at, nowMs) })}
        </p>
      )}
      {a.decline_reason && <p class="hint">{t('c.declined_because', { reason: a.decline_reason })}</p>}
      {active && (
        <div class="actions">
          <button type="button" class="btn btn--small" onClick={() => setMode(mode ? '' : 'reassign')} aria-expanded={mode === 'reassign'}>
            {t('c.reassign')}
          </button>
          <ConfirmButton
            label={t('c.cancel_assignment')}
            question={t('c.cancel_confirm', { unit: unit?.call_sign ?? '' })}
            onConfirm={() => send('assignment.cancel', { assignment_id: a.id }, null, t('c.cancelled_ok'))}
          />
        </div>
      )}
      {mode === 'reassign' && (
        <form class="inline-form" onSubmit={reassign}>
          <label>
            {t('c.reassign_to')}
            <select name="unit" required>
              {candidates.map((u) => (
                <option key={u.id} value={u.id}>
                  {u.call_sign} — {t(`status.${u.status}`)}
                </option>
              ))}
            </select>
          </label>
          <label>
            {t('c.reason')}
            <input name="reason" maxLength={500} />
          </label>
          <button class="btn btn--primary btn--small" type="submit">
            {t('c.reassign')}
          </button>
        </form>
      )}
    </li>
  );
}

/** @param {{id: string, onDone: () => void}} props */
function CloseForm({ id, onDone }) {
  const [cancelled, setCancelled] = useState(false);
  /** @param {SubmitEvent} e */
  async function submit(e) {
    e.preventDefault();
    const data = new FormData(/** @type {HTMLFormElement} */ (e.currentTarget));
    const outcome = String(data.get('outcome') || '') || null;
    const entry = await send('incident.close', { incident_id: id, outcome, cancelled }, null, t('c.closed_ok'));
    if (entry) {
      onDone();
      panel.value = { view: 'list' };
    }
  }
  const list = cancelled ? CANCEL_OUTCOMES : OUTCOMES;
  return (
    <form class="inline-form" onSubmit={submit} data-testid="close-form">
      <label class="check">
        <input type="checkbox" checked={cancelled} onChange={(e) => setCancelled(e.currentTarget.checked)} /> {t('c.cancel_instead')}
      </label>
      <label>
        {t('c.outcome')}
        <select name="outcome" required>
          {list.map((o) => (
            <option key={o} value={o}>
              {t(`outcome.${o}`)}
            </option>
          ))}
        </select>
      </label>
      <button class="btn btn--primary" type="submit">
        {cancelled ? t('c.cancel_incident') : t('c.close_incident')}
      </button>
    </form>
  );
}


/**
 * What the sync layer noted about an event's time, in words (offline and synced later,
 * clamped device clock); other markers are left to the raw title.
 * @param {Record<string, any> | null | undefined} flags @returns {string[]}
 */
export function flagTexts(flags) {
  if (!flags || typeof flags !== 'object') return [];
  const out = [];
  if (flags.offline) out.push(t('c.flag_offline', { n: Math.max(1, Math.round((flags.sync_delay_ms ?? 0) / 60_000)) }));
  if (flags.clamped === 'future') out.push(t('c.flag_clamped_future'));
  if (flags.clamped === 'before_call') out.push(t('c.flag_clamped_before_call'));
  if (flags.clamped === 'device_order') out.push(t('c.flag_clamped_device_order'));
  return out;
}
