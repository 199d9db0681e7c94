import { useEffect } from 'preact/hooks';
import { signal, useSignal } from '@preact/signals';
import { t } from '../../shared/prefs.js';
import { mutate, notices, dismissNotice } from '../../shared/sync.js';
import { addWipeHook, api } from '../../shared/session.js';
import { uuidv7 } from '../../shared/ids.js';
import { LIMITS } from '../../shared/vocabulary.js';
import { counterText, nearLimit, outboxMutation, refusal, refusalText } from '../../shared/refusal.js';
import { EmptyState } from '../../shared/ui/EmptyState.jsx';
import { currentAssignment, currentIncident, notesFor, reportFor, typeLabel, workedIncidents, pickedWorked } from '../lib/state.js';
import { hhmm } from '../ui/format.js';

export const REPORT_FIELDS = /** @type {const} */ (['summary', 'actions_taken', 'persons', 'vehicles', 'evidence']);

const NOTE_MAX = LIMITS['incident.add_note'].body;
const REPORT_MAX = /** @type {Record<string, number>} */ (LIMITS['report.update']);

const NOTES_KEY = 'patrol.officer.notes';
/** @returns {Record<string, string>} */
function readNotes() {
  try {
    const v = JSON.parse(globalThis.sessionStorage?.getItem(NOTES_KEY) ?? '{}');
    return v && typeof v === 'object' ? v : {};
  } catch {
    return {};
  }
}
/**
 * The note being written, per incident: kept while the officer looks at other screens, and in
 * this tab's sessionStorage so a reload keeps it too (a refused note given back included).
 */
const noteText = signal(readNotes());
// Signing out (or a revoked phone) wipes the device: the unsent text too.
addWipeHook(() => {
  noteText.value = {};
  givenBack.value = null;
});
/**
 * A refused note given back to the field: which outbox entry it was (its notice is read when the
 * note is sent again) and why it was refused, in the officer's language.
 * @type {import('@preact/signals').Signal<{incidentId: string, seq: number, why: string} | null>}
 */
const givenBack = signal(null);

/** @param {string} incidentId @param {string} text */
function setNote(incidentId, text) {
  const next = { ...noteText.value, [incidentId]: text };
  if (!text) delete next[incidentId];
  noteText.value = next;
}

noteText.subscribe((v) => {
  try {
    if (Object.keys(v).length === 0) globalThis.sessionStorage?.removeItem(NOTES_KEY);
    else globalThis.sessionStorage?.setItem(NOTES_KEY, JSON.stringify(v));
  } catch {
    /* private mode or full: kept in memory */
  }
});

/** A field's name as the screen shows it. @param {string | null} field */
function fieldLabel(field) {
  if (field === 'body') return t('notes.body');
  return field ? t(`report.${field}`) : '';
}

/**
 * Put a refused note back in the field (after what is there, if the officer started another).
 * @param {string} incidentId @param {number} seq @param {string} body @param {{reason_code?: string | null, reason?: string | null, result?: any}} outcome
 */
function giveBack(incidentId, seq, body, outcome) {
  const r = refusal('incident.add_note', outcome, { body });
  const now = noteText.value[incidentId] ?? '';
  setNote(incidentId, now.trim() ? `${now}\n\n${body}` : body);
  givenBack.value = { incidentId, seq, why: refusalText(t, r, fieldLabel(r.field), outcome.reason ?? null) };
}

/** Counter near a limit, e.g. "19,850 / 20,000". @param {{value: string, max: number, id: string}} props */
function Counter({ value, max, id }) {
  if (!nearLimit(value.length, max)) return null;
  return (
    <p id={id} class={`field__count${value.length > max ? ' field__count--over' : ''}`} data-testid={id}>
      {counterText(t, value.length, max)}
    </p>
  );
}

