/**
 * The live map (Leaflet). Markers are DivIcons styled by class (no inline
 * styles, for the CSP); with no tile URL configured the map is a plain
 * background and the markers still render at their positions.
 */
import { useEffect, useRef } from 'preact/hooks';
import { effect } from '@preact/signals';
import { map as createMap, tileLayer, marker, divIcon, latLngBounds, control } from 'leaflet';
import { t } from './i18n.js';
import { rev, config, orgUnits, openIncidents, openAlerts, unitList } from './store.js';
import { panel, selectedUnit, formPoint, focusPoint, openIncident, openUnit } from './ui.js';
import { declutter } from './declutter.js';

const UNIT_LABEL = { w: 64, h: 24 };

/** @param {string} s */
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function MapPanel() {
  const box = useRef(/** @type {HTMLDivElement | null} */ (null));

  useEffect(() => {
    const el = /** @type {HTMLDivElement} */ (box.current);
    const m = createMap(el, { zoomControl: true, attributionControl: false, keyboard: true, preferCanvas: false }).setView([45.0, 19.6], 10);
    /** @type {Map<string, any>} */ const units = new Map();
    /** @type {Map<string, any>} */ const incidents = new Map();
    /** @type {Map<string, any>} */ const alerts = new Map();
    /** @type {Map<string, any>} */ const stations = new Map();
    /** @type {Map<string, string>} */ const iconKeys = new Map();
    let draft = /** @type {any} */ (null);
    let tiles = /** @type {any} */ (null);
    let fitted = false;

    /**
     * @param {Map<string, any>} layerMap @param {string} id @param {number} lat @param {number} lon
     * @param {string} key what the icon shows (rebuilt only when it changes) @param {() => any} icon @param {() => void} [onClick]
     */
    function place(layerMap, id, lat, lon, key, icon, onClick, z = 0) {
      let mk = layerMap.get(id);
      if (!mk) {
        mk = marker([lat, lon], { icon: icon(), keyboard: true, zIndexOffset: z, title: '' }).addTo(m);
        if (onClick) mk.on('click', onClick);
        layerMap.set(id, mk);
        iconKeys.set(id, key);
        return;
      }
      const ll = mk.getLatLng();
      if (ll.lat !== lat || ll.lng !== lon) mk.setLatLng([lat, lon]);
      if (iconKeys.get(id) !== key) {
        mk.setIcon(icon());
        iconKeys.set(id, key);
      }
    }

    /** @param {Map<string, any>} layerMap @param {Set<string>} keep */
    function prune(layerMap, keep) {
      for (const [id, mk] of layerMap) {
        if (!keep.has(id)) {
          mk.remove();
          layerMap.delete(id);
          iconKeys.delete(id);
        }
      }
    }

    const stopTiles = effect(() => {
      const url = config.value.tile_url;
      if (tiles) tiles.remove();
      tiles = url ? tileLayer(url, { maxZoom: 19 }).addTo(m) : null;
      el.classList.toggle('map--no-tiles', !url);
      if (url) control.attribution({ prefix: false }).addTo(m);
    });

    const stopMarkers = effect(() => {
      rev.value;
      const alarmed = new Set(openAlerts.value.map((a) => a.unit_id));
      const sel = selectedUnit.value;
      const keepU = new Set();
      for (const u of unitList.value) {
        if (u.last_lat == null || u.last_lon == null) continue;
        keepU.add(u.id);
        const st = alarmed.has(u.id) ? 'emergency' : u.status;
        const key = `${st}|${u.call_sign}|${sel === u.id}`;
        place(units, u.id, u.last_lat, u.last_lon, key, () =>
          divIcon({
            className: 'mk-wrap',
            iconSize: [64, 24],
            iconAnchor: [32, 12],
            html: `<span class="mk mk--unit mk--${esc(st)}${sel === u.id ? ' mk--selected' : ''}" data-unit-id="${esc(u.id)}" data-status="${esc(u.status)}">${esc(u.call_sign)}</span>`,
          }),
          () => openUnit(u.id),
          100,
        );
      }
      prune(units, keepU);
      spreadUnits();

      const keepI = new Set();
      for (const inc of openIncidents.value) {
        if (inc.lat == null || inc.lon == null) continue;
        keepI.add(inc.id);
        const key = `${inc.priority}|${inc.state}|${inc.number}`;
        place(incidents, inc.id, inc.lat, inc.lon, key, () =>
          divIcon({
            className: 'mk-wrap',
            iconSize: [36, 36],
            iconAnchor: [18, 36],
            // The pin is a rotated square; its label is turned back upright (a tilted "2" read as "?").
            html: `<span class="mk mk--incident mk--p${esc(inc.priority)} mk--${esc(inc.state)}" data-incident-id="${esc(inc.id)}" title="${esc(inc.number)}"><span class="mk__label">P${esc(inc.priority)}</span></span>`,
          }),
          () => openIncident(inc.id),
        );
      }
      prune(incidents, keepI);

      const keepA = new Set();
      for (const a of openAlerts.value) {
        if (a.lat == null || a.lon == null) continue;
        keepA.add(a.id);
        place(alerts, a.id, a.lat, a.lon, 'alert', () =>
          divIcon({ className: 'mk-wrap', iconSize: [36, 36], iconAnchor: [18, 18], html: `<span class="mk mk--alert" data-alert-id="${esc(a.id)}">SOS</span>` }),
          undefined,
          1000,
        );
      }
      prune(alerts, keepA);

      if (!fitted && keepU.size) {
        // Frame the units on duty (off-duty cars parked at a far station would zoom the map out).
        const onDuty = unitList.value.filter((u) => u.last_lat != null && u.status !== 'off_duty');
        const pts = (onDuty.length ? onDuty : unitList.value.filter((u) => u.last_lat != null)).map((u) => [u.last_lat, u.last_lon]);
        m.invalidateSize();
        // Not animated: a view asked for meanwhile (a focus) must not be undone when an animation ends.
        m.fitBounds(latLngBounds(/** @type {any} */ (pts)).pad(0.15), { maxZoom: 14, animate: false });
        fitted = true;
      }
    });

    /** Stack unit labels that would cover each other at this zoom (declutter.js). */
    function spreadUnits() {
      const pts = [...units].map(([id, mk]) => ({ id, ...m.latLngToLayerPoint(mk.getLatLng()) }));
      const moved = declutter(pts, UNIT_LABEL);
      for (const [id, mk] of units) {
        const label = /** @type {HTMLElement | null} */ (mk.getElement()?.firstElementChild ?? null);
        if (!label) continue;
        const dy = moved.get(id) ?? 0;
        // CSSOM, not a style attribute: the CSP allows it.
        label.style.transform = dy ? `translateY(${dy}px)` : '';
        label.classList.toggle('mk--stacked', dy !== 0);
      }
    }
    m.on('zoomend', spreadUnits);

    const stopStations = effect(() => {
      for (const o of orgUnits.value) {
        if (o.lat == null || o.kind === 'directorate') continue;
        place(stations, o.id, o.lat, o.lon, o.code, () =>
          divIcon({ className: 'mk-wrap', iconSize: [60, 16], iconAnchor: [30, 8], html: `<span class="mk mk--station">${esc(o.code)}</span>` }),
          undefined,
          -100,
        );
      }
    });

    const stopDraft = effect(() => {
      const p = formPoint.value;
      const picking = panel.value.view === 'form';
      el.classList.toggle('map--picking', picking);
      if (draft) {
        draft.remove();
        draft = null;
      }
      if (p && picking) {
        draft = marker([p.lat, p.lon], {
          icon: divIcon({ className: 'mk-wrap', iconSize: [28, 28], iconAnchor: [14, 28], html: '<span class="mk mk--draft" data-testid="draft-marker">+</span>' }),
          zIndexOffset: 500,
        }).addTo(m);
      }
    });

    const stopFocus = effect(() => {
      const f = focusPoint.value;
      if (!f) return;
      m.setView([f.lat, f.lon], Math.max(m.getZoom(), 13));
      fitted = true; // what was asked for wins over the first "show all units" framing
    });

    m.on('click', (/** @type {any} */ e) => {
      if (panel.value.view === 'form') formPoint.value = { lat: +e.latlng.lat.toFixed(6), lon: +e.latlng.lng.toFixed(6) };
    });

    const ro = new ResizeObserver(() => m.invalidateSize());
    ro.observe(el);
    return () => {
      ro.disconnect();
      stopTiles();
      stopMarkers();
      stopStations();
      stopDraft();
      stopFocus();
      m.remove();
    };
  }, []);

  const picking = panel.value.view === 'form';
  return (
    <section class="console__map panel panel--map" aria-labelledby="map-title">
      <h2 id="map-title" class="panel__title">
        {t('console.map')}
        {picking && <span class="map__hint"> — {t('c.map_pick_hint')}</span>}
      </h2>
      <div ref={box} class="map" data-testid="map" />
    </section>
  );
}

