import { pushState, enablePush, disablePush } from '../shared/push.js';
import { t } from './i18n.js';

/**
 * Emergency alerts as notifications on this computer, for desk staff who are not
 * looking at the console (another window, the console closed, a commander away
 * from the desk). The server sends raised alerts to the dispatchers and
 * commanders whose scope covers them.
 */
export function PushChoice() {
  const state = pushState.value;
  return (
    <div class="console__push">
      <span class="label">{t('c.push_title')}</span>
      <button
        type="button"
        class="btn btn--small"
        data-testid="console-push-toggle"
        disabled={state === 'working'}
        onClick={() => (state === 'on' ? disablePush() : enablePush())}
      >
        {state === 'on' ? t('c.push_stop') : t('c.push_start')}
      </button>
      <p class="hint" role="status" data-testid="console-push-state">
        {t(`c.push_state.${state}`)}
      </p>
    </div>
  );
}
