import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { FakeS3 } from '../../test/support/fake-s3.js';
import { loadEnv } from '../config/env.js';
import { AppError } from '../contract/errors.js';
import { createStorage } from './create.js';
import { LocalStorage } from './local.adapter.js';
import { S3Storage, type S3StorageOptions } from './s3.adapter.js';
import type { Storage } from './storage.port.js';

const credentials = { accessKeyId: 'AKIDFAKE', secretAccessKey: 'fake-secret/with+chars' };
const tmp = await mkdtemp(join(tmpdir(), 'aiprod-s3-'));
const fake = await FakeS3.start({ bucket: 'media', ...credentials, maxKeys: 3 });
const s3 = (overrides: Partial<S3StorageOptions> = {}): S3Storage =>
  new S3Storage({ bucket: 'media', prefix: 'aiprod/dev', endpoint: fake.url, region: 'us-east-1', credentials, forcePathStyle: true, ...overrides });

after(async () => {
  await fake.close();
  await rm(tmp, { recursive: true, force: true });
});

async function file(name: string, content: string | Buffer): Promise<string> {
  const path = join(tmp, name);
  await writeFile(path, content);
  return path;
}

async function text(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function collect(items: AsyncIterable<{ key: string; bytes: number }>): Promise<Array<[string, number]>> {
  const out: Array<[string, number]> = [];
  for await (const item of items) out.push([item.key, item.bytes]);
  return out.sort(([a], [b]) => (a < b ? -1 : 1));
}

/** What every Storage adapter must do alike (STYLE 12). */
function conformance(name: string, make: () => Storage): void {
  describe(`Storage conformance: ${name}`, () => {
    const storage = make();
    const key = "productions/p1/my vidéo (final) & co's 字幕 😀.mp4";

    test('put, stat, read, range and replace', async () => {
      assert.deepEqual(await storage.put(key, await file('a.txt', '0123456789'), 'video/mp4'), { bytes: 10 });
      const stat = await storage.stat(key);
      assert.equal(stat?.key, key);
      assert.equal(stat?.bytes, 10);
      assert.ok(stat && Math.abs(stat.modifiedAt.getTime() - Date.now()) < 60_000);
      assert.equal(await text(await storage.read(key)), '0123456789');
      assert.equal(await text(await storage.read(key, { start: 2, end: 5 })), '2345');
      await storage.put(key, await file('b.txt', 'replaced'), 'video/mp4');
      assert.equal(await text(await storage.read(key)), 'replaced');
    });

    test('an empty file', async () => {
      assert.deepEqual(await storage.put('productions/p0/empty.srt', await file('empty.srt', ''), 'text/plain'), { bytes: 0 });
      assert.equal((await storage.stat('productions/p0/empty.srt'))?.bytes, 0);
      assert.equal(await text(await storage.read('productions/p0/empty.srt')), '');
    });

    test('a missing key: stat is undefined, read fails, delete is quiet', async () => {
      assert.equal(await storage.stat('productions/none/x.mp4'), undefined);
      await assert.rejects(async () => text(await storage.read('productions/none/x.mp4')));
      await storage.delete('productions/none/x.mp4');
    });

    test('list is recursive under a directory-like prefix, across pages', async () => {
      const source = await file('list.txt', 'abc');
      const keys = ['p2/a.mp4', 'p2/b.srt', 'p2/c.vtt', 'p2/sub/d.png', 'p2/sub/e & f.png', 'p2/g.json', 'p2/h.txt', 'p20/other.mp4'].map((k) => `lists/${k}`);
      for (const k of keys) await storage.put(k, source, 'application/octet-stream');
      const listed = await collect(storage.list('lists/p2'));
      assert.deepEqual(listed, keys.filter((k) => !k.includes('p20')).sort().map((k) => [k, 3]));
      assert.deepEqual(await collect(storage.list('lists/p2/')), listed);
      assert.deepEqual(await collect(storage.list('lists/none')), []);
    });

    test('delete removes the object', async () => {
      await storage.put('productions/p3/x.txt', await file('x.txt', 'x'), 'text/plain');
      await storage.delete('productions/p3/x.txt');
      assert.equal(await storage.stat('productions/p3/x.txt'), undefined);
      assert.deepEqual(await collect(storage.list('productions/p3')), []);
    });

    test('check passes on a writable store', async () => {
      await storage.check();
    });
  });
}

conformance('local', () => new LocalStorage(join(tmp, 'local-root')));
conformance('s3 (fake S3, path-style, prefixed)', () => s3());

describe('S3Storage against the fake S3', () => {
  before(() => {
    fake.hang = false;
  });
  after(() => {
    assert.deepEqual(fake.unexpected, [], 'the adapter made a request S3 has no answer for');
  });

  test('objects live under the STORAGE_URL prefix with their content type; lists page with continuation tokens', async () => {
    const storage = s3();
    const source = await file('page.txt', 'p');
    for (const name of ['a', 'b', 'c', 'd', 'e & f', 'g']) await storage.put(`pages/${name}.webm`, source, 'video/webm');
    assert.equal(fake.objects.get('aiprod/dev/pages/e & f.webm')?.contentType, 'video/webm');
    const before = fake.requests.length;
    assert.equal((await collect(storage.list('pages'))).length, 6);
    const pages = fake.requests.slice(before);
    assert.deepEqual(pages.map((r) => r.includes('continuation-token=')), [false, true]);
    assert.ok(pages.every((r) => /^GET \/media\/?\?/.test(r) && r.includes('prefix=aiprod%2Fdev%2Fpages%2F')), pages.join('\n'));
  });

  test('a presigned URL downloads with plain fetch, named by Content-Disposition', async () => {
    const storage = s3();
    const key = 'productions/p4/vidéo finale.mp4';
    await storage.put(key, await file('v.mp4', 'movie-bytes'), 'video/mp4');
    const url = await storage.signedUrl(key, 3600, 'vidéo "finale".mp4');
    assert.ok(url.startsWith(`${fake.url}/media/aiprod/dev/productions/p4/vid%C3%A9o%20finale.mp4?`));
    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'movie-bytes');
    assert.equal(res.headers.get('content-disposition'), `inline; filename="vid_o _finale_.mp4"; filename*=UTF-8''vid%C3%A9o%20%22finale%22.mp4`);
    assert.equal(res.headers.get('content-type'), 'video/mp4');
  });

  test('an expired presigned URL is refused, and so is one pointed at another key', async () => {
    const storage = s3();
    await storage.put('productions/p5/a.mp4', await file('a.mp4', 'a'), 'video/mp4');
    const url = await storage.signedUrl('productions/p5/a.mp4', 60, 'a.mp4');
    const moved = await fetch(url.replace('/a.mp4?', '/b.mp4?'));
    assert.equal(moved.status, 403);
    assert.match(await moved.text(), /<Code>SignatureDoesNotMatch<\/Code>/);
    fake.now = () => new Date(Date.now() + 61_000);
    try {
      const expired = await fetch(url);
      assert.equal(expired.status, 403);
      assert.match(await expired.text(), /<Code>AccessDenied<\/Code><Message>Request has expired<\/Message>/);
    } finally {
      fake.now = () => new Date();
    }
  });

  test('a file over the multipart threshold goes up in parts', async () => {
    const storage = s3({ multipartThresholdBytes: 6 * 1024 * 1024, partSizeBytes: 5 * 1024 * 1024 });
    const content = Buffer.alloc(12 * 1024 * 1024 + 7);
    for (let i = 0; i < content.length; i += 4096) content[i] = i % 251;
    assert.deepEqual(await storage.put('productions/p6/big.mp4', await file('big.mp4', content), 'video/mp4'), { bytes: content.length });
    assert.equal(fake.requests.filter((r) => r.startsWith('PUT /media/aiprod/dev/productions/p6/big.mp4?partNumber=')).length, 3);
    assert.ok(fake.objects.get('aiprod/dev/productions/p6/big.mp4')?.body.equals(content));
    assert.equal(fake.uploads.size, 0);
  });

  test('a failed part aborts the multipart upload and the error is retryable', async () => {
    const parts = { multipartThresholdBytes: 6 * 1024 * 1024, partSizeBytes: 5 * 1024 * 1024 };
    // Part 2 fails on every attempt the SDK makes (two here).
    fake.failNext = { match: /^PUT .*partNumber=2&/, status: 503, code: 'SlowDown', message: 'Please reduce your request rate.', times: 2 };
    const error = await s3({ ...parts, maxAttempts: 2 }).put('productions/p7/big.mp4', await file('big2.mp4', Buffer.alloc(11 * 1024 * 1024)), 'video/mp4').catch((e: unknown) => e);
    assert.ok(error instanceof AppError);
    assert.match(error.message, /S3 UploadPart "aiprod\/dev\/productions\/p7\/big.mp4" in bucket "media" failed: SlowDown \(HTTP 503\)/);
    assert.equal(error.retryable, true);
    assert.equal(fake.uploads.size, 0);
    assert.equal(fake.objects.has('aiprod/dev/productions/p7/big.mp4'), false);
    assert.equal(fake.failNext, undefined, 'both attempts were made');
  });

  test('a 503 SlowDown is retried by the SDK: one PUT and one part each succeed on the second attempt', async () => {
    const slowDown = { status: 503, code: 'SlowDown', message: 'Please reduce your request rate.' };
    const before = fake.requests.length;
    fake.failNext = { match: /^PUT \/media\/aiprod\/dev\/productions\/p9\/small\.mp4/, ...slowDown };
    assert.deepEqual(await s3().put('productions/p9/small.mp4', await file('small.mp4', 'small'), 'video/mp4'), { bytes: 5 });
    assert.equal(fake.objects.get('aiprod/dev/productions/p9/small.mp4')?.body.toString(), 'small');
    assert.equal(fake.requests.slice(before).filter((r) => r.startsWith('PUT /media/aiprod/dev/productions/p9/small.mp4')).length, 2);

    const content = Buffer.alloc(11 * 1024 * 1024, 3);
    fake.failNext = { match: /^PUT .*p9\/big\.mp4\?.*partNumber=2&/, ...slowDown };
    const storage = s3({ multipartThresholdBytes: 6 * 1024 * 1024, partSizeBytes: 5 * 1024 * 1024 });
    await storage.put('productions/p9/big.mp4', await file('big3.mp4', content), 'video/mp4');
    assert.ok(fake.objects.get('aiprod/dev/productions/p9/big.mp4')?.body.equals(content));
    assert.equal(fake.requests.slice(before).filter((r) => /^PUT .*p9\/big\.mp4\?.*partNumber=2&/.test(r)).length, 2);
    assert.equal(fake.failNext, undefined);
  });

  test('a client error (403) is not retried', async () => {
    const before = fake.requests.length;
    await assert.rejects(s3({ credentials: { ...credentials, secretAccessKey: 'wrong' } }).stat('productions/p1/a.mp4'));
    assert.equal(fake.requests.length - before, 1);
  });

  test('a reader that pauses longer than the time-out is not cut off', async () => {
    const storage = s3({ timeoutMs: 100 });
    const content = Buffer.alloc(1024 * 1024, 7);
    await storage.put('productions/p8/slow.mp4', await file('slow.mp4', content), 'video/mp4');
    const stream = await storage.read('productions/p8/slow.mp4');
    await delay(350); // the reader is busy elsewhere; S3 has sent what the buffers hold and waits
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    assert.ok(Buffer.concat(chunks).equals(content));
  });

  test('a download whose body stops coming fails with the stall error instead of hanging', async () => {
    const storage = s3({ timeoutMs: 200 });
    const content = Buffer.alloc(1024 * 1024, 5);
    await storage.put('productions/p8/stalls.mp4', await file('stalls.mp4', content), 'video/mp4');
    fake.stallBodyAfter = 64 * 1024;
    try {
      const stream = await storage.read('productions/p8/stalls.mp4');
      let received = 0;
      const reading = (async () => {
        for await (const chunk of stream) received += (chunk as Buffer).length; // a reader that keeps reading
      })();
      // A generous deadline, so a missing watchdog fails the test instead of hanging it.
      const deadline = delay(20_000).then(() => Promise.reject(new Error('the read never failed')));
      await assert.rejects(Promise.race([reading, deadline]), /S3 stopped sending for 0.2 s/);
      assert.equal(received, 64 * 1024);
    } finally {
      fake.stallBodyAfter = undefined;
    }
  });

  test('S3 errors name the code and the key', async () => {
    const error = await s3().read('productions/none/video.mp4').catch((e: unknown) => e);
    assert.ok(error instanceof AppError);
    assert.equal(error.code, 'not_found');
    assert.match(error.message, /GetObject "aiprod\/dev\/productions\/none\/video.mp4" in bucket "media" failed: NoSuchKey \(HTTP 404\)/);
  });

  test('refused credentials fail check() with a message naming the bucket and the fix', async () => {
    await assert.rejects(s3({ credentials: { ...credentials, secretAccessKey: 'wrong' } }).check(), (error: Error) => {
      assert.match(error.message, /bucket "media" failed: SignatureDoesNotMatch \(HTTP 403\).*check S3_SECRET_ACCESS_KEY/);
      return true;
    });
    await assert.rejects(s3({ credentials: { ...credentials, accessKeyId: 'AKIDOTHER' } }).check(), /InvalidAccessKeyId \(HTTP 403\).*check S3_ACCESS_KEY_ID/);
    await assert.rejects(s3({ bucket: 'missing' }).check(), /bucket "missing" failed: NoSuchBucket \(HTTP 404\).*check the bucket in STORAGE_URL/);
  });

  test('a local file that cannot be read is not blamed on the connection, and is not retried', async () => {
    // A directory passes the size check but fails the read of a multipart upload's stream (EISDIR).
    const before = fake.requests.length;
    const error = await s3({ multipartThresholdBytes: 0 }).put('productions/p7/dir.mp4', tmp, 'video/mp4').catch((e: unknown) => e);
    assert.ok(error instanceof AppError, String(error));
    assert.doesNotMatch(error.message, /connection to/);
    assert.match(error.message, /the local file could not be read \(EISDIR\)/);
    assert.equal(error.retryable, false);
    assert.ok(!error.message.includes(tmp), 'no server path in the message');
    assert.equal(fake.requests.slice(before).filter((r) => r.startsWith('PUT ')).length, 0, 'no part was sent');

    const missing = await s3().put('productions/p7/gone.mp4', join(tmp, 'gone.mp4'), 'video/mp4').catch((e: unknown) => e);
    assert.ok(missing instanceof AppError, String(missing));
    assert.match(missing.message, /PutObject "aiprod\/dev\/productions\/p7\/gone.mp4" failed: the local file could not be read \(ENOENT\)/);
    assert.ok(!missing.message.includes(tmp));
  });

  test('an upload that runs out of local resources (ENOSPC, EMFILE) is resource_exhausted', async () => {
    const storage = s3({ multipartThresholdBytes: 0 });
    const path = await file('exhausted.mp4', Buffer.alloc(1024, 1));
    const original = storage['putInParts'].bind(storage);
    for (const [code, errno, message] of [['ENOSPC', -28, 'no space left on device'], ['EMFILE', -24, 'too many open files']] as const) {
      // What a failing read stream inside lib-storage's upload raises.
      storage['putInParts'] = (key: string) =>
        storage['send']('Upload', key, () => Promise.reject(Object.assign(new Error(`${code}: ${message}, read`), { code, errno, syscall: 'read' })));
      const error = await storage.put('productions/p7/x.mp4', path, 'video/mp4').catch((e: unknown) => e);
      assert.ok(error instanceof AppError && error.code === 'resource_exhausted', String(error));
      assert.equal(error.retryable, true);
    }
    storage['putInParts'] = original;
  });

  test('an unreachable store fails check() naming the bucket and the endpoint', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const error = await s3({ endpoint }).check().catch((e: unknown) => e);
    assert.ok(error instanceof AppError);
    assert.match(error.message, new RegExp(`bucket "media" failed: connection to ${endpoint}: .*ECONNREFUSED`));
    assert.equal(error.retryable, true);
  });

  test('a store that stops answering times out', async () => {
    fake.hang = true;
    try {
      const error = await s3({ timeoutMs: 200 }).stat('productions/p1/a.mp4').catch((e: unknown) => e);
      assert.ok(error instanceof AppError);
      assert.match(error.message, /HeadObject .* failed: connection to http:\/\/127.0.0.1:\d+: timed out after 0.2 s without data/);
      assert.ok(fake.requests.filter((r) => r.startsWith('HEAD /media/aiprod/dev/productions/p1/a.mp4')).length >= 2, 'a time-out is retried');
      assert.equal(error.retryable, true);
    } finally {
      fake.hang = false;
    }
  });

  test('keys that would change meaning in a URL are refused', async () => {
    for (const key of ['../etc/passwd', '/abs.mp4', 'a//b.mp4', 'a/./b.mp4', '']) {
      await assert.rejects(s3().stat(key), /storage key must be relative/);
    }
  });

  test('virtual-hosted addressing on AWS when path style is off', async () => {
    const storage = s3({ endpoint: undefined, region: 'eu-west-1', forcePathStyle: false });
    const url = new URL(await storage.signedUrl('productions/p1/video.mp4', 900, 'video.mp4'));
    assert.equal(url.origin, 'https://media.s3.eu-west-1.amazonaws.com');
    assert.equal(url.pathname, '/aiprod/dev/productions/p1/video.mp4');
    assert.equal(url.searchParams.get('X-Amz-Expires'), '900');
    assert.match(url.searchParams.get('X-Amz-Credential') ?? '', /^AKIDFAKE\/\d{8}\/eu-west-1\/s3\/aws4_request$/);
  });

  test('the fake refuses a request changed after it was signed', async () => {
    const client = new S3Client({ region: 'us-east-1', endpoint: fake.url, forcePathStyle: true, credentials, maxAttempts: 1 });
    // Runs after signing, just before the request is sent: point it at another key.
    client.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { path: string };
        request.path = request.path.replace('/a.mp4', '/b.mp4');
        return next(args);
      },
      { step: 'deserialize', name: 'tamper' },
    );
    await s3().put('productions/p1/b.mp4', await file('b.mp4', 'b'), 'video/mp4');
    await assert.rejects(client.send(new HeadObjectCommand({ Bucket: 'media', Key: 'aiprod/dev/productions/p1/a.mp4' })), (error: Error & { $metadata?: { httpStatusCode?: number } }) => {
      assert.equal(error.$metadata?.httpStatusCode, 403);
      return true;
    });
    client.destroy();
  });
});

