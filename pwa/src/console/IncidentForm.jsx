import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { t, typeLabel } from './i18n.js';
import { uuidv7 } from '../shared/ids.js';
import { session } from '../shared/session.js';
import { LIMITS } from '../shared/vocabulary.js';
import { counterText, nearLimit, refusal, refusalText } from '../shared/refusal.js';
import { db, incidentTypes, orgUnits } from './store.js';
import { panel, formPoint, openIncident, draftRequest, draftById, findDraft, saveDraft, discardDraft, draftSent, setOpenDraft, shownDraft } from './ui.js';
import { send } from './outcome.js';
import { ConfirmButton } from './ConfirmButton.jsx';
import { clockOffset, serverNow } from '../shared/clock.js';

/** @param {number} ms → value for <input type="datetime-local" step="1"> */
export function toLocalInput(ms) {
  const d = new Date(ms);
  const p = (/** @type {number} */ n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

const EDITABLE = ['type', 'priority', 'address', 'description', 'hazards', 'lat', 'lon'];
/** Text fields of the form (what a draft compares and keeps). */
const TEXTS = /** @type {const} */ (['type', 'priority', 'address', 'description', 'hazards', 'caller_name', 'caller_phone', 'org_unit_id', 'source']);
/** The server's limits for what the form sends (the same for create and update). */
const MAX = /** @type {Record<string, number>} */ (LIMITS['incident.create']);

/** Form values from an incident (or empty for a new one). @param {any} inc */
function valuesOf(inc) {
  const s = (/** @type {unknown} */ v) => (v === null || v === undefined ? '' : String(v));
  return {
    type: s(inc?.type),
    priority: s(inc?.priority),
    address: s(inc?.address),
    description: s(inc?.description),
    hazards: s(inc?.hazards),
    caller_name: '',
    caller_phone: '',
    org_unit_id: '',
    source: '112',
  };
}

/**
 * Create an incident from a call, or edit one. What is typed is a draft (ui.js) from the first
 * keystroke: navigating away, a reload or a refusal by the server never loses it.
 * @param {{id: string | null}} props
 */
export function IncidentForm({ id }) {
  const editing = id ? db.incident.get(id) : null;
  const me = session.value?.user_id ?? null;
  const req = draftRequest.value;
  // Chosen once per request: the draft asked for (a notice's "Continue"), else the newest one
  // for this incident, else a new draft. Saving the new one must not remount the form.
  const chosen = useMemo(() => {
    const asked = req ? draftById(req) : null;
    if (asked && asked.sent_seq == null && asked.incident_id === id && (asked.user_id ?? null) === me) return asked;
    return findDraft(id, me);
  }, [req, id, me]);
  if (id && !editing) {
    // (an edit draft restored by a reload, before the replica has the incident)
    return <p class="empty__title">{t('c.loading')}</p>;
  }
  return <Form key={chosen?.id ?? 'new'} id={id} editing={editing} draft={chosen} userId={me} />;
}

/** A form field's name as its label shows it. @param {string} field */
export function fieldLabel(field) {
  const key = `c.${field}`;
  const label = t(key);
  return label === key ? t(`field.${field}`) : label;
}

/** The counter shown once a field nears its limit. @param {{value: string, max: number, id: string}} props */
function Counter({ value, max, id }) {
  if (!nearLimit(value.length, max)) return null;
  return (
    <span id={id} class={`counter${value.length > max ? ' counter--over' : ''}`} data-testid={id}>
      {counterText(t, value.length, max)}
    </span>
  );
}

/**
 * @param {{id: string | null, editing: any, draft: import('./ui.js').Draft | null, userId: string | null}} props
 */
function Form({ id, editing, draft, userId }) {
  const draftId = useRef(draft?.id ?? uuidv7()).current;
  const restored = useRef(!!draft).current;
  // The version the dispatcher edits from: concurrent edits since become conflicts, not silent
  // losses. A restored edit keeps the base it was begun from.
  const base = useRef(draft?.base ?? (editing ? { ...editing } : null)).current;
  const pristine = useRef(valuesOf(base)).current;
  const pristinePoint = base?.lat != null ? { lat: base.lat, lon: base.lon } : null;
  const [values, setValues] = useState(() => ({
    ...pristine,
    call_received_at: toLocalInput(serverNow()),
    priority_touched: !!editing,
    ...(draft?.values ?? {}),
  }));
  // What the form holds right now, for keeping it: updated in the input handlers themselves,
  // not after a render, so a reload straight after a keystroke still has that keystroke.
  const live = useRef(values);
  const [refused] = useState(draft?.refused ?? null);
  const [busy, setBusy] = useState(false);
  const first = useRef(/** @type {HTMLSelectElement | null} */ (null));
  const types = incidentTypes.value;
  const point = formPoint.value;

  /** @param {{lat: number, lon: number} | null} p */
  const samePoint = (p) => (p?.lat ?? null) === (pristinePoint?.lat ?? null) && (p?.lon ?? null) === (pristinePoint?.lon ?? null);
  /** @param {Record<string, any>} v @param {{lat: number, lon: number} | null} p */
  const isDirty = (v, p) => TEXTS.some((k) => v[k] !== pristine[k]) || !samePoint(p);
  const dirty = isDirty(values, point);

  /** Keep what the form holds as the draft (an emptied form is no draft). */
  function keep() {
    const v = live.current;
    const p = formPoint.value;
    if (isDirty(v, p)) {
      saveDraft({
        id: draftId,
        incident_id: id,
        user_id: userId,
        values: { ...v, lat: p?.lat ?? null, lon: p?.lon ?? null },
        base: base ? { ...base } : null,
        sent_seq: null,
        refused,
      });
    } else if (draftById(draftId)) discardDraft(draftId);
  }

  /** @param {Record<string, any> | ((old: Record<string, any>) => Record<string, any>)} patch */
  function update(patch) {
    live.current = { ...live.current, ...(typeof patch === 'function' ? patch(live.current) : patch) };
    setValues(live.current);
    keep();
  }

  useEffect(() => {
    const v = draft?.values;
    formPoint.value = v && 'lat' in v ? (v.lat != null ? { lat: v.lat, lon: v.lon } : null) : pristinePoint;
    setOpenDraft(draftId);
    // A point picked on the map is part of the draft at once too.
    let mounted = false;
    const stop = formPoint.subscribe(() => {
      if (mounted) keep();
    });
    mounted = true;
    first.current?.focus();
    return () => {
      stop();
      formPoint.value = null;
      if (shownDraft.value === draftId) setOpenDraft(null);
    };
  }, []);

  /** @param {string} k @param {string} v */
  const set = (k, v) => update({ [k]: v });

  /** @param {string} code */
  function chooseType(code) {
    const it = types.find((x) => x.code === code);
    update((old) => ({ type: code, ...(it && !old.priority_touched ? { priority: String(it.default_priority) } : {}) }));
  }

  function close() {
    // The draft stays: it is offered again (restored) the next time this form opens.
    panel.value = editing ? { view: 'detail', id: editing.id } : { view: 'list' };
  }

  function discard() {
    discardDraft(draftId);
    close();
  }

  /** @param {SubmitEvent} e */
  async function submit(e) {
    e.preventDefault();
    const str = (/** @type {string} */ k) => {
      const v = String(values[k] ?? '').trim();
      return v === '' ? null : v;
    };
    const fields = {
      type: values.type,
      priority: Number(values.priority),
      address: str('address'),
      description: str('description'),
      hazards: str('hazards'),
      lat: point?.lat ?? null,
      lon: point?.lon ?? null,
    };
    setBusy(true);
    try {
      if (!editing) {
        const when = str('call_received_at');
        const incidentId = uuidv7();
        const entry = await send(
          'incident.create',
          {
            incident_id: incidentId,
            source: str('source') ?? '112',
            // The field shows the server's clock (what the phone system shows, if both keep
            // time); sent on this PC's clock like every device time, the server corrects it.
            call_received_at: when ? new Date(when).getTime() - clockOffset.value : Date.now(),
            ...fields,
            // Empty: the server takes the station nearest to the point (or the dispatcher's own).
            org_unit_id: str('org_unit_id'),
            caller_name: str('caller_name'),
            caller_phone: str('caller_phone'),
          },
          null,
          t('c.created_ok'),
        );
        if (entry) {
          // Kept, hidden, until the server accepts it; a refusal brings the form back with it.
          draftSent(draftId, entry.seq, entry.result, incidentId);
          openIncident(incidentId);
        }
      } else {
        const b = /** @type {any} */ (base);
        /** @type {Record<string, unknown>} */
        const changed = {};
        for (const k of EDITABLE) if (/** @type {any} */ (fields)[k] !== (b[k] ?? null)) changed[k] = /** @type {any} */ (fields)[k];
        const cn = str('caller_name');
        const cp = str('caller_phone');
        if (cn) changed.caller_name = cn;
        if (cp) changed.caller_phone = cp;
        if (Object.keys(changed).length === 0) {
          discardDraft(draftId);
          openIncident(editing.id);
          return;
        }
        const entry = await send('incident.update', { incident_id: editing.id, ...changed }, b.version, t('c.saved_ok'));
        if (entry) {
          draftSent(draftId, entry.seq, entry.result);
          openIncident(editing.id);
        }
      }
    } finally {
      setBusy(false);
    }
  }

  // Why the last send was refused, in the dispatcher's language (from the code and field, not
  // the server's English sentence), and which field to fix.
  const why = refused ? refusal(editing ? 'incident.update' : 'incident.create', { reason_code: refused.reason_code, result: refused.field ? { field: `args.${refused.field}` } : null }, values) : null;
  const badField = why?.field ?? null;
  const whyText = why && refused ? refusalText(t, why, badField ? fieldLabel(badField) : '', refused.reason) : null;
  /** @param {string} name */
  const limitProps = (name) => ({
    name,
    maxLength: MAX[name],
    value: values[name],
    'aria-invalid': badField === name ? 'true' : undefined,
    'aria-describedby': nearLimit(String(values[name]).length, MAX[name]) ? `count-${name}` : undefined,
    onInput: (/** @type {any} */ e) => set(name, e.currentTarget.value),
  });

  return (
    <form class="incident-form" onSubmit={submit} data-testid="incident-form" data-draft-id={draftId} aria-labelledby="incidents-title">
      <h2 id="incidents-title" class="panel__title">
        {editing ? t('c.edit_incident', { number: editing.number }) : t('c.new_incident')}
      </h2>
      {restored && (
        <p class="draft-note" data-testid="draft-restored">
          {t('c.draft_restored')}
        </p>
      )}
      {whyText && (
        <p class="form-refused" role="alert" data-testid="draft-refused" data-reason-code={why?.code}>
          {whyText} {t('c.draft_refused')}
        </p>
      )}
      {!editing && (
        <div class="row">
          <label>
            {t('c.call_received')}
            <input name="call_received_at" type="datetime-local" step="1" value={values.call_received_at} onInput={(e) => set('call_received_at', e.currentTarget.value)} />
          </label>
          <label>
            {t('c.station')}
            <select name="org_unit_id" value={values.org_unit_id} onChange={(e) => set('org_unit_id', e.currentTarget.value)} data-testid="form-station">
              <option value="">{t('c.station_auto')}</option>
              {orgUnits.value
                .filter((o) => o.kind === 'station' || o.kind === 'border_centre')
                .map((o) => (
                  <option key={o.id} value={o.id}>
                    {o.name}
                  </option>
                ))}
            </select>
          </label>
          <label>
            {t('c.source')}
            <select name="source" value={values.source} onChange={(e) => set('source', e.currentTarget.value)}>
              <option value="112">{t('source.112')}</option>
              <option value="113">{t('source.113')}</option>
              <option value="other">{t('source.other')}</option>
            </select>
          </label>
        </div>
      )}
      <div class="row">
        <label>
          {t('c.type')}
          <select ref={first} name="type" required value={values.type} onChange={(e) => chooseType(e.currentTarget.value)}>
            <option value="" disabled>
              {t('c.choose')}
            </option>
            {types.map((it) => (
              <option key={it.code} value={it.code}>
                {typeLabel(types, it.code)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('c.priority')}
          <select
            name="priority"
            required
            value={values.priority}
            onChange={(e) => {
              update({ priority: e.currentTarget.value, priority_touched: true });
            }}
          >
            <option value="" disabled>
              —
            </option>
            {[1, 2, 3, 4].map((p) => (
              <option key={p} value={String(p)}>
                {t(`prio.${p}`)}
              </option>
            ))}
          </select>
        </label>
      </div>
      <label>
        {t('c.address')}
        <input {...limitProps('address')} />
        <Counter value={values.address} max={MAX.address} id="count-address" />
      </label>
      <p class="point" data-testid="form-point">
        {point ? `${t('c.point')}: ${point.lat.toFixed(5)}, ${point.lon.toFixed(5)}` : t('c.point_none')}
        {point && (
          <button type="button" class="link" onClick={() => (formPoint.value = null)}>
            {' '}
            {t('c.clear')}
          </button>
        )}
      </p>
      <label>
        {t('c.description')}
        <textarea rows={3} {...limitProps('description')} />
        <Counter value={values.description} max={MAX.description} id="count-description" />
      </label>
      <label>
        {t('c.hazards')}
        <input {...limitProps('hazards')} placeholder={t('c.hazards_hint')} />
        <Counter value={values.hazards} max={MAX.hazards} id="count-hazards" />
      </label>
      <div class="row">
        <label>
          {t('c.caller_name')}
          <input {...limitProps('caller_name')} autocomplete="off" placeholder={editing ? t('c.caller_keep') : ''} />
          <Counter value={values.caller_name} max={MAX.caller_name} id="count-caller_name" />
        </label>
        <label>
          {t('c.caller_phone')}
          <input {...limitProps('caller_phone')} type="tel" autocomplete="off" placeholder={editing ? t('c.caller_keep') : ''} />
          <Counter value={values.caller_phone} max={MAX.caller_phone} id="count-caller_phone" />
        </label>
      </div>
      <div class="actions">
        <button class="btn btn--primary" type="submit" disabled={busy}>
          {editing ? t('c.save') : t('c.create')}
        </button>
        <button type="button" class="btn" onClick={close} data-testid="form-close">
          {t('c.close')}
        </button>
        {dirty && <ConfirmButton label={t('c.discard_draft')} question={t('c.discard_draft_q')} onConfirm={discard} testid="discard-draft" />}
      </div>
    </form>
  );
}
