import { useEffect, useRef } from 'preact/hooks';
import { t } from './i18n.js';
import { db, overdueAssignments } from './store.js';
import { openIncident } from './ui.js';
import { beep, beepCount } from './sound.js';

const REPEAT_MS = 30_000;

/**
 * Assignments nobody acknowledged within ack_timeout_s: a strip under the
 * header (one button per assignment, opening its incident) and a beep when
 * one becomes overdue, repeated every 30 s while any stays overdue.
 */
export function AckWatch() {
  const overdue = overdueAssignments.value;
  const lastBeep = useRef(0);
  const seen = useRef(/** @type {Set<string>} */ (new Set()));

  useEffect(() => {
    const nowMs = Date.now();
    const fresh = overdue.some((a) => !seen.current.has(a.id));
    seen.current = new Set(overdue.map((a) => a.id));
    if (overdue.length && (fresh || nowMs - lastBeep.current > REPEAT_MS)) {
      beep();
      lastBeep.current = nowMs;
    }
  });

  if (!overdue.length) return null;
  return (
    <div class="ackwatch" role="status" data-testid="ack-overdue" data-count={overdue.length} data-beeps={beepCount.value}>
      <strong>{t('c.ack_overdue', { count: overdue.length })}</strong>
      {overdue.map((a) => {
        const inc = db.incident.get(a.incident_id);
        return (
          <button key={a.id} type="button" class="btn btn--small btn--warn" onClick={() => openIncident(a.incident_id)}>
            {db.unit.get(a.unit_id)?.call_sign ?? '?'} → {inc?.number ?? '…'}
          </button>
        );
      })}
    </div>
  );
}
