import { useState } from 'preact/hooks';
import { downloadCsv } from './api.js';
import { L } from './i18n.js';

/**
 * "Download CSV": the server's CSV of a report (path), or a table built here (rows).
 * @param {{path?: string, rows?: () => {name: string, lines: Array<Array<unknown>>}, label?: string}} props
 */
export function CsvButton({ path, rows, label }) {
  const [error, setError] = useState('');
  async function go() {
    setError('');
    try {
      if (path) await downloadCsv(path);
      else if (rows) saveLocal(rows());
    } catch (err) {
      setError(/** @type {Error} */ (err).message);
    }
  }
  return (
    <span class="an-csv">
      <button class="button button--small" type="button" data-csv onClick={go}>{label ?? L('a.csv', { format: 'CSV' })}</button>
      {error && <span class="an-error">{error}</span>}
    </span>
  );
}

/** @param {unknown} v */
function cell(v) {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** @param {{name: string, lines: Array<Array<unknown>>}} table */
function saveLocal({ name, lines }) {
  const text = lines.map((line) => line.map(cell).join(',')).join('\r\n') + '\r\n';
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = `${name}.csv`;
  a.hidden = true;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