export function Notes() {
  const asg = currentAssignment.value;
  const worked = asg ? [] : workedIncidents.value;
  // No assignment now: the incidents finished today stay open for notes and the report.
  const picked = worked.find((w) => w.incident.id === pickedWorked.value) ?? worked[0] ?? null;
  const inc = asg ? currentIncident.value : picked?.incident ?? null;
  const incidentId = asg?.incident_id ?? picked?.incident.id ?? null;
  if (!incidentId) {
    return (
      <section class="screen" aria-labelledby="notes-title">
        <h2 id="notes-title" class="screen__title">
          {t('notes.title')}
        </h2>
        <EmptyState title={t('notes.no_incident')} hint={t('assignment.none_hint')} />
      </section>
    );
  }
  const notes = notesFor(incidentId);
  const text = noteText.value[incidentId] ?? '';
  const back = givenBack.value?.incidentId === incidentId ? givenBack.value : null;
  return (
    <section class="screen" aria-labelledby="notes-title">
      <h2 id="notes-title" class="screen__title">
        {t('notes.title')}
        {inc && <span class="screen__context"> · {typeLabel(inc.type)}</span>}
      </h2>
      {worked.length > 0 && (
        <div class="field">
          <label class="field__label" for="worked-incident">
            {t('notes.finished_incident')}
          </label>
          <select
            id="worked-incident"
            class="field__control"
            data-testid="worked-incident"
            value={incidentId}
            onChange={(e) => (pickedWorked.value = e.currentTarget.value)}
          >
            {worked.map((w) => (
              <option key={w.incident.id} value={w.incident.id}>
                {`${hhmm(w.assignment.cleared_at)} · ${typeLabel(w.incident.type)}${w.incident.address ? ` · ${w.incident.address}` : ''}`}
              </option>
            ))}
          </select>
        </div>
      )}
      {notes.length === 0 ? (
        <EmptyState title={t('notes.none')} />
      ) : (
        <ul class="notes" data-testid="notes">
          {notes.map((n) => (
            <li key={n.id} class="note">
              <span class="note__time">{hhmm(n.event_at ?? n.device_at)}</span>
              <span class="note__body">{n.body}</span>
              {n._pending && <span class="pending-tag">{t('sync.not_sent')}</span>}
              {n.late ? <span class="pending-tag">{t('notes.late')}</span> : null}
            </li>
          ))}
        </ul>
      )}
      <RefusedNotes incidentId={incidentId} skip={back?.seq ?? null} />
      <form
        class="form"
        onSubmit={async (e) => {
          e.preventDefault();
          const body = text.trim();
          if (!body) return;
          const entry = await mutate('incident.add_note', { note_id: uuidv7(), incident_id: incidentId, body });
          setNote(incidentId, '');
          // The refused note given back before is in this one now: its notice is read.
          if (back) {
            givenBack.value = null;
            dismissNotice(back.seq).catch(() => {});
          }
          // Refused (too long, say): the text comes back to the field instead of vanishing.
          entry.result.then((r) => {
            if (r.outcome === 'rejected') giveBack(incidentId, entry.seq, body, r);
          });
        }}
      >
        <label class="field__label" for="note-body">
          {t('notes.add')}
        </label>
        {back && (
          <p class="field__error" role="alert" data-testid="note-given-back">
            {back.why} {t('notes.sent_back')}
          </p>
        )}
        <textarea
          id="note-body"
          class="field__control"
          rows={3}
          maxLength={NOTE_MAX}
          value={text}
          aria-invalid={back ? 'true' : undefined}
          aria-describedby={nearLimit(text.length, NOTE_MAX) ? 'note-count' : undefined}
          onInput={(e) => setNote(incidentId, e.currentTarget.value)}
        />
        <Counter value={text} max={NOTE_MAX} id="note-count" />
        <button type="submit" class="button button--primary button--big" disabled={!text.trim()}>
          {t('notes.save')}
        </button>
      </form>
      <Report incidentId={incidentId} />
    </section>
  );
}

/**
 * Notes of this incident the server refused and this page did not give back itself (it was
 * reloaded, or the phone was offline when they were refused): their text, from the outbox,
 * one tap from the field.
 * @param {{incidentId: string, skip: number | null}} props
 */
function RefusedNotes({ incidentId, skip }) {
  const refused = notices.value.filter((n) => n.name === 'incident.add_note' && n.state === 'rejected' && n.seq !== skip);
  const sent = useSignal(/** @type {Record<number, Record<string, any> | null>} */ ({}));
  const key = refused.map((n) => n.seq).join(',');
  useEffect(() => {
    let live = true;
    Promise.all(refused.map(async (n) => [n.seq, sent.value[n.seq] ?? (await outboxMutation(n.seq))?.args ?? null]))
      .then((pairs) => live && (sent.value = Object.fromEntries(pairs)))
      .catch(() => {});
    return () => {
      live = false;
    };
  }, [key]);
  const mine = refused.filter((n) => sent.value[n.seq]?.incident_id === incidentId && typeof sent.value[n.seq]?.body === 'string');
  if (mine.length === 0) return null;
  return (
    <section class="refused-notes" aria-labelledby="refused-notes-title" data-testid="refused-notes">
      <h3 id="refused-notes-title" class="screen__subtitle">
        {t('notes.refused')}
      </h3>
      <ul>
        {mine.map((n) => {
          const body = /** @type {string} */ (sent.value[n.seq]?.body);
          const why = refusalText(t, refusal('incident.add_note', { reason_code: n.reason_code }, { body }), fieldLabel('body'), n.notice);
          return (
            <li key={n.seq} class="refused-note" data-seq={n.seq}>
              <p class="refused-note__why">{why}</p>
              <p class="refused-note__start">{body.slice(0, 120)}{body.length > 120 ? '…' : ''}</p>
              <button
                type="button"
                class="button"
                data-testid="put-note-back"
                onClick={() => giveBack(incidentId, n.seq, body, { reason_code: n.reason_code, reason: n.notice })}
              >
                {t('notes.put_back')}
              </button>
            </li>
          );
        })}
      </ul>
    </section>
  );
}

