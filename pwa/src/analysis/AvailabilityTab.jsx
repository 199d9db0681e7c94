/** Availability for one day: per unit, planned shift bars over the actual status; gaps highlighted. */
import { useState } from 'preact/hooks';
import { query } from './api.js';
import { CsvButton } from './CsvButton.jsx';
import { L, hours, timeOfDay } from './i18n.js';
import { station, toDate } from './store.js';
import { useReport } from './useReport.js';

const W = 960; // SVG user units for the day
const ROW = 34;
const LABEL = 80; // room for the call signs, left of the day

export function AvailabilityTab() {
  const [day, setDay] = useState(toDate.value);
  const url = `/api/analytics/availability${query({ day, org_unit: station.value || undefined })}`;
  const report = useReport(url);
  const r = report.data;
  return (
    <section class="an-section" aria-labelledby="av-title">
      <div class="an-toolbar">
        <h2 id="av-title">{L('a.av.title')}</h2>
        <label class="an-field">
          <span>{L('a.day')}</span>
          <input type="date" name="day" value={day} onChange={(e) => setDay(/** @type {HTMLInputElement} */ (e.target).value || day)} />
        </label>
        <CsvButton path={url.replace('/availability?', '/availability/csv?')} />
      </div>
      <ul class="an-legend">
        <li><span class="an-swatch an-st--planned" />{L('a.av.planned')}</li>
        <li><span class="an-swatch an-st--available" />{L('a.av.available')}</li>
        <li><span class="an-swatch an-st--committed" />{L('a.av.committed')}</li>
        <li><span class="an-swatch an-st--off" />{L('a.av.off')}</li>
        <li><span class="an-swatch an-st--unknown" />{L('a.av.unknown')}</li>
        <li><span class="an-swatch an-st--gap" />{L('a.av.gap')}</li>
      </ul>
      {report.error && <p class="an-error" role="alert">{report.error.message}</p>}
      {r && r.units.length === 0 && <p class="an-muted">{L('a.empty')}</p>}
      {r && r.units.length > 0 && <Timeline report={r} />}
      {r && (
        <table class="an-table an-table--compact">
          <thead>
            <tr><th>{L('a.unit')}</th><th>{L('a.av.planned_h')}</th><th>{L('a.av.available_h')}</th><th>{L('a.av.committed_h')}</th><th>{L('a.av.gap_h')}</th><th>{L('a.av.unplanned_h')}</th></tr>
          </thead>
          <tbody>
            {r.units.map((/** @type {any} */ u) => (
              <tr key={u.unit_id}>
                <td>{u.call_sign} <span class="an-muted">{u.org_unit_code}</span></td>
                <td class="num">{hours(u.planned_ms)}</td>
                <td class="num">{hours(u.available_ms)}</td>
                <td class="num">{hours(u.committed_ms)}</td>
                <td class={`num${u.uncovered_ms ? ' an-over' : ''}`}>{hours(u.uncovered_ms)}</td>
                <td class="num">{hours(u.unplanned_on_duty_ms)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** @param {{report: any}} props */
function Timeline({ report }) {
  const { start_ms: t0, end_ms: t1 } = report;
  const x = (/** @type {number} */ ms) => ((ms - t0) / (t1 - t0)) * W;
  const hoursInDay = Math.round((t1 - t0) / 3_600_000);
  const height = report.units.length * ROW + 20;
  return (
    <div class="an-timeline">
      <svg class="an-timeline__svg" viewBox={`${-LABEL} 0 ${W + LABEL + 4} ${height}`} role="img" aria-label={L('a.av.title')} data-testid="av-chart">
        {report.units.map((/** @type {any} */ u, i) => (
          <text key={u.unit_id} class="an-timeline__label" x={-LABEL + 4} y={20 + i * ROW + 20}>{u.call_sign}</text>
        ))}
        {Array.from({ length: hoursInDay + 1 }, (_, h) => (
          <g key={h}>
            <line class="an-grid" x1={(h / hoursInDay) * W} x2={(h / hoursInDay) * W} y1={14} y2={height} />
            {h % 3 === 0 && h < hoursInDay && <text class="an-axis" x={(h / hoursInDay) * W + 2} y={11}>{String(h).padStart(2, '0')}</text>}
          </g>
        ))}
        {report.units.map((/** @type {any} */ u, i) => {
          const y = 20 + i * ROW;
          return (
            <g key={u.unit_id}>
              {u.planned.map((/** @type {any} */ b) => (
                <rect key={b.shift_id} class="an-st--planned" x={x(b.start_ms)} y={y} width={Math.max(1, x(b.end_ms) - x(b.start_ms))} height={8}>
                  <title>{`${L('a.av.planned')} ${timeOfDay(b.planned_start_ms)}–${timeOfDay(b.planned_end_ms)}${b.planned_area ? ` · ${b.planned_area}` : ''}`}</title>
                </rect>
              ))}
              {u.actual.map((/** @type {any} */ s) => (
                <rect key={s.start_ms} class={`an-st--${s.state}`} x={x(s.start_ms)} y={y + 10} width={Math.max(0.5, x(s.end_ms) - x(s.start_ms))} height={14}>
                  <title>{`${timeOfDay(s.start_ms)}–${timeOfDay(s.end_ms)} ${s.status ? L(`a.status.${s.status}`) : L('a.av.unknown')}`}</title>
                </rect>
              ))}
              {u.gaps.map((/** @type {any} */ g) => (
                <rect key={`g${g.start_ms}`} class="an-st--gap" x={x(g.start_ms)} y={y - 1} width={Math.max(1, x(g.end_ms) - x(g.start_ms))} height={26}>
                  <title>{`${L('a.av.gap')} ${timeOfDay(g.start_ms)}–${timeOfDay(g.end_ms)}`}</title>
                </rect>
              ))}
            </g>
          );
        })}
        {report.as_of_ms < t1 && report.as_of_ms > t0 && (
          <line class="an-now" x1={x(report.as_of_ms)} x2={x(report.as_of_ms)} y1={14} y2={height}>
            <title>{`${L('a.av.now')} ${timeOfDay(report.as_of_ms)}`}</title>
          </line>
        )}
      </svg>
    </div>
  );
}
