import { t } from '../../shared/prefs.js';
import { openAlerts } from '../lib/state.js';

/** An emergency stays on screen until a dispatcher acknowledges it. */
export function AlertBanner() {
  const alerts = openAlerts.value;
  if (alerts.length === 0) return null;
  const a = alerts[0];
  return (
    <div class="alert-banner" role="alert" data-testid="alert-banner" data-pending={a._pending ? 'true' : 'false'}>
      <strong>{t('emergency.active')}</strong>
      <span>{a._pending ? t('emergency.not_delivered') : t('emergency.delivered')}</span>
    </div>
  );
}
