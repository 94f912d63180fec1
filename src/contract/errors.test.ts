import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError, classifyFailure, toAppError } from './errors.js';

/** An error as node:fs throws it on a full disk. */
const enospc = (): Error => Object.assign(new Error("ENOSPC: no space left on device, write '/srv/aiprod/data/tmp/render-1/x.wav'"), { code: 'ENOSPC', errno: -28, syscall: 'write' });

test('resource exhaustion (ENOSPC, EDQUOT, EMFILE, ENFILE) is resource_exhausted, retryable, 503, without the path', () => {
  for (const code of ['ENOSPC', 'EDQUOT', 'EMFILE', 'ENFILE']) {
    const error = toAppError(Object.assign(new Error(`${code}: failed, open '/srv/x'`), { code }));
    assert.equal(error.code, 'resource_exhausted', code);
    assert.equal(error.retryable, true);
    assert.equal(error.status, 503);
    assert.doesNotMatch(error.message, /\/srv/);
    assert.match(error.message, new RegExp(code));
  }
});

test('an error caused by a full disk is classified through its cause chain', () => {
  const wrapped = new AppError('ffmpeg_failed', 'writing the unit failed', { cause: enospc() });
  assert.equal(classifyFailure(wrapped).code, 'resource_exhausted');
  assert.equal(classifyFailure(new Error('outer', { cause: enospc() })).code, 'resource_exhausted');
});

test("FFmpeg's report of a full disk in its stderr tail is resource_exhausted, not ffmpeg_failed", () => {
  const ffmpeg = new AppError('ffmpeg_failed', 'ffmpeg exited with code 1: [out#0/mp4] Error writing trailer: No space left on device');
  const classified = classifyFailure(ffmpeg);
  assert.equal(classified.code, 'resource_exhausted');
  assert.equal(classified.retryable, true);
});

test('other failures keep their classification', () => {
  assert.equal(classifyFailure(new Error('boom')).code, 'internal');
  const qa = new AppError('qa_failed', 'quality checks failed');
  assert.equal(classifyFailure(qa), qa);
  const aborted = new AppError('aborted', 'canceled: No space left on device');
  assert.equal(classifyFailure(aborted), aborted, 'a stop is never reclassified');
});