describe('S3 temporary credentials (session tokens)', () => {
  const temporary = { accessKeyId: 'ASIATEMPORARY', secretAccessKey: 'temporary-secret', sessionToken: 'FwoGZXIvYXdzE-session/token+=' };
  let sts: FakeS3;
  before(async () => {
    sts = await FakeS3.start({ bucket: 'media', ...temporary });
  });
  after(async () => {
    assert.deepEqual(sts.unexpected, []);
    await sts.close();
  });
  const storageWith = (creds: S3StorageOptions['credentials']): S3Storage =>
    new S3Storage({ bucket: 'media', prefix: 'tmp', endpoint: sts.url, region: 'us-east-1', credentials: creds, forcePathStyle: true });

  test('a session token is sent (x-amz-security-token) and signed on every call, and put in presigned URLs', async () => {
    const storage = storageWith(temporary);
    await storage.put('productions/t1/a.mp4', await file('t1.mp4', 'token'), 'video/mp4');
    assert.equal((await storage.stat('productions/t1/a.mp4'))?.bytes, 5);
    assert.equal(await text(await storage.read('productions/t1/a.mp4')), 'token');
    assert.deepEqual(await collect(storage.list('productions/t1')), [['productions/t1/a.mp4', 5]]);
    await storage.check();
    const url = new URL(await storage.signedUrl('productions/t1/a.mp4', 60, 'a.mp4'));
    assert.equal(url.searchParams.get('X-Amz-Security-Token'), temporary.sessionToken);
    assert.equal(await (await fetch(url)).text(), 'token');
    assert.ok(sts.sessionTokens.length >= 7);
    assert.ok(sts.sessionTokens.every((t) => t === temporary.sessionToken));
  });

  test('without its token a temporary key is refused, with a hint', async () => {
    await assert.rejects(storageWith({ accessKeyId: temporary.accessKeyId, secretAccessKey: temporary.secretAccessKey }).check(), /InvalidToken \(HTTP 400\).*check S3_SESSION_TOKEN/);
  });

  test("with no key configured the SDK's default chain is used (here: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN)", async () => {
    const names = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'] as const;
    const saved = names.map((name) => process.env[name]);
    [process.env.AWS_ACCESS_KEY_ID, process.env.AWS_SECRET_ACCESS_KEY, process.env.AWS_SESSION_TOKEN] = [temporary.accessKeyId, temporary.secretAccessKey, temporary.sessionToken];
    try {
      const seen = sts.sessionTokens.length;
      const storage = storageWith(undefined);
      await storage.put('productions/t2/a.mp4', await file('t2.mp4', 'chain'), 'video/mp4');
      assert.equal(await text(await storage.read('productions/t2/a.mp4')), 'chain');
      assert.deepEqual(sts.sessionTokens.slice(seen), [temporary.sessionToken, temporary.sessionToken]);
    } finally {
      names.forEach((name, i) => {
        if (saved[i] === undefined) delete process.env[name];
        else process.env[name] = saved[i];
      });
    }
  });
});

