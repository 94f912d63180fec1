import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pgliteStartError } from './pglite-errors.js';

test("the embedded database's file-system errors name the errno, its meaning and the directory", () => {
  // What PGlite throws on a full disk: an Emscripten ErrnoError, not an Error (String() gives "[object Object]").
  const full = pgliteStartError({ name: 'ErrnoError', errno: 51 }, '/srv/aiprod/pglite');
  assert.ok(full instanceof Error);
  assert.doesNotMatch(full.message, /\[object Object\]/);
  assert.match(full.message, /ENOSPC/);
  assert.match(full.message, /no space left/i);
  assert.match(full.message, /\/srv\/aiprod\/pglite/);
  assert.match(pgliteStartError({ name: 'ErrnoError', errno: 2 }, '/d').message, /EACCES/);
  assert.match(pgliteStartError({ name: 'ErrnoError', errno: 999 }, '/d').message, /errno 999/);
});

test('an ordinary error keeps its message and becomes the cause', () => {
  const cause = new Error('database files are incompatible with server');
  const wrapped = pgliteStartError(cause, '/d');
  assert.match(wrapped.message, /database files are incompatible with server/);
  assert.equal(wrapped.cause, cause);
  assert.match(pgliteStartError('odd', '/d').message, /odd/);
  assert.match(pgliteStartError({ some: 'thing' }, '/d').message, /"some":"thing"/);
});
