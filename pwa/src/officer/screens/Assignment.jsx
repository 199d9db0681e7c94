import { signal, useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { t, language } from '../../shared/prefs.js';
import { session, api } from '../../shared/session.js';
import { mutate } from '../../shared/sync.js';
import { getMeta, setMeta } from '../../shared/db.js';
import { connectionState } from '../../shared/sync-status.js';
import { EmptyState } from '../../shared/ui/EmptyState.jsx';
import { currentAssignment, currentIncident, typeLabel, myUnit, focusAssignmentId, notesFor } from '../lib/state.js';
import { lastFix, distanceKm } from '../lib/geo.js';
import { setStatus } from './Home.jsx';
import { hhmm } from '../ui/format.js';

/** Server detail (timeline) per incident, cached for offline. @type {import('@preact/signals').Signal<Record<string, any>>} */
const details = signal({});

/** @param {string} incidentId */
async function loadDetail(incidentId) {
  const cached = await getMeta(`detail:${incidentId}`).catch(() => null);
  if (cached && !details.value[incidentId]) details.value = { ...details.value, [incidentId]: cached };
  try {
    const fresh = await api(`/api/incidents/${encodeURIComponent(incidentId)}`);
    const { incident, ...rest } = fresh;
    const slim = { ...rest, incident: { ...incident, caller_name: undefined, caller_phone: undefined } };
    details.value = { ...details.value, [incidentId]: slim };
    await setMeta(`detail:${incidentId}`, slim);
  } catch {
    /* offline: the cached copy (if any) stays */
  }
}

export function Assignment() {
  const asg = currentAssignment.value;
  const inc = currentIncident.value;
  const declining = useSignal(false);
  const reason = useSignal('');
  const caller = useSignal(/** @type {null | {caller_name: string | null, caller_phone: string | null} | 'error' | 'loading'} */ (null));
  const live = connectionState.value === 'live';
  const incidentId = asg?.incident_id;
  const noteCount = notesFor(incidentId).length;

  useEffect(() => {
    if (incidentId) loadDetail(incidentId);
  }, [incidentId, live, asg?.state, noteCount]);

  if (!asg) {
    return (
      <section class="screen" aria-labelledby="assignment-title">
        <h2 id="assignment-title" class="screen__title">
          {t('assignment.title')}
        </h2>
        <EmptyState title={t('assignment.none')} hint={t('assignment.none_hint')} />
      </section>
    );
  }
  const mine = asg.unit_id === session.value?.unit_id;
  const active = ['pending', 'acknowledged', 'en_route', 'on_scene'].includes(asg.state);
  const from = lastFix.value ?? (myUnit.value?.last_lat != null ? { lat: myUnit.value.last_lat, lon: myUnit.value.last_lon } : null);
  const km = inc?.lat != null && from ? distanceKm(from.lat, from.lon, inc.lat, inc.lon) : null;
  const detail = incidentId ? details.value[incidentId] : null;

  async function showCaller() {
    if (!incidentId) return;
    caller.value = 'loading';
    try {
      caller.value = await api(`/api/incidents/${encodeURIComponent(incidentId)}/caller`);
    } catch {
      caller.value = 'error';
    }
  }

  return (
    <section class="screen" aria-labelledby="assignment-title">
      <h2 id="assignment-title" class="screen__title">
        {inc ? typeLabel(inc.type) : t('assignment.title')}
      </h2>
      <div class="asg-head">
        {inc?.priority && <span class={`prio prio--${inc.priority}`}>{t('assignment.priority', { p: inc.priority })}</span>}
        {inc?.number && <span class="asg-head__number">{inc.number}</span>}
        <span class="asg-state" data-testid="assignment-state" data-state={asg.state}>
          {t(`asg_state.${asg.state}`)}
          {asg._pending && <span class="pending-tag">{t('sync.not_sent')}</span>}
        </span>
      </div>
      {focusAssignmentId.value && !active && (
        <p class="banner banner--warn">{t('assignment.ended')}</p>
      )}
      {inc?.address && (
        <p class="asg-address" data-testid="assignment-address">
          {inc.address}
          {km !== null && <span class="asg-distance"> · {t('assignment.distance', { km: km.toLocaleString(language.value, { maximumFractionDigits: 1 }) })}</span>}
        </p>
      )}
      {inc?.lat != null && (
        <a class="button button--big" href={`geo:${inc.lat},${inc.lon}?q=${inc.lat},${inc.lon}`}>
          {t('assignment.navigate')}
        </a>
      )}
      {inc?.hazards && (
        <p class="banner banner--danger">
          <strong>{t('assignment.hazards')}:</strong> {inc.hazards}
        </p>
      )}
      {inc?.description && <p class="asg-description">{inc.description}</p>}

      {mine && asg.state === 'pending' && (
        <button type="button" class="button button--primary button--big" data-testid="acknowledge" onClick={() => mutate('assignment.acknowledge', { assignment_id: asg.id })}>
          {t('assignment.acknowledge')}
        </button>
      )}
      {mine && ['acknowledged', 'en_route'].includes(asg.state) && (
        <div class="statuses">
          <button type="button" class="status-button" data-status="en_route" onClick={() => setStatus('en_route')}>
            {t('status.en_route')}
          </button>
          <button type="button" class="status-button" data-status="on_scene" onClick={() => setStatus('on_scene')}>
            {t('status.on_scene')}
          </button>
        </div>
      )}
      {mine && ['pending', 'acknowledged'].includes(asg.state) && !declining.value && (
        <button type="button" class="button" onClick={() => (declining.value = true)}>
          {t('assignment.decline')}
        </button>
      )}
      {declining.value && (
        <form
          class="form"
          onSubmit={(e) => {
            e.preventDefault();
            mutate('assignment.decline', { assignment_id: asg.id, reason: reason.value.trim() || null });
            declining.value = false;
          }}
        >
          <label class="field__label" for="decline-reason">
            {t('assignment.decline_reason')}
          </label>
          <input id="decline-reason" class="field__control" value={reason.value} onInput={(e) => (reason.value = e.currentTarget.value)} required />
          <div class="row">
            <button type="submit" class="button button--danger">
              {t('assignment.decline_confirm')}
            </button>
            <button type="button" class="button" onClick={() => (declining.value = false)}>
              {t('common.cancel')}
            </button>
          </div>
        </form>
      )}

      <div class="caller">
        {caller.value === null && (
          <button type="button" class="button" onClick={showCaller} disabled={!live}>
            {t('assignment.show_caller')}
          </button>
        )}
        {caller.value === null && <p class="screen__hint">{live ? t('assignment.caller_audited') : t('assignment.caller_offline')}</p>}
        {caller.value === 'loading' && <p>{t('common.loading')}</p>}
        {caller.value === 'error' && <p class="banner banner--warn">{t('assignment.caller_error')}</p>}
        {caller.value && typeof caller.value === 'object' && (
          <p data-testid="caller">
            {caller.value.caller_name ?? t('assignment.caller_unknown')}
            {caller.value.caller_phone && (
              <>
                {' · '}
                <a href={`tel:${caller.value.caller_phone}`}>{caller.value.caller_phone}</a>
              </>
            )}
          </p>
        )}
      </div>

      <h3 class="screen__subtitle">{t('timeline.title')}</h3>
      <Timeline detail={detail} incidentId={incidentId} live={live} />
    </section>
  );
}

/** @param {{detail: any, incidentId: string | undefined, live: boolean}} props */
function Timeline({ detail, incidentId, live }) {
  const serverEntries = detail?.timeline ?? [];
  const known = new Set((detail?.notes ?? []).map((/** @type {any} */ n) => n.id));
  const localNotes = notesFor(incidentId).filter((n) => !known.has(n.id)).map((n) => ({ at: n.event_at, kind: 'note', text: n.body, pending: n._pending }));
  const entries = [...serverEntries, ...localNotes].sort((a, b) => a.at - b.at);
  // Online with nothing yet means the request is on its way, not that there is no connection.
  if (entries.length === 0) return <p class="screen__hint">{t(live && !detail ? 'timeline.loading' : 'timeline.none')}</p>;
  return (
    <ol class="timeline" data-testid="timeline">
      {entries.map((e, i) => (
        <li key={i} class="timeline__item" data-kind={e.kind}>
          <span class="timeline__time">{hhmm(e.at)}</span>
          <span class="timeline__kind">
            {t(`timeline.${e.kind}`)}
            {e.call_sign ? ` · ${e.call_sign}` : ''}
          </span>
          {e.text && e.kind === 'note' && <span class="timeline__text">{e.text}</span>}
          {e.pending && <span class="pending-tag">{t('sync.not_sent')}</span>}
        </li>
      ))}
    </ol>
  );
}
