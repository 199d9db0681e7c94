import { useSignal } from '@preact/signals';
import { t } from '../../shared/prefs.js';
import { mutate } from '../../shared/sync.js';
import { activeAlerts } from '../lib/state.js';
import { hhmm } from './format.js';

/**
 * An emergency stays on screen until it is ended: first "delivered, waiting", then who at
 * dispatch acknowledged it and when. Ending it (a false alarm, or the danger is over) needs
 * a reason, which dispatch sees.
 */
export function AlertBanner() {
  const ending = useSignal(false);
  const reason = useSignal('');
  const alerts = activeAlerts.value;
  if (alerts.length === 0) return null;
  const a = alerts[0];
  const acked = a.state === 'acknowledged';
  return (
    <div class="alert-banner" role="alert" data-testid="alert-banner" data-state={a.state} data-pending={a._pending ? 'true' : 'false'}>
      <strong>{t('emergency.active')}</strong>
      {acked ? (
        <span data-testid="alert-acked">{t('emergency.acked_by', { name: a.acknowledged_by_name ?? '—', time: hhmm(a.acknowledged_at) })}</span>
      ) : (
        <span>{a._pending ? t('emergency.not_delivered') : t('emergency.delivered')}</span>
      )}
      {!ending.value ? (
        <button type="button" class="button alert-banner__end" data-testid="alert-end" onClick={() => (ending.value = true)}>
          {t('emergency.end')}
        </button>
      ) : (
        <form
          class="alert-banner__form"
          onSubmit={(e) => {
            e.preventDefault();
            const why = reason.value.trim();
            if (!why) return;
            mutate('alert.end', { alert_id: a.id, reason: why }).catch(() => {});
            ending.value = false;
            reason.value = '';
          }}
        >
          <label class="field__label" for="alert-end-reason">
            {t('emergency.end_reason')}
          </label>
          <input
            id="alert-end-reason"
            class="field__control"
            required
            maxLength={500}
            value={reason.value}
            onInput={(e) => (reason.value = e.currentTarget.value)}
          />
          <div class="alert-banner__actions">
            <button type="submit" class="button" data-testid="alert-end-confirm" disabled={!reason.value.trim()}>
              {t('emergency.end_confirm')}
            </button>
            <button type="button" class="button" onClick={() => (ending.value = false)}>
              {t('common.cancel')}
            </button>
          </div>
        </form>
      )}
    </div>
  );
}
