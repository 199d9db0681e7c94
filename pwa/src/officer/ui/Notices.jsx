import { t } from '../../shared/prefs.js';
import { notices, dismissNotice } from '../../shared/sync.js';
import { hhmm } from './format.js';

/** One readable line per refused or remarked edit; stays until the officer taps OK. */
export function Notices() {
  const list = notices.value;
  if (list.length === 0) return null;
  return (
    <section class="notices" aria-label={t('notice.title')}>
      {list.map((n) => (
        <div key={n.seq} class={`notice notice--${n.state}`} role="alert" data-testid="notice">
          <p class="notice__what">
            {t(`notice.${n.state}`, { action: t(`action.${n.name}`) })}
            <span class="notice__time"> · {hhmm(n.device_at)}</span>
          </p>
          {n.notice && <p class="notice__reason">{n.notice}</p>}
          <button type="button" class="button" onClick={() => dismissNotice(n.seq)}>
            {t('notice.ok')}
          </button>
        </div>
      ))}
    </section>
  );
}
