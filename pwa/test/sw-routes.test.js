import { test } from 'node:test';
import assert from 'node:assert/strict';
import { shellForNavigation, isNeverCached, safeTargetUrl, SHELL_PAGES } from '../src/sw/routes.js';

const ORIGIN = 'https://patrol.example';
const url = (path) => new URL(path, ORIGIN);

test('navigations to / and /console get their precached shell', () => {
  for (const path of ['/', '/index.html', '/?assignment=42', '/#ack']) assert.equal(shellForNavigation(url(path), ORIGIN), SHELL_PAGES.officer, path);
  for (const path of ['/console', '/console/', '/console/index.html', '/console?x=1']) assert.equal(shellForNavigation(url(path), ORIGIN), SHELL_PAGES.console, path);
});

test('API, websocket, other pages and other origins are left to the network', () => {
  for (const path of ['/api', '/api/', '/api/v1/units', '/ws', '/ws/live', '/docs', '/consoles', '/console/other']) {
    assert.equal(shellForNavigation(url(path), ORIGIN), null, path);
  }
  assert.equal(shellForNavigation(new URL('https://other.example/'), ORIGIN), null);
  assert.ok(isNeverCached(url('/api/sync')));
  assert.ok(isNeverCached(url('/ws')));
  assert.ok(!isNeverCached(url('/apiary')));
  assert.ok(!isNeverCached(url('/assets/officer-ABCDEFGH.js')));
});

test('notification targets stay on our origin', () => {
  assert.equal(safeTargetUrl('/?assignment=1', ORIGIN), `${ORIGIN}/?assignment=1`);
  assert.equal(safeTargetUrl(`${ORIGIN}/console`, ORIGIN), `${ORIGIN}/console`);
  assert.equal(safeTargetUrl('https://evil.example/', ORIGIN), `${ORIGIN}/`);
  assert.equal(safeTargetUrl('//evil.example/x', ORIGIN), `${ORIGIN}/`);
  assert.equal(safeTargetUrl('javascript:alert(1)', ORIGIN), `${ORIGIN}/`);
  assert.equal(safeTargetUrl(undefined, ORIGIN), `${ORIGIN}/`);
  assert.equal(safeTargetUrl(42, ORIGIN), `${ORIGIN}/`);
});
