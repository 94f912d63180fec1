import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DrizzleQueryError } from 'drizzle-orm/errors';
import { AppError, isDatabaseUnavailable, toAppError } from './errors.js';

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
