import { useEffect, useRef, useState } from 'preact/hooks';
import { t, dateTime } from './i18n.js';
import { db, conflictList } from './store.js';
import { conflictsOpen, openIncident } from './ui.js';
import { send } from './outcome.js';

/** Values arrive parsed (the change stream and GET /api/conflicts alike). @param {unknown} v */
function show(v) {
  if (v === null || v === undefined || v === '') return '—';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** Conflicts inbox: both values side by side; keep one, the other, or a merged value. */
export function ConflictsDialog() {
  const ref = useRef(/** @type {HTMLDialogElement | null} */ (null));
  const [showResolved, setShowResolved] = useState(false);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
  }, []);
  const list = conflictList.value.filter((c) => showResolved || c.state === 'open');
  return (
    <dialog ref={ref} class="dialog conflicts" aria-labelledby="conflicts-title" onClose={() => (conflictsOpen.value = false)} data-testid="conflicts">
      <div class="dialog__head">
        <h2 id="conflicts-title">{t('c.conflicts_title')}</h2>
        <label class="check">
          <input type="checkbox" checked={showResolved} onChange={(e) => setShowResolved(e.currentTarget.checked)} /> {t('c.show_resolved')}
        </label>
        <button type="button" class="btn" onClick={() => ref.current?.close()}>
          {t('c.close')} <kbd>Esc</kbd>
        </button>
      </div>
      {list.length === 0 && <p class="empty__title">{t('c.no_conflicts')}</p>}
      <ul class="conflict-list">
        {list.map((c) => (
          <ConflictItem key={c.id} c={c} />
        ))}
      </ul>
    </dialog>
  );
}

/** @param {{c: any}} props */
function ConflictItem({ c }) {
  const [merged, setMerged] = useState(() => {
    const v = c.client_value;
    return v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
  });
  const inc = c.entity === 'incident' ? db.incident.get(c.entity_id) : null;
  const numeric = c.field === 'priority' || c.field === 'lat' || c.field === 'lon';

  /** @param {'server'|'client'|'merged'} resolution */
  function resolve(resolution) {
    /** @type {Record<string, unknown>} */
    const args = { conflict_id: c.id, resolution };
    if (resolution === 'merged') args.value = numeric ? Number(merged) : merged;
    send('conflict.resolve', args, null, t('c.conflict_resolved'));
  }
  const open = c.state === 'open';
  return (
    <li class={`conflict conflict--${c.state}`} data-conflict-id={c.id} data-state={c.state}>
      <p class="conflict__what">
        {inc ? (
          <button
            type="button"
            class="link"
            onClick={() => {
              conflictsOpen.value = false;
              openIncident(inc.id);
            }}
          >
            {inc.number}
          </button>
        ) : (
          t(`entity.${c.entity}`)
        )}{' '}
        · {t('c.field')}: <strong>{t(`field.${c.field}`)}</strong>
      </p>
      <div class="conflict__sides">
        <div class="side" data-side="server">
          <p class="side__who">
            {t('c.value_kept', { who: c.server_by_name ?? '—' })} · {dateTime(c.server_at)}
          </p>
          <p class="side__value">{show(c.server_value)}</p>
          {open && (
            <button type="button" class="btn" onClick={() => resolve('server')} data-testid="keep-server">
              {t('c.keep_this')}
            </button>
          )}
        </div>
        <div class="side" data-side="client">
          <p class="side__who">
            {t('c.value_other', { who: c.client_by_name ?? '—' })} · {dateTime(c.client_at)}
          </p>
          <p class="side__value">{show(c.client_value)}</p>
          {open && (
            <button type="button" class="btn" onClick={() => resolve('client')} data-testid="keep-client">
              {t('c.keep_this')}
            </button>
          )}
        </div>
      </div>
      {open ? (
        <form
          class="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            resolve('merged');
          }}
        >
          <label>
            {t('c.merged_value')}
            <textarea rows={2} value={merged} onInput={(e) => setMerged(e.currentTarget.value)} />
          </label>
          <button class="btn btn--primary" type="submit">
            {t('c.save_merged')}
          </button>
        </form>
      ) : (
        <p class="conflict__decision" data-testid="decision">
          {t('c.decided', { resolution: t(`resolution.${c.resolution}`), value: show(c.resolved_value), time: dateTime(c.resolved_at) })}
          {c.resolved_by_name && <span data-testid="decided-by"> · {t('c.decided_by', { who: c.resolved_by_name })}</span>}
        </p>
      )}
    </li>
  );
}
