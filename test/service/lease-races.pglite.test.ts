/**
 * A worker that lost its lease (another worker took the production over, without a NOTIFY and
 * before its own heartbeat noticed) stops at its next write and touches nothing of the new owner's:
 * not its stored outputs, not its stage runs.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { and, eq, sql } from 'drizzle-orm';
import { AppError } from '../../src/contract/errors.js';
import { productions, stageRuns } from '../../src/db/schema.js';
import type { Storage } from '../../src/storage/storage.port.js';
import { startTestService, type TestService } from './harness.js';
import { RaceRig, uniqueBrief } from './render-races.js';

let svc: TestService;
let rig: RaceRig;

before(async () => {
  svc = await startTestService({ role: 'api' });
  rig = await RaceRig.create(svc);
});
after(async () => {
  await svc?.stop();
});

type Logged = { level: string; message: string } & Record<string, unknown>;
const logInto = (logs: Logged[]) => (level: string, message: string, fields?: Record<string, unknown>): void => {
  logs.push({ level, message, ...fields });
};

const read = async (id: string): Promise<typeof productions.$inferSelect> => {
  const [row] = await svc.database.db.select().from(productions).where(eq(productions.id, id));
  assert.ok(row);
  return row;
};

/** The service's storage, with `put` replaced. */
function storageWith(put: Storage['put']): Storage {
  const s = svc.storage;
  return { kind: s.kind, put, stat: (k) => s.stat(k), read: (k, r) => s.read(k, r), list: (p) => s.list(p), delete: (k) => s.delete(k), check: () => s.check() };
}

async function keysUnder(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const object of svc.storage.list(prefix)) keys.push(object.key);
  return keys.sort();
}

/** Another worker takes the production over, as a claim of a stale lease does: no NOTIFY reaches this one. */
async function takeOver(id: string, workerId = 'the-new-owner'): Promise<void> {
  await svc.database.db.update(productions).set({ workerId, attempts: sql`${productions.attempts} + 1` }).where(eq(productions.id, id));
}

test("a worker that lost its lease during its uploads leaves the new owner's outputs alone", async () => {
  const { id } = await svc.productions.create('default', uniqueBrief());
  await svc.queue.discardPending(id);
  rig.hook = async () => undefined;
  let puts = 0;
  let takenOver = false;
  const late = storageWith(async (key, from, type) => {
    puts++;
    if (puts === 2) {
      // Its lease goes stale while it uploads; another worker claims the production and delivers it.
      await svc.database.db.update(productions).set({ heartbeatAt: sql`now() - interval '1 hour'` }).where(eq(productions.id, id));
      const { threw } = await rig.render(id);
      assert.equal(threw, undefined);
      assert.equal((await read(id)).status, 'succeeded');
      takenOver = true;
      // Then this worker's upload fails late, and it cleans up what it uploaded.
      throw new AppError('internal', 'connection reset while uploading', { retryable: true });
    }
    return svc.storage.put(key, from, type);
  });
  await rig.render(id, { storage: late });
  assert.ok(takenOver);

  const row = await read(id);
  assert.equal(row.status, 'succeeded');
  assert.equal(row.attempts, 2);
  const outputs = await svc.productions.get('default', id);
  assert.ok(outputs.outputs.length >= 2, JSON.stringify(outputs.outputs));
  const stored = await keysUnder(`productions/${id}/`);
  const recorded = (await svc.database.executeSql('select storage_key, bytes from outputs where production_id = $1', [id])).rows as { storage_key: string; bytes: string | number }[];
  assert.deepEqual(stored, recorded.map((r) => r.storage_key).sort(), 'every recorded output is stored, and nothing of the old attempt is left');
  for (const output of recorded) {
    assert.match(output.storage_key, new RegExp(`^productions/${id}/a2/`), 'the new owner stores under its own attempt');
    assert.equal((await svc.storage.stat(output.storage_key))?.bytes, Number(output.bytes));
  }
});

test('a progress write that finds the production taken over stops the render at once', async () => {
  const { id } = await svc.productions.create('default', uniqueBrief());
  await svc.queue.discardPending(id);
  rig.hook = async (productionId) => {
    await rig.events(productionId, 2); // its writes before planning are done
    await takeOver(productionId);
  };
  let puts = 0;
  const counting = storageWith(async (key, from, type) => {
    puts++;
    return svc.storage.put(key, from, type);
  });
  const logs: Logged[] = [];
  const { threw } = await rig.render(id, { storage: counting, log: logInto(logs) });
  assert.equal(threw, undefined);
  assert.deepEqual(logs.filter((l) => l.message.startsWith('render stopped')).map((l) => l.why), ['lease_lost'], JSON.stringify(logs));
  assert.equal(puts, 0, 'nothing was rendered to the end and uploaded');
  const row = await read(id);
  assert.equal(row.workerId, 'the-new-owner', 'the new owner keeps it');
});

test("a failing worker that lost its lease fails only its own attempt's running stage runs", async () => {
  const { id } = await svc.productions.create('default', uniqueBrief());
  await svc.queue.discardPending(id);
  rig.hook = async (productionId) => {
    await rig.events(productionId, 2);
    await takeOver(productionId);
    // The new owner (attempt 2) is planning.
    await svc.database.db.insert(stageRuns).values({ productionId, stage: 'plan', attempt: 2, status: 'running' });
    throw new AppError('invalid_storyboard', 'the writer gave up');
  };
  await rig.render(id);
  const runs = await svc.database.db.select().from(stageRuns).where(and(eq(stageRuns.productionId, id), eq(stageRuns.stage, 'plan')));
  const byAttempt = Object.fromEntries(runs.map((r) => [r.attempt, r.status]));
  assert.deepEqual(byAttempt, { 1: 'failed', 2: 'running' });
});
