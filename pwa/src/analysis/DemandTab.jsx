/** Demand vs coverage: incidents per planned unit for each hour of the week, as a heat grid. */
import { useState } from 'preact/hooks';
import { query } from './api.js';
import { CsvButton } from './CsvButton.jsx';
import { L } from './i18n.js';
import { language } from '../shared/prefs.js';
import { periodParams } from './store.js';
import { useReport } from './useReport.js';

const CELL_W = 36;
const CELL_H = 28;
const LEFT = 48;
const TOP = 20;

export function DemandTab() {
  const [threshold, setThreshold] = useState(0.5);
  const [area, setArea] = useState('ALL');
  const [measure, setMeasure] = useState('demand_per_unit');
  const url = `/api/analytics/demand-coverage${query({ ...periodParams(), threshold })}`;
  const report = useReport(url);
  const r = report.data;
  const current = r ? (area === 'ALL' ? r.overall : r.areas.find((/** @type {any} */ a) => a.code === area) ?? r.overall) : null;
  return (
    <section class="an-section" aria-labelledby="dc-title">
      <div class="an-toolbar">
        <h2 id="dc-title">{L('a.dc.title')}</h2>
        {r && (
          <label class="an-field">
            <span>{L('a.dc.area')}</span>
            <select name="area" value={area} onChange={(e) => setArea(/** @type {HTMLSelectElement} */ (e.target).value)}>
              <option value="ALL">{L('a.all')}</option>
              {r.areas.map((/** @type {any} */ a) => <option key={a.code} value={a.code}>{a.name}</option>)}
            </select>
          </label>
        )}
        <label class="an-field">
          <span>{L('a.dc.measure')}</span>
          <select name="measure" value={measure} onChange={(e) => setMeasure(/** @type {HTMLSelectElement} */ (e.target).value)}>
            <option value="demand_per_unit">{L('a.dc.per_unit')}</option>
            <option value="incidents_per_hour">{L('a.dc.per_hour')}</option>
            <option value="units_on_duty">{L('a.dc.units')}</option>
            <option value="units_actual">{L('a.dc.units_actual')}</option>
          </select>
        </label>
        <label class="an-field">
          <span>{L('a.dc.threshold')}</span>
          <input type="number" name="threshold" step="0.1" min="0" value={threshold} onChange={(e) => setThreshold(Number(/** @type {HTMLInputElement} */ (e.target).value) || 0)} />
        </label>
        <CsvButton path={url.replace('/demand-coverage?', '/demand-coverage/csv?')} />
      </div>
      {report.error && <p class="an-error" role="alert">{report.error.message}</p>}
      {current && (
        <>
          <p class="an-muted">{L('a.dc.summary', { incidents: current.incidents, unit_hours: Math.round(current.unit_hours), actual_hours: Math.round(current.actual_unit_hours ?? 0), flagged: current.flagged_hours })}</p>
          <Heat cells={current.cells} measure={measure} />
          <ul class="an-legend">
            <li><span class="an-swatch an-heat-1" />{L('a.dc.low')}</li>
            <li><span class="an-swatch an-heat-5" />{L('a.dc.high')}</li>
            <li><span class="an-swatch an-heat-flag" />{L('a.dc.flagged')}</li>
          </ul>
        </>
      )}
    </section>
  );
}

/** @param {{cells: any[], measure: string}} props */
function Heat({ cells, measure }) {
  const values = cells.map((c) => c[measure]).filter((v) => v !== null && v !== undefined);
  const max = Math.max(1e-9, ...values);
  const fmt = new Intl.NumberFormat(language.value, { maximumFractionDigits: 2 });
  const days = [1, 2, 3, 4, 5, 6, 7];
  return (
    <svg class="an-heat" viewBox={`0 0 ${LEFT + 24 * CELL_W} ${TOP + 7 * CELL_H}`} role="img" aria-label={L('a.dc.title')} data-testid="dc-chart">
      {Array.from({ length: 24 }, (_, h) => (
        <text key={h} class="an-axis" x={LEFT + h * CELL_W + CELL_W / 2} y={TOP - 6} text-anchor="middle">{String(h).padStart(2, '0')}</text>
      ))}
      {days.map((d) => <text key={d} class="an-axis" x={4} y={TOP + (d - 1) * CELL_H + CELL_H * 0.65}>{L(`a.weekday.${d}`)}</text>)}
      {cells.map((c) => {
        const v = c[measure];
        const level = v === null || v === undefined || v === 0 ? 0 : Math.min(5, Math.ceil((v / max) * 5));
        return (
          <rect
            key={c.hour_of_week}
            class={`an-heat-${level}${c.flagged ? ' an-heat-flag' : ''}`}
            x={LEFT + c.hour * CELL_W + 1}
            y={TOP + (c.weekday - 1) * CELL_H + 1}
            width={CELL_W - 2}
            height={CELL_H - 2}
            rx={3}
          >
            <title>{`${L(`a.weekday.${c.weekday}`)} ${String(c.hour).padStart(2, '0')}:00 — ${L('a.incidents')}: ${c.incidents}, ${L('a.dc.per_hour')}: ${fmt.format(c.incidents_per_hour)}, ${L('a.dc.units')}: ${fmt.format(c.units_on_duty)}, ${L('a.dc.units_actual')}: ${fmt.format(c.units_actual ?? 0)}, ${L('a.dc.per_unit')}: ${c.demand_per_unit === null ? '—' : fmt.format(c.demand_per_unit)}`}</title>
          </rect>
        );
      })}
    </svg>
  );
}
