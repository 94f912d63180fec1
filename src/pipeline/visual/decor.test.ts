import assert from 'node:assert/strict';
import { test } from 'node:test';
import { motionExpressions } from './decor.js';
import { extremeCells } from './looks.js';

/** Evaluates an overlay expression the way FFmpeg would, for the few functions it uses. */
function evaluate(expr: string, t: number): number {
  const js = expr.replace(/\bPI\b/g, 'Math.PI').replace(/\b(sin|cos)\(/g, 'Math.$1(').replace(/\bclip\(/g, 'clip(').replace(/\bt\b/g, `(${t})`);
  const clip = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));
  return Function('clip', `return ${js}`)(clip) as number;
}

test('a layer rises into place, then keeps floating around it without drifting off', () => {
  const { x, y } = motionExpressions({ x: 100, y: 200 }, { fromSec: 0.5, durSec: 0.6, dx: 0, dy: 40 }, { px: 10, periodSec: 4, phase: 0 });
  // Before and at the start of its entrance it is 40 px low; after it, within the float's reach of its place.
  assert.ok(evaluate(y, 0.5) >= 235 && evaluate(y, 0.5) <= 250, String(evaluate(y, 0.5)));
  for (let t = 1.2; t < 12; t += 0.37) {
    assert.ok(Math.abs(evaluate(y, t) - 200) <= 10.001, `y at ${t}`);
    assert.ok(Math.abs(evaluate(x, t) - 100) <= 6.001, `x at ${t}`);
  }
  // It moves: no two seconds in a row at the same place.
  for (let t = 1.2; t < 10; t += 0.5) assert.ok(Math.abs(evaluate(y, t + 1) - evaluate(y, t)) + Math.abs(evaluate(x, t + 1) - evaluate(x, t)) > 1, `still at ${t}`);
});

test('the backdrop of a picture is its darkest and lightest distinct cells', () => {
  const rgb = Uint8Array.from([10, 10, 10, 250, 250, 250, 10, 10, 10, 128, 0, 0, 0, 0, 200, 240, 240, 240]);
  assert.deepEqual(extremeCells(rgb), ['#0a0a0a', '#0000c8', '#f0f0f0', '#fafafa']);
  assert.deepEqual(extremeCells(Uint8Array.from([5, 5, 5, 5, 5, 5])), ['#050505']);
});