/** @param {{incidentId: string}} props */
function Report({ incidentId }) {
  const report = reportFor(incidentId);
  const edits = useSignal(/** @type {Record<string, string>} */ ({}));
  const saved = useSignal(false);
  const sentBack = useSignal(/** @type {string | null} */ (null));
  // Persons named in a report are personal data: the sync never carries them (only
  // `has_persons`), so they are read on request, audited. Until then the field is not
  // editable: typing blind would replace what is stored.
  const persons = useSignal(/** @type {{id: string, text: string} | null} */ (null));
  const personsFailed = useSignal(false);
  const hidden = !!report?.has_persons && report?.persons === undefined && persons.value?.id !== report?.id;
  /** @param {string} f */
  const stored = (f) => (f === 'persons' && persons.value?.id === report?.id ? persons.value?.text : report?.[f]) ?? '';
  const value = (/** @type {string} */ f) => edits.value[f] ?? stored(f);
  const changed = Object.keys(edits.value).filter((f) => (edits.value[f] ?? '') !== stored(f));
  async function showPersons() {
    if (!report) return;
    personsFailed.value = false;
    try {
      const body = await api(`/api/reports/${report.id}/persons`);
      persons.value = { id: report.id, text: body.persons ?? '' };
    } catch {
      personsFailed.value = true;
    }
  }
  return (
    <form
      class="form report"
      onSubmit={async (e) => {
        e.preventDefault();
        if (changed.length === 0) return;
        const sentEdits = Object.fromEntries(changed.map((f) => [f, edits.value[f]]));
        const fields = Object.fromEntries(changed.map((f) => [f, edits.value[f] || null]));
        const entry = await mutate('report.update', { report_id: report?.id ?? uuidv7(), incident_id: incidentId, ...fields }, { base_version: report?.version ?? null });
        edits.value = {};
        saved.value = true;
        sentBack.value = null;
        entry.result.then((r) => {
          if (r.outcome !== 'rejected') return;
          // Refused: what was typed comes back (fields edited since keep the newer text).
          edits.value = { ...sentEdits, ...edits.value };
          saved.value = false;
          const why = refusal('report.update', r, fields);
          sentBack.value = `${refusalText(t, why, fieldLabel(why.field), r.reason)} ${t('report.sent_back')}`;
        });
      }}
    >
      <h2 class="screen__title">
        {t('report.title')}
        {report?._pending && <span class="pending-tag">{t('sync.not_sent')}</span>}
      </h2>
      {sentBack.value && (
        <p class="field__error" role="alert" data-testid="report-given-back">
          {sentBack.value}
        </p>
      )}
      {REPORT_FIELDS.map((f) => (
        <div key={f} class="field">
          <label class="field__label" for={`report-${f}`}>
            {t(`report.${f}`)}
          </label>
          {f === 'persons' && hidden ? (
            <div class="field__control field__control--closed">
              <button type="button" class="button" id={`report-${f}`} data-testid="report-show-persons" onClick={showPersons}>
                {t('report.show_persons')}
              </button>
              <p class="screen__hint">{personsFailed.value ? t('report.persons_offline') : t('report.persons_audited')}</p>
            </div>
          ) : (
          <textarea
            id={`report-${f}`}
            class="field__control"
            rows={f === 'summary' ? 4 : 2}
            maxLength={REPORT_MAX[f]}
            value={value(f)}
            aria-describedby={nearLimit(value(f).length, REPORT_MAX[f]) ? `report-${f}-count` : undefined}
            onInput={(e) => {
              edits.value = { ...edits.value, [f]: e.currentTarget.value };
              saved.value = false;
            }}
          />
          )}
          <Counter value={value(f)} max={REPORT_MAX[f]} id={`report-${f}-count`} />
        </div>
      ))}
      <button type="submit" class="button button--primary button--big" disabled={changed.length === 0}>
        {t('report.save')}
      </button>
      {saved.value && changed.length === 0 && <p class="screen__hint">{t('report.saved')}</p>}
    </form>
  );
}
