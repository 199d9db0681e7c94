/** The analysis page: header with period and station, and one tab at a time. */
import { useEffect, useState } from 'preact/hooks';
import { LANGUAGES } from '../i18n/language.js';
import { languageSetting, setLanguage, setTheme, theme } from '../shared/prefs.js';
import { session, sessionChecked, signOut } from './api.js';
import { L } from './i18n.js';
import { Login } from './Login.jsx';
import { fromDate, loadReference, orgUnits, station, tab, toDate } from './store.js';
import { ResponseTab } from './ResponseTab.jsx';
import { AvailabilityTab } from './AvailabilityTab.jsx';
import { DemandTab } from './DemandTab.jsx';
import { TrackTab } from './TrackTab.jsx';
import { ShiftsTab } from './ShiftsTab.jsx';

const TABS = /** @type {const} */ (['response', 'availability', 'demand', 'track', 'shifts']);
const LANGUAGE_NAMES = { en: 'English', 'sr-Latn': 'Srpski', 'sr-Cyrl': 'Српски', sl: 'Slovenščina' };

export function App() {
  const s = session.value;
  if (!s && !sessionChecked.value) return null;
  if (!s) return <Login />;
  if (!['dispatcher', 'commander', 'admin'].includes(s.me?.role)) {
    return (
      <main class="an-login">
        <p class="an-error">{L('a.not_allowed')}</p>
        <button class="button" type="button" onClick={() => signOut()}>{L('a.sign_out')}</button>
      </main>
    );
  }
  return <Analysis />;
}

function Analysis() {
  const [ready, setReady] = useState(false);
  const [error, setError] = useState('');
  useEffect(() => {
    loadReference().then(() => setReady(true), (err) => setError(err.message));
  }, []);
  const me = session.value?.me;
  const stations = orgUnits.value.filter((o) => o.kind === 'station' || o.kind === 'border_centre');
  return (
    <div class="an">
      <header class="an-header">
        <h1 class="an-header__title">{L('a.title')}</h1>
        <label class="an-field">
          <span>{L('a.from')}</span>
          <input type="date" name="from" value={fromDate.value} max={toDate.value} onChange={(e) => (fromDate.value = /** @type {HTMLInputElement} */ (e.target).value || fromDate.value)} />
        </label>
        <label class="an-field">
          <span>{L('a.to')}</span>
          <input type="date" name="to" value={toDate.value} min={fromDate.value} onChange={(e) => (toDate.value = /** @type {HTMLInputElement} */ (e.target).value || toDate.value)} />
        </label>
        <label class="an-field">
          <span>{L('a.station')}</span>
          <select name="station" value={station.value} onChange={(e) => (station.value = /** @type {HTMLSelectElement} */ (e.target).value)}>
            <option value="">{L('a.station.all')}</option>
            {stations.map((o) => <option key={o.id} value={o.id}>{o.name}</option>)}
          </select>
        </label>
        <div class="an-header__me">
          <span>{me?.display_name}</span>
          <select aria-label={L('a.language')} value={languageSetting.value} onChange={(e) => setLanguage(/** @type {HTMLSelectElement} */ (e.target).value)}>
            <option value="auto">{L('a.language.auto')}</option>
            {LANGUAGES.map((l) => <option key={l} value={l}>{LANGUAGE_NAMES[l]}</option>)}
          </select>
          <button class="button button--small" type="button" onClick={() => setTheme(theme.value === 'dark' ? 'light' : 'dark')}>
            {theme.value === 'dark' ? L('a.theme.light') : L('a.theme.dark')}
          </button>
          <a class="button button--small" href="/console">{L('a.console')}</a>
          <button class="button button--small" type="button" onClick={() => signOut()}>{L('a.sign_out')}</button>
        </div>
      </header>
      <nav class="an-tabs" role="tablist">
        {TABS.map((name) => (
          <button key={name} type="button" role="tab" class="an-tab" aria-selected={tab.value === name} onClick={() => (tab.value = name)}>
            {L(`a.tab.${name}`)}
          </button>
        ))}
      </nav>
      <main class="an-main" role="tabpanel">
        {error && <p class="an-error" role="alert">{error}</p>}
        {ready && tab.value === 'response' && <ResponseTab />}
        {ready && tab.value === 'availability' && <AvailabilityTab />}
        {ready && tab.value === 'demand' && <DemandTab />}
        {ready && tab.value === 'track' && <TrackTab />}
        {ready && tab.value === 'shifts' && <ShiftsTab />}
      </main>
    </div>
  );
}
