/** Track replay: a unit's positions and status changes over a shift or a day, with a time slider. */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { map as createMap, tileLayer, polyline, circleMarker, latLngBounds } from 'leaflet';
import { query } from './api.js';
import { CsvButton } from './CsvButton.jsx';
import { L, dateTime, timeOfDay } from './i18n.js';
import { addDays, localMs } from './dates.js';
import { fromDate, tileUrl, toDate, unitsOfStation } from './store.js';
import { useReport } from './useReport.js';

const STATUS_COLOURS = {
  available: '#34b360', en_route: '#4a8df0', on_scene: '#e0a21a', busy: '#a070e0', off_duty: '#7d8796', emergency: '#e5372b',
};
/** @param {string | null | undefined} s */
const colourOf = (s) => STATUS_COLOURS[/** @type {keyof typeof STATUS_COLOURS} */ (s ?? 'off_duty')] ?? '#7d8796';

export function TrackTab() {
  const units = unitsOfStation();
  const [unitId, setUnitId] = useState(units[0]?.id ?? '');
  const [shiftId, setShiftId] = useState('');
  const [day, setDay] = useState(toDate.value);
  const shiftsUrl = unitId
    ? `/api/shifts${query({ from: localMs(fromDate.value), to: localMs(addDays(toDate.value, 1)) })}`
    : null;
  const shifts = useReport(shiftsUrl);
  const unitShifts = (shifts.data ?? []).filter((/** @type {any} */ s) => s.unit_id === unitId).reverse();
  useEffect(() => setShiftId(''), [unitId]);
  const trackUrl = !unitId
    ? null
    : shiftId
      ? `/api/analytics/track${query({ shift_id: shiftId })}`
      : `/api/analytics/track${query({ unit_id: unitId, from: day, to: day })}`;
  const track = useReport(trackUrl);
  return (
    <section class="an-section" aria-labelledby="tr-title">
      <div class="an-toolbar">
        <h2 id="tr-title">{L('a.tr.title')}</h2>
        <label class="an-field">
          <span>{L('a.unit')}</span>
          <select name="unit" value={unitId} onChange={(e) => setUnitId(/** @type {HTMLSelectElement} */ (e.target).value)}>
            {units.map((u) => <option key={u.id} value={u.id}>{u.call_sign}</option>)}
          </select>
        </label>
        <label class="an-field">
          <span>{L('a.tr.shift')}</span>
          <select name="shift" value={shiftId} onChange={(e) => setShiftId(/** @type {HTMLSelectElement} */ (e.target).value)}>
            <option value="">{L('a.tr.whole_day')}</option>
            {unitShifts.map((/** @type {any} */ s) => <option key={s.id} value={s.id}>{`${dateTime(s.starts_at)} – ${timeOfDay(s.ends_at)}`}</option>)}
          </select>
        </label>
        {!shiftId && (
          <label class="an-field">
            <span>{L('a.day')}</span>
            <input type="date" name="track-day" value={day} onChange={(e) => setDay(/** @type {HTMLInputElement} */ (e.target).value || day)} />
          </label>
        )}
        {trackUrl && <CsvButton path={trackUrl.replace('/track?', '/track/csv?')} />}
      </div>
      {track.error && <p class="an-error" role="alert">{track.error.message}</p>}
      {track.data && <Replay track={track.data} />}
    </section>
  );
}

