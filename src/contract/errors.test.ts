import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DrizzleQueryError } from 'drizzle-orm/errors';
import { AppError, classifyFailure, isDatabaseUnavailable, toAppError } from './errors.js';

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

/** What node-postgres raises: an Error with the server's SQLSTATE in `code`. */
function pgError(message: string, code?: string): Error {
  return Object.assign(new Error(message), code ? { code, severity: 'FATAL' } : {});
}

test('a terminated backend, a refused connect, a dropped socket are "database unavailable", also wrapped by drizzle', () => {
  const cases = [
    pgError('terminating connection due to administrator command', '57P01'),
    pgError('the database system is starting up', '57P03'),
    pgError('connection failure', '08006'),
    pgError('sorry, too many clients already', '53300'),
    new Error('Connection terminated unexpectedly'),
    new Error('Client has encountered a connection error and is not queryable'),
    new Error('timeout exceeded when trying to connect'),
    new AppError('database_unavailable', 'the database is unavailable', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }) }),
  ];
  for (const error of cases) {
    assert.equal(isDatabaseUnavailable(error), true, error.message);
    const wrapped = new DrizzleQueryError('select 1', [], error);
    assert.equal(isDatabaseUnavailable(wrapped), true, `wrapped: ${error.message}`);
    const app = toAppError(wrapped);
    assert.equal(app.code, 'database_unavailable');
    assert.equal(app.status, 503);
    assert.equal(app.retryable, true, 'a render that lost its database write is retried');
  }
});

test('query errors and network errors of other services are not', () => {
  const cases = [
    pgError('duplicate key value violates unique constraint', '23505'),
    pgError('syntax error at or near "selec"', '42601'),
    // ECONNREFUSED from storage or a webhook says nothing about the database.
    Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:9000'), { code: 'ECONNREFUSED' }),
    new AppError('not_found', 'no such production'),
    'a string',
  ];
  for (const error of cases) {
    assert.equal(isDatabaseUnavailable(error), false, String(error));
    assert.notEqual(toAppError(error).code, 'database_unavailable');
  }
});
