import { useState } from 'preact/hooks';
import { signIn } from './api.js';
import { L } from './i18n.js';

export function Login() {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  /** @param {Event} e */
  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      await signIn(username, password);
    } catch (err) {
      const code = /** @type {any} */ (err).code;
      setError(code === 'invalid_credentials' ? L('a.login.bad') : /** @type {Error} */ (err).message || L('a.error'));
    } finally {
      setBusy(false);
    }
  }
  return (
    <main class="an-login">
      <form class="an-login__form" onSubmit={submit}>
        <h1>{L('a.title')}</h1>
        <p class="an-muted">{L('a.login.intro')}</p>
        <label>
          {L('a.login.username')}
          <input name="username" autocomplete="username" value={username} onInput={(e) => setUsername(/** @type {HTMLInputElement} */ (e.target).value)} required />
        </label>
        <label>
          {L('a.login.password')}
          <input name="password" type="password" autocomplete="current-password" value={password} onInput={(e) => setPassword(/** @type {HTMLInputElement} */ (e.target).value)} required />
        </label>
        {error && <p class="an-error" role="alert">{error}</p>}
        <button class="button button--primary" type="submit" disabled={busy}>{L('a.login.submit')}</button>
      </form>
    </main>
  );
}
