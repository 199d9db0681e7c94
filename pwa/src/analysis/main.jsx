/** Analysis page entry (/analysis): commanders' reports and roster, a bundle of its own. */
import '../styles/base.css';
import './analysis.css';
import { render } from 'preact';
import { effect } from '@preact/signals';
import { language, theme } from '../shared/prefs.js';
import { App } from './App.jsx';
import { adoptConsoleSession } from './api.js';
import { L } from './i18n.js';

effect(() => {
  const root = document.documentElement;
  root.lang = language.value;
  root.dataset.theme = theme.value;
  document.title = L('a.title');
});
adoptConsoleSession();
render(<App />, /** @type {HTMLElement} */ (document.getElementById('app')));
