import { t } from '../../shared/prefs.js';
import { LanguageSelect, ThemeChoice } from '../../shared/ui/PrefControls.jsx';
import { session, signOut } from '../../shared/session.js';
import { pendingCount } from '../../shared/sync-status.js';
import { pushState, enablePush, disablePush } from '../../shared/push.js';
import { positionState } from '../lib/geo.js';

export function Settings() {
  const push = pushState.value;
  return (
    <section class="screen" aria-labelledby="settings-title">
      <h2 id="settings-title" class="screen__title">
        {t('settings.title')}
      </h2>
      <LanguageSelect />
      <ThemeChoice />
      <div class="field">
        <span class="field__label">{t('settings.push')}</span>
        <button
          type="button"
          class="button button--big"
          data-testid="push-toggle"
          disabled={push === 'working'}
          onClick={() => (push === 'on' ? disablePush() : enablePush())}
        >
          {push === 'on' ? t('settings.push_off') : t('settings.push_on')}
        </button>
        <p class={`screen__hint push-state push-state--${push}`} role="status" data-testid="push-state">
          {t(`push.state.${push}`)}
        </p>
      </div>
      <div class="field">
        <span class="field__label">{t('settings.position')}</span>
        <p class="screen__hint">{t(`position.${positionState.value}`)}</p>
      </div>
      <div class="field">
        <span class="field__label">{t('settings.account')}</span>
        <p class="screen__hint">{session.value?.display_name}</p>
        <button
          type="button"
          class="button button--danger button--big"
          data-testid="sign-out"
          onClick={() => {
            const n = pendingCount.value;
            if (n > 0 && !confirm(t('settings.sign_out_unsent', { count: n }))) return;
            signOut();
          }}
        >
          {t('settings.sign_out')}
        </button>
        <p class="screen__hint">{t('settings.sign_out_hint')}</p>
      </div>
    </section>
  );
}
