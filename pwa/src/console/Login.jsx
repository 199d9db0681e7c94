import { useState } from 'preact/hooks';
import { t } from './i18n.js';
import { signIn, signOut, endReason } from '../shared/session.js';
import { pendingCount } from '../shared/sync-status.js';
import { unlockAudio } from './sound.js';
import { LanguageSelect } from '../shared/ui/PrefControls.jsx';

const DESK_ROLES = ['dispatcher', 'commander', 'admin'];

export function Login() {
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  /** @param {SubmitEvent} e */
  async function submit(e) {
    e.preventDefault();
    unlockAudio(); // the click is the gesture that lets alarms sound later
    const form = /** @type {HTMLFormElement} */ (e.currentTarget);
    const data = new FormData(form);
    setBusy(true);
    setError('');
    try {
      const me = await signIn(String(data.get('username')), String(data.get('password')), { deviceLabel: 'Dispatch console' });
      if (!DESK_ROLES.includes(me.role)) {
        await signOut();
        setError(t('c.login_not_desk'));
      }
    } catch (err) {
      const e = /** @type {any} */ (err);
      const key = `signin.error.${e.code}`;
      const text = t(key, { seconds: e.retryAfter ?? 60 });
      setError(text !== key ? text : e.message || t('c.login_failed'));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main class="login">
      <form class="login__form" onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">{t('app.console_title')}</h1>
        <label>
          {t('c.username')}
          <input name="username" autocomplete="username" required autofocus />
        </label>
        <label>
          {t('c.password')}
          <input name="password" type="password" autocomplete="current-password" required />
        </label>
        {!error && endReason.value && endReason.value !== 'signed_out' && (
          <p class="login__error" role="status" data-testid="end-reason">
            {t(`signin.ended.${endReason.value}`)}
            {pendingCount.value > 0 && ` ${t('c.unsent_kept', { count: pendingCount.value })}`}
          </p>
        )}
        {error && (
          <p class="login__error" role="alert">
            {error}
          </p>
        )}
        <button class="btn btn--primary" type="submit" disabled={busy}>
          {t('c.sign_in')}
        </button>
        <LanguageSelect id="login-language" />
      </form>
    </main>
  );
}
