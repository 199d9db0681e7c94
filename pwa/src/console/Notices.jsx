import { useEffect, useState } from 'preact/hooks';
import { notices, dismissNotice } from '../shared/sync.js';
import { session } from '../shared/session.js';
import { outboxMutation, refusal, refusalText } from '../shared/refusal.js';
import { t, clock, typeLabel } from './i18n.js';
import { db, incidentTypes } from './store.js';
import { drafts, editableDrafts, shownDraft, openDraft } from './ui.js';
import { fieldLabel } from './IncidentForm.jsx';

/**
 * Actions the server refused (rejected / conflict) or applied with a remark, with its reason,
 * until the dispatcher reads them. They come from the outbox, so they survive a reload.
 * Below them, incident drafts not on screen (left by navigating away, or refused): never lost,
 * one click from the form.
 */
export function Notices() {
  const list = notices.value;
  const me = session.value?.user_id ?? null;
  drafts.value;
  const shown = shownDraft.value;
  const waiting = editableDrafts(me).filter((d) => d.id !== shown);
  const bySeq = new Map(waiting.filter((d) => d.refused).map((d) => [/** @type {any} */ (d.refused).seq, d]));
  const seqs = new Set(list.map((n) => n.seq));
  const loose = waiting.filter((d) => !(d.refused && seqs.has(d.refused.seq)));
  if (list.length === 0 && loose.length === 0) return null;
  return (
    <section class="notices" aria-label={t('c.notices')} data-testid="notices">
      <ul>
        {list.map((n) => (
          <Notice key={n.seq} n={n} draft={bySeq.get(n.seq) ?? null} />
        ))}
        {loose.map((d) => (
          <li key={d.id} class="notice notice--draft" data-testid="draft-waiting" data-draft-id={d.id}>
            <span class="notice__what">
              <strong>{d.incident_id ? t('c.draft_edit_waiting', { number: db.incident.get(d.incident_id)?.number ?? '…' }) : t('c.draft_waiting')}</strong>
            </span>
            <span class="notice__why">{draftSummary(d)}</span>
            <button type="button" class="btn btn--small" onClick={() => openDraft(d)}>
              {t('c.draft_continue')}
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

/** @param {{n: {seq: number, name: string, state: string, notice: string | null, reason_code: string | null, device_at: number}, draft: import('./ui.js').Draft | null}} props */
function Notice({ n, draft }) {
  const args = useSentArgs(n.state === 'rejected' && n.reason_code === 'invalid' ? n.seq : null);
  // Worded from the code, the field and what was sent; the server's sentence only for codes
  // this console does not word itself.
  let why = n.notice;
  if (n.state === 'rejected' && n.reason_code === 'invalid') {
    const r = refusal(n.name, { reason_code: n.reason_code, result: draft?.refused?.field ? { field: `args.${draft.refused.field}` } : null }, draft?.values ?? args);
    why = refusalText(t, r, r.field ? fieldLabel(r.field) : '', n.notice);
  } else if (n.reason_code) {
    const r = refusal(n.name, { reason_code: n.reason_code, result: /** @type {any} */ (n).reason_params ?? null }, null);
    why = refusalText(t, r, r.field ? fieldLabel(r.field) : '', n.notice);
  }
  return (
    <li class={`notice notice--${n.state}`} data-seq={n.seq} data-state={n.state} data-reason-code={n.reason_code ?? ''} role="alert">
      <span class="notice__what">
        <time>{clock(n.device_at)}</time> <strong>{actionLabel(n.name)}</strong> · {t(`c.outcome_${n.state}`)}
      </span>
      {why && <span class="notice__why">{why}</span>}
      <span class="notice__actions">
        {draft && (
          <button type="button" class="btn btn--small btn--primary" data-testid="fix-draft" onClick={() => openDraft(draft)}>
            {t('c.fix_and_resend')}
          </button>
        )}
        <button type="button" class="btn btn--small" onClick={() => dismissNotice(n.seq)}>
          {t('c.ok')}
        </button>
      </span>
    </li>
  );
}

/** The arguments an outbox entry was sent with (to word its refusal), read once. @param {number | null} seq */
function useSentArgs(seq) {
  const [args, setArgs] = useState(/** @type {Record<string, unknown> | null} */ (null));
  useEffect(() => {
    if (seq === null) return;
    let live = true;
    outboxMutation(seq)
      .then((m) => live && setArgs(m?.args ?? null))
      .catch(() => {});
    return () => {
      live = false;
    };
  }, [seq]);
  return args;
}

/** One line that tells drafts apart: type, address, the start of the description. @param {import('./ui.js').Draft} d */
function draftSummary(d) {
  const v = d.values ?? {};
  const parts = [v.type ? typeLabel(incidentTypes.value, v.type) : null, v.address, v.description ? String(v.description).slice(0, 60) : null];
  return parts.filter(Boolean).join(' · ') || '—';
}

/** @param {string} name e.g. "assignment.create" */
function actionLabel(name) {
  const key = `action.${name}`;
  const text = t(key);
  return text === key ? name : text;
}
