import { t } from '../../shared/prefs.js';
import { session } from '../../shared/session.js';
import { mutate } from '../../shared/sync.js';
import { uuidv7 } from '../../shared/ids.js';
import { minuteTick } from '../../shared/sync-status.js';
import { serverNow } from '../../shared/clock.js';
import { myUnit, currentAssignment, currentIncident, typeLabel, endedAssignments, dismissEnded } from '../lib/state.js';
import { entity } from '../../shared/sync.js';
import { currentPosition, positionState } from '../lib/geo.js';
import { currentScreen } from '../navigation.js';
import { EmergencyButton } from '../ui/EmergencyButton.jsx';
import { hhmm, duration } from '../ui/format.js';

/** Status values, in the order the buttons appear; CSS colours them by data-status. */
export const STATUSES = /** @type {const} */ (['available', 'en_route', 'on_scene', 'busy', 'off_duty']);

/** @param {string} status */
export function setStatus(status) {
  const unit = myUnit.value;
  const unitId = session.value?.unit_id;
  if (!unitId) return;
  const pos = currentPosition();
  const asg = currentAssignment.value;
  mutate('unit.set_status', {
    unit_id: unitId,
    status,
    ...(asg && ['en_route', 'on_scene'].includes(status) && asg.unit_id === unitId ? { assignment_id: asg.id } : {}),
    event_id: uuidv7(),
    ...(pos ? { lat: pos.lat, lon: pos.lon } : {}),
  }).catch(() => {});
  void unit;
}

export function Home() {
  const me = session.value;
  const unit = myUnit.value;
  if (!me?.unit_id) {
    return (
      <section class="screen">
        <p class="banner banner--warn">{t('home.no_unit')}</p>
      </section>
    );
  }
  const status = unit?.status ?? null;
  const since = unit?.status_at ?? null;
  const asg = currentAssignment.value;
  const inc = currentIncident.value;
  void minuteTick.value; // re-render as the time in status grows
  return (
    <section class="screen" aria-labelledby="home-title">
      <div class="unit-card" data-status={status ?? 'unknown'}>
        <p class="unit-card__label" id="home-title">
          {t('home.status_title')}
        </p>
        <p class="unit-card__status" data-testid="current-status">
          {status ? t(`status.${status}`) : t('home.status_unknown')}
          {unit?._pending && <span class="pending-tag">{t('sync.not_sent')}</span>}
        </p>
        {since && (
          <p class="unit-card__since" data-testid="status-since">
            {t('home.since', { time: hhmm(since), duration: duration(serverNow() - since) })}
          </p>
        )}
      </div>
      <div class="statuses">
        {STATUSES.map((s) => (
          <button key={s} type="button" class="status-button" data-status={s} aria-pressed={status === s ? 'true' : 'false'} onClick={() => setStatus(s)}>
            {t(`status.${s}`)}
          </button>
        ))}
      </div>
      <EmergencyButton />
      {endedAssignments.value.slice(0, 1).map((ended) => (
        <EndedNotice key={ended.id} ended={ended} status={status} hasNext={!!asg} />
      ))}
      {asg && (
        <button type="button" class="assignment-card" onClick={() => (currentScreen.value = 'assignment')} data-testid="assignment-card">
          <span class="assignment-card__label">{t('assignment.title')}</span>
          <span class="assignment-card__type">
            {inc ? `P${inc.priority ?? '?'} · ${typeLabel(inc.type)}` : t('assignment.loading')}
          </span>
          {inc?.address && <span class="assignment-card__address">{inc.address}</span>}
          <span class="assignment-card__state">{t(`asg_state.${asg.state}`)}</span>
        </button>
      )}
      <p class="position" data-state={positionState.value} data-testid="position-state">
        {t(`position.${positionState.value}`)}
      </p>
    </section>
  );
}

/**
 * Dispatch took an assignment away (reassigned or cancelled): say so, with the reason, and if
 * the unit is still en route or on scene for it, ask for the next status right here.
 * @param {{ended: any, status: string | null, hasNext: boolean}} props
 */
function EndedNotice({ ended, status, hasNext }) {
  const other = ended.replaced_by_unit_id ? entity('unit', ended.replaced_by_unit_id) : null;
  const text =
    ended.state === 'reassigned'
      ? t(other ? 'ended.reassigned_to' : 'ended.reassigned', { time: hhmm(ended.ended_at), unit: other?.call_sign ?? '' })
      : t('ended.cancelled', { time: hhmm(ended.ended_at) });
  const stranded = !hasNext && (status === 'en_route' || status === 'on_scene');
  return (
    <div class="banner banner--warn ended" role="alert" data-testid="ended-notice" data-state={ended.state}>
      <p>{text}</p>
      {ended.end_reason && (
        <p data-testid="ended-reason">
          {t('ended.reason')}: {ended.end_reason}
        </p>
      )}
      {stranded && <p>{t('ended.next_status', { status: t(`status.${status}`) })}</p>}
      <div class="ended__actions">
        {stranded &&
          (['available', 'busy']).map((s) => (
            <button
              key={s}
              type="button"
              class="status-button"
              data-status={s}
              data-testid={`ended-${s}`}
              onClick={() => {
                setStatus(s);
                dismissEnded(ended.id);
              }}
            >
              {t(`status.${s}`)}
            </button>
          ))}
        <button type="button" class="button" data-testid="ended-ok" onClick={() => dismissEnded(ended.id)}>
          {t('ended.ok')}
        </button>
      </div>
    </div>
  );
}
