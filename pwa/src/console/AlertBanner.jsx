import { useEffect } from 'preact/hooks';
import { t, clock, ago } from './i18n.js';
import { db, rev, now, openAlerts, endedAlerts, alertDetails, unitExtra } from './store.js';
import { signal } from '@preact/signals';

/** Ended alerts this desk has read (ids, this session). */
const readEnded = signal(/** @type {Set<string>} */ (new Set()));
import { focusPoint, selectedUnit } from './ui.js';
import { send } from './outcome.js';
import { audioState, alarmPlaying, startAlarm, stopAlarm, unlockAudio } from './sound.js';

/**
 * Emergency alerts: a banner across the whole console and a repeating alarm
 * until every alert is acknowledged. `data-alarm` says whether the sound is
 * actually playing ("on"), blocked by the browser until a click ("blocked"),
 * or off.
 */
export function AlertBanner() {
  rev.value;
  const alerts = openAlerts.value;
  const n = alerts.length;

  useEffect(() => {
    if (n > 0) startAlarm();
    else stopAlarm();
  }, [n]);
  useEffect(() => () => stopAlarm(), []);

  if (n === 0) return <EndedAlerts />;
  const nowMs = now.value;
  const playing = alarmPlaying.value && audioState.value === 'running';
  return (
    <section class="alerts" role="alert" aria-label={t('c.emergency')} data-testid="alert-banner" data-alarm={playing ? 'on' : audioState.value === 'running' ? 'off' : 'blocked'}>
      {alerts.map((a) => {
        const more = alertDetails.value.get(a.id);
        const unit = a.unit_id ? db.unit.get(a.unit_id) : null;
        const officer =
          more?.officer_name ?? unitExtra.value.get(a.unit_id)?.crew?.find((/** @type {any} */ c) => c.user_id === a.user_id)?.full_name ?? '—';
        const lat = a.lat ?? unit?.last_lat;
        const lon = a.lon ?? unit?.last_lon;
        return (
          <div class="alert" key={a.id} data-alert-id={a.id}>
            <strong class="alert__title">{t('c.emergency')}</strong>
            <span class="alert__unit">{more?.call_sign ?? unit?.call_sign ?? '—'}</span>
            <span>{officer}</span>
            <span>
              {clock(a.raised_at)} ({ago(a.raised_at, nowMs)})
            </span>
            {lat != null ? (
              <button
                type="button"
                class="btn btn--small"
                onClick={() => {
                  focusPoint.value = { lat, lon, at: Date.now() };
                  if (a.unit_id) selectedUnit.value = a.unit_id;
                }}
              >
                {t('c.show_on_map')} ({lat.toFixed(5)}, {lon.toFixed(5)})
              </button>
            ) : (
              <span>{t('c.no_position')}</span>
            )}
            {a.note && <span class="alert__note">{a.note}</span>}
            <button type="button" class="btn btn--ack" onClick={() => send('alert.acknowledge', { alert_id: a.id }, null, t('c.alert_acked'))}>
              {t('c.acknowledge_alert')}
            </button>
          </div>
        );
      })}
      {audioState.value !== 'running' && (
        <button type="button" class="btn btn--small" onClick={unlockAudio}>
          {t('c.enable_sound')}
        </button>
      )}
      <EndedAlerts />
    </section>
  );
}

/** Emergencies the crew (or a desk) ended, with who and why, until this desk has read them. */
function EndedAlerts() {
  const ended = endedAlerts.value.filter((a) => !readEnded.value.has(a.id));
  if (ended.length === 0) return null;
  return (
    <ul class="alerts-ended" aria-live="polite">
      {ended.map((a) => (
        <li key={a.id} class="alert-ended" data-testid="alert-ended" data-alert-id={a.id}>
          <span>
            {t('c.alert_ended', {
              unit: (a.unit_id && db.unit.get(a.unit_id)?.call_sign) || '—',
              name: a.ended_by_name ?? '—',
              time: clock(a.resolved_at),
            })}
          </span>
          <span class="alert-ended__reason" data-testid="alert-ended-reason">{a.end_reason}</span>
          <button type="button" class="btn btn--small" onClick={() => (readEnded.value = new Set([...readEnded.value, a.id]))}>
            {t('c.close')}
          </button>
        </li>
      ))}
    </ul>
  );
}
