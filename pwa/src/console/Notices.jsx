import { notices, dismissNotice } from '../shared/sync.js';
import { t, clock } from './i18n.js';

/**
 * Actions the server refused (rejected / conflict) or applied with a remark, with its reason,
 * until the dispatcher reads them. They come from the outbox, so they survive a reload.
 */
export function Notices() {
  const list = notices.value;
  if (list.length === 0) return null;
  return (
    <section class="notices" aria-label={t('c.notices')} data-testid="notices">
      <ul>
        {list.map((n) => (
          <li key={n.seq} class={`notice notice--${n.state}`} data-seq={n.seq} data-state={n.state} data-reason-code={n.reason_code ?? ''} role="alert">
            <span class="notice__what">
              <time>{clock(n.device_at)}</time> <strong>{actionLabel(n.name)}</strong> · {t(`c.outcome_${n.state}`)}
            </span>
            {n.notice && <span class="notice__why">{n.notice}</span>}
            <button type="button" class="btn btn--small" onClick={() => dismissNotice(n.seq)}>
              {t('c.ok')}
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

/** @param {string} name e.g. "assignment.create" */
function actionLabel(name) {
  const key = `action.${name}`;
  const text = t(key);
  return text === key ? name : text;
}
