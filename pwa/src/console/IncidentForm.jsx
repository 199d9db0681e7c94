import { useEffect, useRef, useState } from 'preact/hooks';
import { t, typeLabel } from './i18n.js';
import { uuidv7 } from '../shared/ids.js';
import { db, incidentTypes, orgUnits } from './store.js';
import { panel, formPoint, openIncident } from './ui.js';
import { send } from './outcome.js';
import { clockOffset, serverNow } from '../shared/clock.js';

/** @param {number} ms → value for <input type="datetime-local" step="1"> */
export function toLocalInput(ms) {
  const d = new Date(ms);
  const p = (/** @type {number} */ n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

const EDITABLE = ['type', 'priority', 'address', 'description', 'hazards', 'lat', 'lon'];

/** Create an incident from a call, or edit one. @param {{id: string | null}} props */
export function IncidentForm({ id }) {
  const editing = id ? db.incident.get(id) : null;
  // The version the dispatcher edits from: concurrent edits since become conflicts, not silent losses.
  const base = useRef(editing ? { ...editing } : null);
  const types = incidentTypes.value;
  const [type, setType] = useState(editing?.type ?? '');
  const [priority, setPriority] = useState(editing ? String(editing.priority) : '');
  const [priorityTouched, setPriorityTouched] = useState(!!editing);
  const [busy, setBusy] = useState(false);
  const first = useRef(/** @type {HTMLSelectElement | null} */ (null));

  useEffect(() => {
    formPoint.value = editing?.lat != null ? { lat: editing.lat, lon: editing.lon } : null;
    first.current?.focus();
    return () => (formPoint.value = null);
  }, []);

  /** @param {string} code */
  function chooseType(code) {
    setType(code);
    const it = types.find((x) => x.code === code);
    if (it && !priorityTouched) setPriority(String(it.default_priority));
  }

  /** @param {SubmitEvent} e */
  async function submit(e) {
    e.preventDefault();
    const f = new FormData(/** @type {HTMLFormElement} */ (e.currentTarget));
    const str = (/** @type {string} */ k) => {
      const v = String(f.get(k) ?? '').trim();
      return v === '' ? null : v;
    };
    const point = formPoint.value;
    const values = {
      type,
      priority: Number(priority),
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
            ...values,
            // Empty: the server takes the station nearest to the point (or the dispatcher's own).
            org_unit_id: str('org_unit_id'),
            caller_name: str('caller_name'),
            caller_phone: str('caller_phone'),
          },
          null,
          t('c.created_ok'),
        );
        if (entry) openIncident(incidentId); // drawn at once; a refusal shows in the notices
      } else {
        const b = /** @type {any} */ (base.current);
        /** @type {Record<string, unknown>} */
        const changed = {};
        for (const k of EDITABLE) if (/** @type {any} */ (values)[k] !== b[k]) changed[k] = /** @type {any} */ (values)[k];
        const cn = str('caller_name');
        const cp = str('caller_phone');
        if (cn) changed.caller_name = cn;
        if (cp) changed.caller_phone = cp;
        if (Object.keys(changed).length === 0) {
          openIncident(editing.id);
          return;
        }
        const entry = await send('incident.update', { incident_id: editing.id, ...changed }, b.version, t('c.saved_ok'));
        if (entry) openIncident(editing.id);
      }
    } finally {
      setBusy(false);
    }
  }

  const point = formPoint.value;
  return (
    <form class="incident-form" onSubmit={submit} data-testid="incident-form" aria-labelledby="incidents-title">
      <h2 id="incidents-title" class="panel__title">
        {editing ? t('c.edit_incident', { number: editing.number }) : t('c.new_incident')}
      </h2>
      {!editing && (
        <div class="row">
          <label>
            {t('c.call_received')}
            <input name="call_received_at" type="datetime-local" step="1" defaultValue={toLocalInput(serverNow())} />
          </label>
          <label>
            {t('c.station')}
            <select name="org_unit_id" defaultValue="" data-testid="form-station">
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
            <select name="source" defaultValue="112">
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
          <select ref={first} name="type" required value={type} onChange={(e) => chooseType(e.currentTarget.value)}>
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
            value={priority}
            onChange={(e) => {
              setPriority(e.currentTarget.value);
              setPriorityTouched(true);
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
        <input name="address" maxLength={500} defaultValue={editing?.address ?? ''} />
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
        <textarea name="description" rows={3} defaultValue={editing?.description ?? ''} />
      </label>
      <label>
        {t('c.hazards')}
        <input name="hazards" defaultValue={editing?.hazards ?? ''} placeholder={t('c.hazards_hint')} />
      </label>
      <div class="row">
        <label>
          {t('c.caller_name')}
          <input name="caller_name" maxLength={500} autocomplete="off" placeholder={editing ? t('c.caller_keep') : ''} />
        </label>
        <label>
          {t('c.caller_phone')}
          <input name="caller_phone" type="tel" maxLength={500} autocomplete="off" placeholder={editing ? t('c.caller_keep') : ''} />
        </label>
      </div>
      <div class="actions">
        <button class="btn btn--primary" type="submit" disabled={busy}>
          {editing ? t('c.save') : t('c.create')}
        </button>
        <button type="button" class="btn" onClick={() => (panel.value = editing ? { view: 'detail', id: editing.id } : { view: 'list' })}>
          {t('c.cancel')}
        </button>
      </div>
    </form>
  );
}