describe('S3 without credentials anywhere', () => {
  test('a store with no key and nothing in the default chain fails naming what to set, not the connection', async () => {
    const names = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_EC2_METADATA_DISABLED', 'AWS_SHARED_CREDENTIALS_FILE', 'AWS_CONFIG_FILE'] as const;
    const saved = names.map((name) => process.env[name]);
    for (const name of names) delete process.env[name];
    // No instance metadata service to ask, and no shared files to read.
    process.env.AWS_EC2_METADATA_DISABLED = 'true';
    process.env.AWS_SHARED_CREDENTIALS_FILE = join(tmp, 'none-credentials');
    process.env.AWS_CONFIG_FILE = join(tmp, 'none-config');
    try {
      const storage = new S3Storage({ bucket: 'media', endpoint: fake.url, region: 'us-east-1', forcePathStyle: true });
      const error = await storage.check().catch((e: unknown) => e);
      assert.ok(error instanceof AppError);
      assert.match(error.message, /bucket "media" failed: no credentials found: set S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY, or give the process AWS credentials/);
      assert.doesNotMatch(error.message, /connection to/);
    } finally {
      names.forEach((name, i) => {
        if (saved[i] === undefined) delete process.env[name];
        else process.env[name] = saved[i];
      });
    }
  });
});

