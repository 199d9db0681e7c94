import { test } from 'node:test';
import assert from 'node:assert/strict';
import { declutter } from '../src/console/declutter.js';

const SIZE = { w: 64, h: 24 };

test('labels apart stay where they are', () => {
  assert.equal(declutter([{ id: 'a', x: 0, y: 0 }, { id: 'b', x: 100, y: 0 }, { id: 'c', x: 0, y: 40 }], SIZE).size, 0);
});

test('labels on one spot are stacked one label-height apart, none overlapping', () => {
  const pts = ['a', 'b', 'c', 'd'].map((id) => ({ id, x: 10, y: 10 }));
  const moved = declutter(pts, SIZE);
  assert.equal(moved.size, 3);
  const ys = pts.map((p) => p.y + (moved.get(p.id) ?? 0)).sort((a, b) => a - b);
  for (let i = 1; i < ys.length; i++) assert.ok(ys[i] - ys[i - 1] >= SIZE.h, `${ys}`);
  assert.deepEqual([...moved.values()].map(Math.abs).sort((a, b) => a - b), [24, 24, 48]);
});

test('the layout does not depend on the order of the input', () => {
  const pts = [{ id: 'x', x: 5, y: 5 }, { id: 'y', x: 8, y: 5 }, { id: 'z', x: 5, y: 9 }, { id: 'w', x: 200, y: 5 }];
  const a = declutter(pts, SIZE);
  const b = declutter([...pts].reverse(), SIZE);
  assert.deepEqual([...a.entries()].sort(), [...b.entries()].sort());
});

test('a crowd larger than the tries leaves the rest in place rather than far away', () => {
  const pts = Array.from({ length: 20 }, (_, i) => ({ id: `u${String(i).padStart(2, '0')}`, x: 0, y: 0 }));
  const moved = declutter(pts, { ...SIZE, tries: 2 });
  assert.ok([...moved.values()].every((dy) => Math.abs(dy) <= 2 * SIZE.h));
  assert.equal(moved.size, 4);
});