/** @param {{track: any}} props */
function Replay({ track }) {
  const el = useRef(/** @type {HTMLDivElement | null} */ (null));
  const mapRef = useRef(/** @type {any} */ (null));
  const cursorRef = useRef(/** @type {any} */ (null));
  const [at, setAt] = useState(track.end_ms);
  const [playing, setPlaying] = useState(false);
  useEffect(() => {
    setAt(track.end_ms);
    setPlaying(false);
  }, [track]);
  // Play: the slider moves by itself, a whole shift in about 30 s, and stops at the end.
  useEffect(() => {
    if (!playing) return undefined;
    const step = Math.max(60_000, Math.round((track.end_ms - track.start_ms) / 300));
    const timer = setInterval(() => {
      setAt((now) => {
        const next = Math.min(track.end_ms, now + step);
        if (next >= track.end_ms) setPlaying(false);
        return next;
      });
    }, 100);
    return () => clearInterval(timer);
  }, [playing, track]);

  useEffect(() => {
    const node = el.current;
    if (!node) return undefined;
    const m = createMap(node, { zoomControl: true, attributionControl: false, preferCanvas: false });
    mapRef.current = m;
    if (tileUrl.value) tileLayer(tileUrl.value, { maxZoom: 19 }).addTo(m);
    else node.classList.add('an-map--no-tiles');
    const pts = track.points.map((/** @type {any} */ p) => [p.lat, p.lon]);
    if (pts.length) polyline(pts, { color: '#5b9dff', weight: 3, opacity: 0.85 }).addTo(m);
    for (const s of track.statuses) {
      if (s.lat === null || s.lat === undefined) continue;
      circleMarker([s.lat, s.lon], { radius: 7, color: '#0b1220', weight: 2, fillColor: colourOf(s.status), fillOpacity: 1 })
        .bindTooltip(`${timeOfDay(s.at_ms)} ${L(`a.status.${s.status}`)}`)
        .addTo(m);
    }
    const all = [...pts, ...track.statuses.filter((/** @type {any} */ s) => s.lat !== null && s.lat !== undefined).map((/** @type {any} */ s) => [s.lat, s.lon])];
    if (all.length) m.fitBounds(latLngBounds(all).pad(0.15), { maxZoom: 15 });
    else m.setView([44.98, 19.61], 10);
    cursorRef.current = circleMarker(all[0] ?? [44.98, 19.61], { radius: 9, color: '#ffd34d', weight: 3, fillColor: '#ffd34d', fillOpacity: 0.4 }).addTo(m);
    return () => {
      m.remove();
      mapRef.current = null;
    };
  }, [track]);

  // Where the unit was and what it was doing at the slider's time.
  const state = useMemo(() => {
    let pos = null;
    for (const p of track.points) {
      if (p.at_ms > at) break;
      pos = p;
    }
    let status = track.initial_status;
    for (const s of track.statuses) {
      if (s.at_ms > at) break;
      status = s.status;
    }
    return { pos, status };
  }, [track, at]);
  useEffect(() => {
    if (cursorRef.current && state.pos) cursorRef.current.setLatLng([state.pos.lat, state.pos.lon]);
    if (cursorRef.current) cursorRef.current.setStyle({ fillColor: colourOf(state.status) });
  }, [state]);

  return (
    <div class="an-replay">
      <div class="an-map" ref={el} data-testid="track-map" data-points={track.points.length} />
      <div class="an-replay__side">
        <label class="an-field an-slider">
          <span>{L('a.tr.time')}: <strong>{dateTime(at)}</strong></span>
          <input type="range" name="at" min={track.start_ms} max={track.end_ms} step={60000} value={at} onInput={(e) => setAt(Number(/** @type {HTMLInputElement} */ (e.target).value))} />
        </label>
        <button
          type="button"
          class="button"
          data-testid="track-play"
          aria-pressed={playing ? 'true' : 'false'}
          onClick={() => {
            if (!playing && at >= track.end_ms) setAt(track.start_ms);
            setPlaying(!playing);
          }}
        >
          {playing ? L('a.tr.pause') : L('a.tr.play')}
        </button>
        <p>
          {L('a.tr.status_then')}: <strong>{state.status ? L(`a.status.${state.status}`) : L('a.av.unknown')}</strong>
        </p>
        <p class="an-muted">{L('a.tr.counts', { points: track.points.length, changes: track.statuses.length })}</p>
        <ol class="an-events">
          {track.statuses.map((/** @type {any} */ s) => (
            <li key={`${s.at_ms}-${s.status}`} class={s.at_ms <= at ? '' : 'an-muted'}>
              <button type="button" class="an-link" onClick={() => setAt(s.at_ms)}>{timeOfDay(s.at_ms)}</button> {L(`a.status.${s.status}`)}
              {s.flagged && <span title={L('a.tr.flagged')}> ⚑</span>}
            </li>
          ))}
        </ol>
      </div>
    </div>
  );
}
