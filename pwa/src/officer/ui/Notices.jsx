import { useEffect, useState } from 'preact/hooks';
import { t } from '../../shared/prefs.js';
import { notices, dismissNotice } from '../../shared/sync.js';
import { outboxMutation, refusal, refusalText } from '../../shared/refusal.js';
import { hhmm } from './format.js';

/** One readable line per refused or remarked edit; stays until the officer taps OK. */
export function Notices() {
  const list = notices.value;
  if (list.length === 0) return null;
  return (
    <section class="notices" aria-label={t('notice.title')}>
      {list.map((n) => (
        <Notice key={n.seq} n={n} />
      ))}
    </section>
  );
}

/** @param {{n: {seq: number, name: string, state: string, notice: string | null, reason_code: string | null, device_at: number}}} props */
function Notice({ n }) {
  // An invalid value (text too long, say) is worded here, in the officer's language, from the
  // code and what was sent; other reasons are the server's sentence.
  const worded = n.state === 'rejected' && n.reason_code === 'invalid';
  const [args, setArgs] = useState(/** @type {Record<string, unknown> | null} */ (null));
  useEffect(() => {
    if (!worded) return undefined;
    let live = true;
    outboxMutation(n.seq)
      .then((m) => live && setArgs(m?.args ?? null))
      .catch(() => {});
    return () => {
      live = false;
    };
  }, [n.seq, worded]);
  let why = n.notice;
  if (worded) {
    const r = refusal(n.name, { reason_code: n.reason_code }, args);
    const label = r.field === 'body' ? t('notes.body') : r.field ? t(`report.${r.field}`) : '';
    why = refusalText(t, r, label, n.notice);
  }
  return (
    <div class={`notice notice--${n.state}`} role="alert" data-testid="notice" data-seq={n.seq} data-reason-code={n.reason_code ?? ''}>
      <p class="notice__what">
        {t(`notice.${n.state}`, { action: t(`action.${n.name}`) })}
        <span class="notice__time"> · {hhmm(n.device_at)}</span>
      </p>
      {why && <p class="notice__reason">{why}</p>}
      <button type="button" class="button" onClick={() => dismissNotice(n.seq)}>
        {t('notice.ok')}
      </button>
    </div>
  );
}
