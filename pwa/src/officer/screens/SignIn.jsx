import { signal } from '@preact/signals';
import { t } from '../../shared/prefs.js';
import { signIn, endReason, SignInError } from '../../shared/session.js';
import { LanguageSelect } from '../../shared/ui/PrefControls.jsx';

const busy = signal(false);
const error = signal(/** @type {string | null} */ (null));

/** @param {SubmitEvent} ev */
async function submit(ev) {
  ev.preventDefault();
  const form = /** @type {HTMLFormElement} */ (ev.currentTarget);
  const data = new FormData(form);
  busy.value = true;
  error.value = null;
  try {
    await signIn(String(data.get('username') ?? '').trim(), String(data.get('password') ?? ''));
  } catch (err) {
    const e = /** @type {SignInError} */ (err);
    if (e.code === 'too_many_attempts') error.value = t('signin.error.too_many_attempts', { seconds: e.retryAfter ?? 60 });
    else if (['invalid_credentials', 'device_revoked', 'offline', 'account_disabled'].includes(e.code)) error.value = t(`signin.error.${e.code}`);
    else error.value = t('signin.error.other', { message: e.message });
  } finally {
    busy.value = false;
  }
}

export function SignIn() {
  const why = endReason.value;
  return (
    <section class="screen signin" aria-labelledby="signin-title">
      <div class="signin__brand">
        <img src="/icons/icon.svg" alt="" width="56" height="56" />
        <span class="signin__name">{t('app.name')}</span>
      </div>
      <h2 id="signin-title" class="screen__title">
        {t('signin.title')}
      </h2>
      {why && why !== 'signed_out' && (
        <p class={`banner banner--${why === 'revoked' ? 'danger' : 'warn'}`} role="alert" data-testid="end-reason">
          {t(`signin.ended.${why}`)}
        </p>
      )}
      {why === 'signed_out' && <p class="banner">{t('signin.ended.signed_out')}</p>}
      <form class="form" onSubmit={submit}>
        <div class="field">
          <label class="field__label" for="username">
            {t('signin.username')}
          </label>
          <input id="username" name="username" class="field__control" autocomplete="username" autocapitalize="none" required />
        </div>
        <div class="field">
          <label class="field__label" for="password">
            {t('signin.password')}
          </label>
          <input id="password" name="password" type="password" class="field__control" autocomplete="current-password" required />
        </div>
        {error.value && (
          <p class="banner banner--danger" role="alert">
            {error.value}
          </p>
        )}
        <button type="submit" class="button button--primary button--big" disabled={busy.value}>
          {busy.value ? t('signin.busy') : t('signin.submit')}
        </button>
      </form>
      <LanguageSelect id="signin-language" />
    </section>
  );
}
