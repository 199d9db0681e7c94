/** Response times: median and 90th percentile of call → arrival per group, target, trend over weeks. */
import { useState } from 'preact/hooks';
import { query } from './api.js';
import { CategoryChart } from './chart.jsx';
import { CsvButton } from './CsvButton.jsx';
import { L, minutes, percent } from './i18n.js';
import { language } from '../shared/prefs.js';
import { periodParams, targetDefault } from './store.js';
import { useReport } from './useReport.js';

const GROUPS = ['station', 'hour', 'weekday', 'type', 'priority', 'week'];
const COLOURS = { median: '#5b9dff', p90: '#e0a21a', target: '#e5372b', share: '#34b360' };

/** @param {any} row @param {string} name */
const iv = (row, name) => row.intervals.find((/** @type {any} */ s) => s.interval === name);
/** @param {number|null|undefined} ms */
const toMin = (ms) => (ms === null || ms === undefined ? null : Math.round(ms / 6000) / 10);

export function ResponseTab() {
  const [groupBy, setGroupBy] = useState('station');
  const [prios, setPrios] = useState(/** @type {number[]} */ ([]));
  const [target, setTarget] = useState(targetDefault.value);
  // What is typed; the report follows only a valid target (1-240 whole minutes).
  const [targetText, setTargetText] = useState(String(targetDefault.value));
  const targetValid = /^\d+$/.test(targetText.trim()) && Number(targetText) >= 1 && Number(targetText) <= 240;
  const common = { ...periodParams(), target_min: target, priorities: prios.join(','), locale: language.value };
  const url = `/api/analytics/response-times${query({ ...common, group_by: groupBy })}`;
  const trendUrl = `/api/analytics/response-times${query({ ...common, group_by: 'week' })}`;
  const report = useReport(url);
  const trend = useReport(trendUrl);
  const r = report.data;
  /** @param {number} p */
  const toggle = (p) => setPrios(prios.includes(p) ? prios.filter((x) => x !== p) : [...prios, p].sort());
  return (
    <section class="an-section" aria-labelledby="rt-title">
      <div class="an-toolbar">
        <h2 id="rt-title">{L('a.rt.title')}</h2>
        <label class="an-field">
          <span>{L('a.rt.group_by')}</span>
          <select name="group_by" value={groupBy} onChange={(e) => setGroupBy(/** @type {HTMLSelectElement} */ (e.target).value)}>
            {GROUPS.map((g) => <option key={g} value={g}>{L(`a.rt.by.${g}`)}</option>)}
          </select>
        </label>
        <fieldset class="an-field an-prios">
          <legend>{L('a.rt.priorities')}</legend>
          {[1, 2, 3, 4].map((p) => (
            <label key={p}><input type="checkbox" checked={prios.includes(p)} onChange={() => toggle(p)} /> P{p}</label>
          ))}
        </fieldset>
        <label class="an-field">
          <span>{L('a.rt.target')}</span>
          <input
            type="number"
            name="target"
            min="1"
            max="240"
            step="1"
            value={targetText}
            aria-invalid={targetValid ? undefined : 'true'}
            aria-describedby={targetValid ? undefined : 'rt-target-error'}
            onInput={(e) => {
              const text = /** @type {HTMLInputElement} */ (e.target).value;
              setTargetText(text);
              if (/^\d+$/.test(text.trim()) && Number(text) >= 1 && Number(text) <= 240) setTarget(Number(text));
            }}
          />
        </label>
      </div>
      {!targetValid && (
        <p id="rt-target-error" class="an-error" role="alert" data-testid="rt-target-error">
          {L('a.rt.target_invalid')}
        </p>
      )}
      {report.error && <p class="an-error" role="alert">{report.error.message}</p>}
      {r && <Summary total={r.total} target={r.target_min} />}
      {r && (
        <figure class="an-figure">
          <figcaption>
            {L('a.rt.chart', { target: r.target_min })}
            <CsvButton path={url.replace('/response-times?', '/response-times/csv?')} />
          </figcaption>
          <CategoryChart
            testId="rt-chart"
            xLabel={L(`a.rt.by.${r.group_by}`)}
            labels={r.rows.map((/** @type {any} */ row) => row.label)}
            yLabel={L('a.minutes')}
            format={(v) => `${v}`}
            series={[
              { label: L('a.median'), kind: 'bars', colour: COLOURS.median, values: r.rows.map((/** @type {any} */ row) => toMin(iv(row, 'call_to_arrival').median_ms)) },
              { label: L('a.p90'), kind: 'points', colour: COLOURS.p90, values: r.rows.map((/** @type {any} */ row) => toMin(iv(row, 'call_to_arrival').p90_ms)) },
              { label: L('a.target'), kind: 'line', colour: COLOURS.target, dash: [6, 4], values: r.rows.map(() => r.target_min) },
            ]}
          />
        </figure>
      )}
      {r && <ResponseTable report={r} />}
      {trend.data && (
        <figure class="an-figure">
          <figcaption>
            {L('a.rt.trend')}
            <CsvButton path={trendUrl.replace('/response-times?', '/response-times/csv?')} />
          </figcaption>
          <CategoryChart
            testId="rt-trend"
            xLabel={L('a.rt.week')}
            labels={trend.data.rows.map((/** @type {any} */ row) => row.key)}
            yLabel={L('a.minutes')}
            series={[
              { label: L('a.median'), kind: 'line', colour: COLOURS.median, values: trend.data.rows.map((/** @type {any} */ row) => toMin(iv(row, 'call_to_arrival').median_ms)) },
              { label: L('a.p90'), kind: 'line', colour: COLOURS.p90, values: trend.data.rows.map((/** @type {any} */ row) => toMin(iv(row, 'call_to_arrival').p90_ms)) },
              { label: L('a.target'), kind: 'line', colour: COLOURS.target, dash: [6, 4], values: trend.data.rows.map(() => trend.data.target_min) },
            ]}
          />
          <table class="an-table an-table--compact">
            <thead><tr><th>{L('a.rt.week')}</th><th>{L('a.incidents')}</th><th>{L('a.median')}</th><th>{L('a.p90')}</th><th>{L('a.within')}</th></tr></thead>
            <tbody>
              {trend.data.rows.map((/** @type {any} */ row) => (
                <tr key={row.key}>
                  <td>{row.label}</td>
                  <td class="num">{row.incidents}</td>
                  <td class="num">{minutes(iv(row, 'call_to_arrival').median_ms)}</td>
                  <td class="num">{minutes(iv(row, 'call_to_arrival').p90_ms)}</td>
                  <td class="num">{percent(row.share_within_target)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </figure>
      )}
      {report.loading && !r && <p class="an-muted">{L('a.loading')}</p>}
    </section>
  );
}

/** @param {{total: any, target: number}} props */
function Summary({ total, target }) {
  const arrival = iv(total, 'call_to_arrival');
  return (
    <dl class="an-kpis">
      <div><dt>{L('a.incidents')}</dt><dd>{total.incidents}</dd></div>
      <div><dt>{L('a.rt.median_arrival')}</dt><dd data-testid="kpi-median">{minutes(arrival.median_ms)} {L('a.min')}</dd></div>
      <div><dt>{L('a.rt.p90_arrival')}</dt><dd>{minutes(arrival.p90_ms)} {L('a.min')}</dd></div>
      <div><dt>{L('a.rt.within', { target })}</dt><dd>{percent(total.share_within_target)}</dd></div>
      <div><dt>{L('a.rt.dispatch')}</dt><dd>{minutes(iv(total, 'call_to_dispatch').median_ms)} {L('a.min')}</dd></div>
    </dl>
  );
}

/** @param {{report: any}} props */
function ResponseTable({ report }) {
  const rows = [...report.rows, report.total];
  return (
    <div class="an-scroll">
      <table class="an-table" data-testid="rt-table">
        <thead>
          <tr>
            <th>{L(`a.rt.by.${report.group_by}`)}</th>
            <th>{L('a.incidents')}</th>
            <th>{L('a.rt.n')}</th>
            <th>{L('a.rt.median_arrival')}</th>
            <th>{L('a.rt.p90_arrival')}</th>
            <th>{L('a.within')}</th>
            <th>{L('a.rt.dispatch')}</th>
            <th>{L('a.rt.travel')}</th>
            <th>{L('a.rt.missing')}</th>
            <th>{L('a.rt.flagged')}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => {
            const a = iv(row, 'call_to_arrival');
            const over = a.median_ms !== null && a.median_ms > report.target_min * 60000;
            return (
              <tr key={row.key} class={row.key === 'ALL' ? 'an-total' : ''}>
                <td>{row.key === 'ALL' ? L('a.all') : row.label}</td>
                <td class="num">{row.incidents}</td>
                <td class="num">{a.n}</td>
                <td class={`num${over ? ' an-over' : ''}`}>{minutes(a.median_ms)}</td>
                <td class="num">{minutes(a.p90_ms)}</td>
                <td class="num">{percent(row.share_within_target)}</td>
                <td class="num">{minutes(iv(row, 'call_to_dispatch').median_ms)}</td>
                <td class="num">{minutes(iv(row, 'dispatch_to_arrival').median_ms)}</td>
                <td class="num">{a.missing + a.invalid}</td>
                <td class="num">{a.corrected + a.late}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
