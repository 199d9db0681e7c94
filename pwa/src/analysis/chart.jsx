/**
 * uPlot charts over categories (stations, hours, weeks …): bars for the
 * median, dots for the 90th percentile, a dashed target line. uPlot draws
 * on a canvas and sets sizes through element.style, which the CSP allows.
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/** @param {string} name @param {string} fallback */
function cssVar(name, fallback) {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

/**
 * @param {{
 *   labels: string[],
 *   series: Array<{label: string, values: Array<number|null>, kind: 'bars'|'points'|'line', colour: string, dash?: number[]}>,
 *   yLabel: string,
 *   xLabel?: string,
 *   height?: number,
 *   testId?: string,
 *   format?: (v: number) => string,
 * }} props
 */
export function CategoryChart({ labels, series, yLabel, xLabel = '', height = 260, testId, format = (v) => String(v) }) {
  const box = useRef(/** @type {HTMLDivElement | null} */ (null));
  useEffect(() => {
    const el = box.current;
    if (!el) return undefined;
    const text = cssVar('--text-muted', '#a3b0c4');
    const grid = cssVar('--border', '#2c3a55');
    const xs = labels.map((_, i) => i);
    const bars = uPlot.paths.bars?.({ size: [0.6, 60], align: 0 });
    const axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    /** @type {uPlot.Options} */
    const opts = {
      width: Math.max(320, el.clientWidth),
      height,
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: false, range: [-0.5, Math.max(labels.length - 0.5, 0.5)] }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
      axes: [
        { ...axis, values: (_u, ticks) => ticks.map((i) => (Number.isInteger(i) ? labels[i] ?? '' : '')), splits: () => xs, gap: 4, size: 40 },
        { ...axis, label: yLabel, labelSize: 18, values: (_u, ticks) => ticks.map((v) => format(v)) },
      ],
      series: [
        { label: xLabel, value: (_u, i) => (i === null || i === undefined ? '' : labels[i] ?? '') },
        ...series.map((s) => ({
          label: s.label,
          stroke: s.colour,
          fill: s.kind === 'bars' ? `${s.colour}aa` : undefined,
          width: s.kind === 'points' ? 0 : 2,
          dash: s.dash,
          paths: s.kind === 'bars' ? bars : undefined,
          points: s.kind === 'points' ? { show: true, size: 9, fill: s.colour, stroke: s.colour } : { show: false },
          value: (/** @type {any} */ _u, /** @type {number|null} */ v) => (v === null || v === undefined ? '—' : format(v)),
          spanGaps: s.kind === 'line',
        })),
      ],
    };
    const plot = new uPlot(opts, /** @type {any} */ ([xs, ...series.map((s) => s.values)]), el);
    const ro = new ResizeObserver(() => plot.setSize({ width: Math.max(320, el.clientWidth), height }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.destroy();
    };
  }, [JSON.stringify(labels), JSON.stringify(series), height, yLabel, xLabel]);
  return <div class="chart" ref={box} data-testid={testId} data-points={labels.length} />;
}