describe('createStorage', () => {
  const base = { S3_ACCESS_KEY_ID: 'AKID', S3_SECRET_ACCESS_KEY: 'secret', S3_ENDPOINT: 'http://127.0.0.1:9000' };

  test('STORAGE_URL=s3://bucket/prefix gives S3 storage with the keys under the prefix', async () => {
    const storage = createStorage(loadEnv({ ...base, STORAGE_URL: 's3://media/aiprod/dev/' }));
    assert.ok(storage instanceof S3Storage);
    assert.equal(storage.kind, 's3');
    assert.equal(storage.bucket, 'media');
    assert.ok((await storage.signedUrl('k.mp4', 60, 'k.mp4')).startsWith('http://127.0.0.1:9000/media/aiprod/dev/k.mp4?'));
    assert.ok(createStorage(loadEnv({})) instanceof LocalStorage);
    const behindProxy = createStorage(loadEnv({ ...base, S3_PUBLIC_ENDPOINT: 'https://media.example.com', STORAGE_URL: 's3://media/aiprod' }));
    const url = new URL(await behindProxy.signedUrl!('k.mp4', 60, 'k.mp4'));
    assert.equal(url.origin, 'https://media.example.com', 'signed URLs point where browsers reach the store');
    assert.equal(url.pathname, '/media/aiprod/k.mp4');
  });

  test('no key at all means the default credential chain; half a key pair, or a token without keys, is named', () => {
    assert.ok(createStorage(loadEnv({ STORAGE_URL: 's3://media' })) instanceof S3Storage);
    assert.ok(createStorage(loadEnv({ ...base, S3_SESSION_TOKEN: 'token', S3_MAX_ATTEMPTS: '5', STORAGE_URL: 's3://media' })) instanceof S3Storage);
    assert.throws(() => createStorage(loadEnv({ ...base, S3_SECRET_ACCESS_KEY: '', STORAGE_URL: 's3://media' })), (error: Error) => {
      assert.match(error.message, /^invalid configuration: S3_SECRET_ACCESS_KEY: required when S3_ACCESS_KEY_ID is set/);
      return true;
    });
    assert.throws(() => createStorage(loadEnv({ S3_SECRET_ACCESS_KEY: 'secret', STORAGE_URL: 's3://media' })), /S3_ACCESS_KEY_ID: required when S3_SECRET_ACCESS_KEY is set/);
    assert.throws(() => createStorage(loadEnv({ S3_SESSION_TOKEN: 'token', STORAGE_URL: 's3://media' })), /S3_SESSION_TOKEN: set S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY with it/);
    assert.throws(() => loadEnv({ S3_MAX_ATTEMPTS: '0' }), /S3_MAX_ATTEMPTS/);
  });

  test('a bad endpoint or URL is named', () => {
    assert.throws(() => createStorage(loadEnv({ ...base, S3_ENDPOINT: 'http://minio:9000/base', STORAGE_URL: 's3://media' })), /S3_ENDPOINT: use http\(s\):\/\/host\[:port\] without a path/);
    assert.throws(() => createStorage(loadEnv({ ...base, STORAGE_URL: 's3://' })), /STORAGE_URL: use s3:\/\/bucket/);
    assert.throws(() => createStorage(loadEnv({ ...base, S3_PUBLIC_ENDPOINT: 'media.example.com', STORAGE_URL: 's3://media' })), /S3_PUBLIC_ENDPOINT: use http/);
  });
});
