import { t } from '../prefs.js';
import { updateWaiting, acceptUpdate, dismissUpdate } from '../sw-client.js';

/** Asks before activating a new version: the officer may be mid-report. */
export function UpdatePrompt() {
  if (!updateWaiting.value) return null;
  return (
    <div class="update" role="alert">
      <p class="update__text">{t('update.available')}</p>
      <div class="update__actions">
        <button type="button" class="button button--primary" onClick={acceptUpdate}>
          {t('update.reload')}
        </button>
        <button type="button" class="button" onClick={dismissUpdate}>
          {t('update.later')}
        </button>
      </div>
    </div>
  );
}
