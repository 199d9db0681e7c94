/** Roster for a week: shifts per unit and day; create, edit, delete, copy the week to the next. */
import { useState } from 'preact/hooks';
import { api, query, session } from './api.js';
import { CsvButton } from './CsvButton.jsx';
import { L, weekdayDate } from './i18n.js';
import { addDays, dateOf, localMs, mondayOf, timeOf } from './dates.js';
import { station, toDate, unitsOfStation } from './store.js';
import { useReport } from './useReport.js';

export function ShiftsTab() {
  const [week, setWeek] = useState(mondayOf(toDate.value));
  const [editing, setEditing] = useState(/** @type {any} */ (null));
  const [notice, setNotice] = useState('');
  const [error, setError] = useState('');
  const canPlan = ['commander', 'admin'].includes(session.value?.me?.role);
  const url = `/api/shifts${query({ week, org_unit: station.value || undefined })}`;
  const list = useReport(url);
  const officers = useReport(canPlan ? `/api/shifts/officers${query({ org_unit: station.value || undefined })}` : null);
  const units = unitsOfStation();
  const days = Array.from({ length: 7 }, (_, i) => addDays(week, i));
  const shifts = list.data ?? [];

  async function copyWeek() {
    setNotice('');
    setError('');
    try {
      const res = await api('/api/shifts/copy-week', { method: 'POST', body: { week, org_unit_id: station.value || null } });
      setNotice(L('a.sh.copied', { count: res.created.length, week: res.target_week }));
    } catch (err) {
      setError(/** @type {Error} */ (err).message);
    }
  }

  const csv = () => ({
    name: `roster_${week}`,
    lines: [
      ['shift_id', 'unit', 'station', 'starts', 'ends', 'planned_area', 'lead', 'members', 'notes'],
      ...shifts.map((/** @type {any} */ s) => [
        s.id, s.call_sign, s.org_unit_code, `${dateOf(s.starts_at)} ${timeOf(s.starts_at)}`, `${dateOf(s.ends_at)} ${timeOf(s.ends_at)}`,
        s.planned_area, s.members.filter((/** @type {any} */ m) => m.role === 'lead').map((/** @type {any} */ m) => m.full_name).join('; '),
        s.members.filter((/** @type {any} */ m) => m.role !== 'lead').map((/** @type {any} */ m) => m.full_name).join('; '), s.notes,
      ]),
    ],
  });

  return (
    <section class="an-section" aria-labelledby="sh-title">
      <div class="an-toolbar">
        <h2 id="sh-title">{L('a.sh.title')}</h2>
        <button class="button button--small" type="button" onClick={() => setWeek(addDays(week, -7))} aria-label={L('a.sh.prev')}>‹</button>
        <label class="an-field">
          <span>{L('a.sh.week')}</span>
          <input type="date" name="week" value={week} onChange={(e) => setWeek(mondayOf(/** @type {HTMLInputElement} */ (e.target).value || week))} />
        </label>
        <button class="button button--small" type="button" onClick={() => setWeek(addDays(week, 7))} aria-label={L('a.sh.next')}>›</button>
        {canPlan && <button class="button button--small button--primary" type="button" onClick={() => setEditing({ new: true, date: week })}>{L('a.sh.new')}</button>}
        {canPlan && <button class="button button--small" type="button" onClick={copyWeek}>{L('a.sh.copy')}</button>}
        <CsvButton rows={csv} />
      </div>
      {notice && <p class="an-ok" role="status">{notice}</p>}
      {error && <p class="an-error" role="alert">{error}</p>}
      {list.error && <p class="an-error" role="alert">{list.error.message}</p>}
      {editing && (
        <ShiftForm
          shift={editing}
          units={units}
          officers={officers.data ?? []}
          onDone={(msg) => {
            setEditing(null);
            setNotice(msg);
            list.reload();
          }}
          onCancel={() => setEditing(null)}
        />
      )}
      <div class="an-scroll">
        <table class="an-table an-roster" data-testid="roster">
          <thead>
            <tr>
              <th>{L('a.unit')}</th>
              {days.map((d) => <th key={d}>{weekdayDate(localMs(d, '12:00'))}</th>)}
            </tr>
          </thead>
          <tbody>
            {units.map((u) => (
              <tr key={u.id}>
                <th scope="row">{u.call_sign}</th>
                {days.map((d) => (
                  <td key={d}>
                    {shifts.filter((/** @type {any} */ s) => s.unit_id === u.id && dateOf(s.starts_at) === d).map((/** @type {any} */ s) => (
                      <button key={s.id} type="button" class="an-shift" disabled={!canPlan} onClick={() => setEditing(s)} title={s.members.map((/** @type {any} */ m) => m.full_name).join(', ')}>
                        <strong>{timeOf(s.starts_at)}–{timeOf(s.ends_at)}</strong>
                        {s.planned_area && <span>{s.planned_area}</span>}
                        <span class="an-muted">{L('a.sh.crew', { count: s.members.length })}</span>
                      </button>
                    ))}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/**
 * @param {{shift: any, units: any[], officers: any[], onDone: (msg: string) => void, onCancel: () => void}} props
 */
function ShiftForm({ shift, units, officers, onDone, onCancel }) {
  const isNew = Boolean(shift.new);
  const [unitId, setUnitId] = useState(isNew ? units[0]?.id ?? '' : shift.unit_id);
  const [date, setDate] = useState(isNew ? shift.date : dateOf(shift.starts_at));
  const [start, setStart] = useState(isNew ? '07:00' : timeOf(shift.starts_at));
  const [end, setEnd] = useState(isNew ? '15:00' : timeOf(shift.ends_at));
  const [area, setArea] = useState(isNew ? '' : shift.planned_area ?? '');
  const [notes, setNotes] = useState(isNew ? '' : shift.notes ?? '');
  /** @type {[Record<string, string>, any]} */
  const [members, setMembers] = useState(isNew ? {} : Object.fromEntries(shift.members.map((/** @type {any} */ m) => [m.user_id, m.role])));
  const [error, setError] = useState(/** @type {{message: string, field?: string} | null} */ (null));
  // Officers already on this shift stay listed even if they are not in the filtered list.
  const people = [...officers, ...(isNew ? [] : shift.members.filter((/** @type {any} */ m) => !officers.some((o) => o.id === m.user_id)).map((/** @type {any} */ m) => ({ id: m.user_id, full_name: m.full_name, org_unit_code: '' })))];

  /** @param {string} id @param {string} role '' = not on the shift */
  function setRole(id, role) {
    const next = { ...members };
    if (role === 'lead') for (const k of Object.keys(next)) if (next[k] === 'lead') next[k] = 'member';
    if (role) next[id] = role;
    else delete next[id];
    setMembers(next);
  }

  /** @param {Event} e */
  async function save(e) {
    e.preventDefault();
    setError(null);
    // 19:00–19:00 is a typing slip, not a 24-hour shift; a shift with nobody on it crews nothing.
    if (start === end) return setError({ message: L('a.sh.same_times') });
    if (Object.keys(members).length === 0) return setError({ message: L('a.sh.no_crew') });
    const startsAt = localMs(date, start);
    let endsAt = localMs(date, end);
    if (endsAt <= startsAt) endsAt = localMs(addDays(date, 1), end); // a night shift ends the next day
    const body = {
      unit_id: unitId, starts_at: startsAt, ends_at: endsAt, planned_area: area || null, notes: notes || null,
      members: Object.entries(members).map(([user_id, role]) => ({ user_id, role })),
    };
    try {
      if (isNew) await api('/api/shifts', { method: 'POST', body });
      else await api(`/api/shifts/${shift.id}`, { method: 'PUT', body });
      onDone(L('a.sh.saved'));
    } catch (err) {
      const ex = /** @type {any} */ (err);
      setError({ message: ex.message, field: ex.field });
    }
  }

  async function remove() {
    if (!globalThis.confirm(L('a.sh.delete_confirm'))) return;
    try {
      await api(`/api/shifts/${shift.id}`, { method: 'DELETE' });
      onDone(L('a.sh.deleted'));
    } catch (err) {
      setError({ message: /** @type {Error} */ (err).message });
    }
  }

  return (
    <form class="an-form" onSubmit={save} aria-label={isNew ? L('a.sh.new') : L('a.sh.edit')}>
      <h3>{isNew ? L('a.sh.new') : L('a.sh.edit')}</h3>
      <div class="an-form__grid">
        <label class="an-field">
          <span>{L('a.unit')}</span>
          <select name="unit_id" value={unitId} onChange={(e) => setUnitId(/** @type {HTMLSelectElement} */ (e.target).value)} required>
            {units.map((u) => <option key={u.id} value={u.id}>{u.call_sign}</option>)}
          </select>
        </label>
        <label class="an-field"><span>{L('a.day')}</span><input type="date" name="date" value={date} onChange={(e) => setDate(/** @type {HTMLInputElement} */ (e.target).value)} required /></label>
        <label class="an-field"><span>{L('a.sh.start')}</span><input type="time" name="start" value={start} onChange={(e) => setStart(/** @type {HTMLInputElement} */ (e.target).value)} required /></label>
        <label class="an-field"><span>{L('a.sh.end')}</span><input type="time" name="end" value={end} onChange={(e) => setEnd(/** @type {HTMLInputElement} */ (e.target).value)} required /></label>
        <label class="an-field an-field--wide"><span>{L('a.sh.area')}</span><input name="planned_area" value={area} maxLength={200} onInput={(e) => setArea(/** @type {HTMLInputElement} */ (e.target).value)} /></label>
        <label class="an-field an-field--wide"><span>{L('a.sh.notes')}</span><input name="notes" value={notes} maxLength={2000} onInput={(e) => setNotes(/** @type {HTMLInputElement} */ (e.target).value)} /></label>
      </div>
      <fieldset class="an-members">
        <legend>{L('a.sh.members')}</legend>
        {people.map((o) => (
          <label key={o.id} class="an-member">
            <select value={members[o.id] ?? ''} onChange={(e) => setRole(o.id, /** @type {HTMLSelectElement} */ (e.target).value)} aria-label={o.full_name}>
              <option value="">—</option>
              <option value="lead">{L('a.sh.lead')}</option>
              <option value="member">{L('a.sh.member')}</option>
            </select>
            {o.full_name} <span class="an-muted">{o.org_unit_code}</span>
          </label>
        ))}
      </fieldset>
      {error && <p class="an-error" role="alert">{error.field ? `${L(`a.field.${error.field.replace(/\[\d+\]/, '')}`)}: ` : ''}{error.message}</p>}
      <div class="an-form__actions">
        <button class="button button--primary" type="submit">{L('a.save')}</button>
        <button class="button" type="button" onClick={onCancel}>{L('a.cancel')}</button>
        {!isNew && <button class="button button--danger" type="button" onClick={remove}>{L('a.delete')}</button>}
      </div>
    </form>
  );
}
