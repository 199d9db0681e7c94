import { useSignal } from '@preact/signals';
import { t } from '../../shared/prefs.js';
import { mutate } from '../../shared/sync.js';
import { uuidv7 } from '../../shared/ids.js';
import { EmptyState } from '../../shared/ui/EmptyState.jsx';
import { currentAssignment, currentIncident, notesFor, reportFor, typeLabel } from '../lib/state.js';
import { hhmm } from '../ui/format.js';

export const REPORT_FIELDS = /** @type {const} */ (['summary', 'actions_taken', 'persons', 'vehicles', 'evidence']);

export function Notes() {
  const asg = currentAssignment.value;
  const inc = currentIncident.value;
  const incidentId = asg?.incident_id ?? null;
  const draft = useSignal('');
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
  return (
    <section class="screen" aria-labelledby="notes-title">
      <h2 id="notes-title" class="screen__title">
        {t('notes.title')}
        {inc && <span class="screen__context"> · {typeLabel(inc.type)}</span>}
      </h2>
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
      <form
        class="form"
        onSubmit={(e) => {
          e.preventDefault();
          const body = draft.value.trim();
          if (!body) return;
          mutate('incident.add_note', { note_id: uuidv7(), incident_id: incidentId, body });
          draft.value = '';
        }}
      >
        <label class="field__label" for="note-body">
          {t('notes.add')}
        </label>
        <textarea id="note-body" class="field__control" rows={3} value={draft.value} onInput={(e) => (draft.value = e.currentTarget.value)} />
        <button type="submit" class="button button--primary button--big" disabled={!draft.value.trim()}>
          {t('notes.save')}
        </button>
      </form>
      <Report incidentId={incidentId} />
    </section>
  );
}

/** @param {{incidentId: string}} props */
function Report({ incidentId }) {
  const report = reportFor(incidentId);
  const edits = useSignal(/** @type {Record<string, string>} */ ({}));
  const saved = useSignal(false);
  const value = (/** @type {string} */ f) => edits.value[f] ?? report?.[f] ?? '';
  const changed = Object.keys(edits.value).filter((f) => (edits.value[f] ?? '') !== (report?.[f] ?? ''));
  return (
    <form
      class="form report"
      onSubmit={(e) => {
        e.preventDefault();
        if (changed.length === 0) return;
        const fields = Object.fromEntries(changed.map((f) => [f, edits.value[f] || null]));
        mutate('report.update', { report_id: report?.id ?? uuidv7(), incident_id: incidentId, ...fields }, { base_version: report?.version ?? null });
        edits.value = {};
        saved.value = true;
      }}
    >
      <h2 class="screen__title">
        {t('report.title')}
        {report?._pending && <span class="pending-tag">{t('sync.not_sent')}</span>}
      </h2>
      {REPORT_FIELDS.map((f) => (
        <div key={f} class="field">
          <label class="field__label" for={`report-${f}`}>
            {t(`report.${f}`)}
          </label>
          <textarea
            id={`report-${f}`}
            class="field__control"
            rows={f === 'summary' ? 4 : 2}
            value={value(f)}
            onInput={(e) => {
              edits.value = { ...edits.value, [f]: e.currentTarget.value };
              saved.value = false;
            }}
          />
        </div>
      ))}
      <button type="submit" class="button button--primary button--big" disabled={changed.length === 0}>
        {t('report.save')}
      </button>
      {saved.value && changed.length === 0 && <p class="screen__hint">{t('report.saved')}</p>}
    </form>
  );
}
