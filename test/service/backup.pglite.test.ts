/**
 * `aiprod backup` and `aiprod restore` on the embedded database with local storage: a service with
 * a finished production cannot be backed up while it holds its database; stopped, it is backed up,
 * restored into a new data directory, started there, and serves the same MP4 bytes (also through
 * the signed link made before, so the master key came along). A restore into a non-empty target,
 * a damaged archive and a cut one are refused, and leave the target as it was. With S3 storage the
 * archive carries the manifest only, and a restore names the objects the bucket no longer has.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, copyFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { outputs } from '../../src/db/schema.js';
import { createBackup, type BackupSummary } from '../../src/main/backup.js';
import { restoreBackup } from '../../src/main/restore.js';
import { FakeS3 } from '../support/fake-s3.js';
import { backupEnv, downloadSha, flipByteIn, renderShort, tarEntries } from './backup.harness.js';
import { startTestService, type TestService } from './harness.js';
import { killAll, startCli } from './processes.js';

const root = mkdtempSync(join(tmpdir(), 'aiprod-backup-pglite-'));
const source = join(root, 'source');
const archive = join(root, 'backup.tar');
let svc: TestService | undefined;
let restored: TestService | undefined;
let production: { id: string; links: Map<string, string> };
let auth: { authorization: string };
let originalSha: string;
let backup: BackupSummary;

before(async () => {
  svc = await startTestService({ env: { AIPROD_DATA_DIR: source } });
  auth = svc.auth;
  production = await renderShort(svc, 'Backups keep the work.');
  originalSha = await downloadSha(svc, `/v1/productions/${production.id}/outputs/video.mp4`, auth);
  mkdirSync(join(source, 'assets'), { recursive: true });
  writeFileSync(join(source, 'assets', 'logo.txt'), 'a file a brief may name');
});
after(async () => {
  await restored?.stop();
  await svc?.stop();
  await killAll();
  rmSync(root, { recursive: true, force: true });
});

test('a running service holds its embedded database: the backup says so and how to proceed', async () => {
  await assert.rejects(createBackup(backupEnv(source), { out: join(root, 'while-running.tar'), version: 'test' }), (error: Error & { code?: string; details?: { message: string }[] }) => {
    assert.equal(error.code, 'conflict');
    assert.match(error.message, /is open in another process: PGlite allows one process per data directory/);
    assert.match(error.details?.[0]?.message ?? '', /stop the service/);
    return true;
  });
  assert.equal(existsSync(join(root, 'while-running.tar')), false, 'nothing is left behind');
});

test('backup of the stopped service, restored into a new data directory, serves the same bytes', async () => {
  await svc!.stop();
  svc = undefined;
  backup = await createBackup(backupEnv(source), { out: archive, version: 'test' });
  assert.equal(backup.header.database.kind, 'pglite');
  assert.equal(backup.header.counts.productions, 1);
  assert.ok(backup.header.counts.outputFiles >= 3, `outputs archived: ${backup.header.counts.outputFiles}`);
  assert.equal(backup.header.counts.outputFiles, backup.header.counts.outputs);
  assert.equal(backup.header.masterKey.included, true);
  assert.equal(backup.missing.length, 0);
  const names = tarEntries(readFileSync(archive)).map((e) => e.name);
  assert.equal(names[0], 'aiprod-backup.json');
  assert.equal(names.at(-1), 'manifest.json');
  assert.ok(names.includes('master.key') && names.includes('assets/logo.txt') && names.includes('database/pglite/PG_VERSION'));
  assert.ok(names.some((n) => n.startsWith(`outputs/productions/${production.id}/`) && n.endsWith('/video.mp4')));
  assert.equal(existsSync(join(source, 'pglite', 'postmaster.pid')), false, 'the backup closed the database again');

  const target = join(root, 'restored');
  const summary = await restoreBackup(backupEnv(target), { file: archive });
  assert.equal(summary.checked, names.length);
  assert.deepEqual(readFileSync(join(target, 'master.key')), readFileSync(join(source, 'master.key')));
  assert.equal(statSync(join(target, 'master.key')).mode & 0o777, 0o600);
  assert.equal(readFileSync(join(target, 'assets', 'logo.txt'), 'utf8'), 'a file a brief may name');
  assert.deepEqual(readdirSync(target).filter((n) => n.startsWith('.')), [], 'no staging left');

  restored = await startTestService({ role: 'api', env: { AIPROD_DATA_DIR: target } });
  assert.equal(restored.createdAdminKey, undefined, 'the keys came along');
  assert.equal(await downloadSha(restored, `/v1/productions/${production.id}/outputs/video.mp4`, auth), originalSha);
  // The signed link made before the backup still opens: same data keys under the same master key.
  assert.equal(await downloadSha(restored, production.links.get('video.mp4') ?? ''), originalSha);
  const list = (await restored.app!.inject({ url: '/v1/productions', headers: auth })).json() as { data: { id: string; status: string }[] };
  assert.deepEqual(list.data.map((p) => [p.id, p.status]), [[production.id, 'succeeded']]);
});

test('aiprod restore refuses a data directory that is not empty', async () => {
  const target = join(root, 'restored');
  const cli = startCli(['restore', archive], { AIPROD_DATA_DIR: target, DATABASE_URL: '', STORAGE_URL: '', AIPROD_MASTER_KEY: '' });
  const exit = await cli.exitWithin(120_000);
  assert.equal(exit?.code, 1, cli.output());
  assert.match(cli.output(), /error \[conflict\]: .*restored\/pglite is not empty: restore into a new AIPROD_DATA_DIR/);
});

test('a damaged output or a cut archive is refused before the target is touched', async () => {
  const damaged = flipByteIn(archive, (name) => name.endsWith('/video.mp4'));
  const target = join(root, 'from-damaged');
  await assert.rejects(restoreBackup(backupEnv(target), { file: damaged.path }), (error: Error & { code?: string; details?: { message: string }[] }) => {
    assert.equal(error.code, 'invalid_request');
    assert.match(error.message, /is damaged: 1 entry does not match its manifest; nothing was restored/);
    assert.match(error.details?.[0]?.message ?? '', new RegExp(`^${damaged.entry.replaceAll('.', '\\.')}: SHA-256 .* \\(damaged\\)$`));
    return true;
  });
  assert.deepEqual(readdirSync(target), [], 'nothing restored, no staging left');

  const cut = join(root, 'cut.tar');
  copyFileSync(archive, cut);
  truncateSync(cut, Math.floor(statSync(cut).size / 2));
  await assert.rejects(restoreBackup(backupEnv(target), { file: cut }), /not a readable backup archive|cut short/);
  assert.deepEqual(readdirSync(target), []);
});

test('with S3 storage the archive carries the manifest only, and a restore names the objects the bucket lacks', async () => {
  const fake = await FakeS3.start({ bucket: 'media', accessKeyId: 'AKIDBACKUP', secretAccessKey: 'backup-secret' });
  const s3 = { STORAGE_URL: 's3://media/aiprod', S3_ENDPOINT: fake.url, S3_ACCESS_KEY_ID: 'AKIDBACKUP', S3_SECRET_ACCESS_KEY: 'backup-secret', S3_MAX_ATTEMPTS: '1' };
  const dataDir = join(root, 's3-source');
  const file = join(root, 's3.tar');
  try {
    // Outputs as a render leaves them (the API role renders nothing; the rows and objects are made here).
    const api = await startTestService({ role: 'api', env: { AIPROD_DATA_DIR: dataDir, ...s3 } });
    const created = await api.app!.inject({ method: 'POST', url: '/v1/productions', headers: api.auth, payload: { script: 'Kept in a bucket.', resolution: '480p' } });
    const id = created.json().id as string;
    const body = join(root, 'object.bin');
    writeFileSync(body, Buffer.alloc(5000, 3));
    for (const name of ['video.mp4', 'thumbnail.jpg']) {
      const storageKey = `productions/${id}/a1/${name}`;
      await api.storage.put(storageKey, body, 'application/octet-stream');
      await api.database.db.insert(outputs).values({ productionId: id, name, kind: 'video', mime: 'video/mp4', bytes: 5000, storageKey, createdAt: new Date() });
    }
    await api.stop();

    const made = await createBackup(backupEnv(dataDir, s3), { out: file, version: 'test' });
    assert.deepEqual(made.header.storage, { kind: 's3', location: 's3://media/aiprod', filesIncluded: false });
    assert.equal(made.header.counts.outputs, 2);
    assert.ok(!tarEntries(readFileSync(file)).some((e) => e.name.startsWith('outputs/')), 'no object bytes in the archive');

    fake.objects.delete(`aiprod/productions/${id}/a1/thumbnail.jpg`);
    const target = join(root, 's3-restored');
    await assert.rejects(restoreBackup(backupEnv(target, s3), { file }), (error: Error & { code?: string; details?: { path?: string }[] }) => {
      assert.equal(error.code, 'conflict');
      assert.match(error.message, /1 of the 2 outputs the backup names are not in s3:\/\/media\/aiprod: bring them back from the bucket's versions/);
      assert.deepEqual(error.details?.map((d) => d.path), [`productions/${id}/a1/thumbnail.jpg`]);
      return true;
    });
    assert.equal(existsSync(join(target, 'pglite')), false, 'nothing restored');
    const summary = await restoreBackup(backupEnv(target, s3), { file, allowMissingObjects: true });
    assert.deepEqual(summary.missing.map((o) => o.storageKey), [`productions/${id}/a1/thumbnail.jpg`]);
    await assert.rejects(restoreBackup(backupEnv(join(root, 's3-local')), { file }), /live in object storage \(s3:\/\/media\/aiprod\): set STORAGE_URL/);
    assert.deepEqual(fake.unexpected, []);
  } finally {
    await fake.close();
  }
});
