import { signal } from '@preact/signals';
import { t } from '../../shared/prefs.js';
import { session } from '../../shared/session.js';
import { mutate } from '../../shared/sync.js';
import { uuidv7 } from '../../shared/ids.js';
import { currentPosition } from '../lib/geo.js';
import { myUnit } from '../lib/state.js';

export const HOLD_MS = 1500;
const holding = signal(false);
let timer = /** @type {any} */ (null);

function raise() {
  const unitId = session.value?.unit_id ?? null;
  const unit = myUnit.value;
  const pos = currentPosition() ?? (unit?.last_lat != null ? { lat: unit.last_lat, lon: unit.last_lon } : null);
  mutate('alert.raise', { alert_id: uuidv7(), unit_id: unitId, ...(pos ? { lat: pos.lat, lon: pos.lon } : {}) }).catch(() => {});
  navigator.vibrate?.([200, 100, 200]);
}

function begin(/** @type {Event} */ ev) {
  ev.preventDefault();
  if (timer) return;
  holding.value = true;
  timer = setTimeout(() => {
    timer = null;
    holding.value = false;
    raise();
  }, HOLD_MS);
}

function cancel() {
  clearTimeout(timer);
  timer = null;
  holding.value = false;
}

/** A deliberate ~1.5 s hold (pointer or Space/Enter), with a filling bar; letting go early cancels. */
export function EmergencyButton() {
  return (
    <button
      type="button"
      class={`status-button status-button--emergency${holding.value ? ' is-holding' : ''}`}
      data-status="emergency"
      data-testid="emergency"
      aria-describedby="emergency-hint"
      onPointerDown={begin}
      onPointerUp={cancel}
      onPointerLeave={cancel}
      onPointerCancel={cancel}
      onContextMenu={(e) => e.preventDefault()}
      onKeyDown={(e) => {
        if ((e.key === ' ' || e.key === 'Enter') && !e.repeat) begin(e);
      }}
      onKeyUp={(e) => {
        if (e.key === ' ' || e.key === 'Enter') cancel();
      }}
    >
      <span class="emergency__fill" aria-hidden="true" />
      <span class="emergency__label">{holding.value ? t('emergency.keep_holding') : t('status.emergency')}</span>
      <span id="emergency-hint" class="emergency__hint">
        {t('emergency.hint')}
      </span>
    </button>
  );
}
