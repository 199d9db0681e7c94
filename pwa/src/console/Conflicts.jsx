import { useEffect, useRef, useState } from 'preact/hooks';
import { t, dateTime } from './i18n.js';
import { db, conflictList } from './store.js';
import { conflictsOpen, openIncident } from './ui.js';
import { send } from './outcome.js';
import { inForce } from './conflict-view.js';

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

/** @param {unknown} v */
function asText(v) {
  return v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
}

/** @param {{c: any}} props */
function ConflictItem({ c }) {
  const inc = c.entity === 'incident' ? db.incident.get(c.entity_id) : null;
  const entity = inc ?? (c.entity === 'field_report' ? db.field_report.get(c.entity_id) : null);
  // Which side is in force comes from the stored state (the entity now, else the stamps),
  // not from the side's place in the row: a later offline edit wins over an earlier online one.
  const force = inForce(c, entity);
  const [merged, setMerged] = useState(() => asText(force.current === 'server' ? c.server_value : force.current === 'client' ? c.client_value : force.value));
  const numeric = c.field === 'priority' || c.field === 'lat' || c.field === 'lon';

  /** @param {'server'|'client'|'merged'} resolution */
  function resolve(resolution) {
    /** @type {Record<string, unknown>} */
    const args = { conflict_id: c.id, resolution };
    if (resolution === 'merged') args.value = numeric ? Number(merged) : merged;
    send('conflict.resolve', args, null, t('c.conflict_resolved'));
  }
  const open = c.state === 'open';
  /** @param {'server'|'client'} side @param {string | undefined} who */
  const label = (side, who) => {
    const name = who ?? '—';
    if (!open) return name;
    return force.current === side ? t('c.value_current', { who: name }) : t('c.value_not_current', { who: name });
  };
  /** @param {'server'|'client'} side */
  const Side = (side) => (
    <div class={`side${open && force.current === side ? ' side--current' : ''}`} data-side={side} data-current={open ? String(force.current === side) : undefined}>
      <p class="side__who">
        {label(side, side === 'server' ? c.server_by_name : c.client_by_name)} · {dateTime(side === 'server' ? c.server_at : c.client_at)}
      </p>
      <p class="side__value">{show(side === 'server' ? c.server_value : c.client_value)}</p>
      {open && (
        <button type="button" class="btn" onClick={() => resolve(side)} data-testid={`keep-${side}`}>
          {t('c.keep_this')}
        </button>
      )}
    </div>
  );
  return (
    <li class={`conflict conflict--${c.state}`} data-conflict-id={c.id} data-state={c.state} data-current={open ? force.current : undefined}>
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
        {Side('server')}
        {Side('client')}
      </div>
      {open && force.current === 'neither' && (
        <p class="conflict__now" data-testid="changed-since">
          {t('c.value_changed_since', { value: show(force.value) })}
        </p>
      )}
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
