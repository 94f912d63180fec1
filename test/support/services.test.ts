// The guard itself: a missing service is a skip on a developer's machine and a failure under CI.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

const probe = (ci: string): ReturnType<typeof spawnSync> =>
  spawnSync(process.execPath, ['--import', 'tsx', '-e', "import('./test/support/services.ts').then((m) => console.log(String(m.requireService('no PostgreSQL here'))))"], {
    env: { ...process.env, CI: ci },
    encoding: 'utf8',
  });

test('without CI a missing service is a skip with its reason', () => {
  const run = probe('');
  assert.equal(run.status, 0, String(run.stderr));
  assert.equal(String(run.stdout).trim(), 'no PostgreSQL here');
});

test('under CI=true a missing service fails the suite', () => {
  const run = probe('true');
  assert.notEqual(run.status, 0);
  assert.match(String(run.stderr), /CI=true and a service this suite needs is missing: no PostgreSQL here/);
});
