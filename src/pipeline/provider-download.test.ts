import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { AppError } from '../contract/errors.js';
import { providerDownload } from './provider-download.js';

/** A 1x1 PNG. */
const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000' + '1f15c4890000000d4944415478da63f8ffff3f0005fe02fea7d6a2f10000000049454e44ae426082', 'hex');

test('vendor media is fetched from the provider\'s own (private) base URL host, and from no other private address', async () => {
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'image/png' }).end(PNG));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  try {
    const dir = mkdtempSync(join(tmpdir(), 'aiprod-provider-dl-'));
    const config = { maxBytes: 1024 * 1024, timeoutMs: 5000, allowHosts: [], allowCidrs: [] };
    const forVendor = providerDownload(config)(`http://127.0.0.1:${port}/v1`);
    const got = await forVendor(`http://127.0.0.1:${port}/media/a.png`, { dir, kinds: ['image'] });
    assert.equal(got.contentType, 'image/png');
    // Another loopback address, a metadata address, and another vendor's private host: refused.
    for (const url of [`http://127.0.0.2:${port}/media/a.png`, 'http://169.254.169.254/latest/meta-data/', `http://localhost:${port}/media/a.png`]) {
      await assert.rejects(forVendor(url, { dir, kinds: ['image'] }), (e: AppError) => e.code === 'unsafe_url', url);
    }
    // A provider on a public base URL admits no private address at all.
    const publicVendor = providerDownload(config)('https://api.vendor.example');
    await assert.rejects(publicVendor(`http://127.0.0.1:${port}/media/a.png`, { dir, kinds: ['image'] }), (e: AppError) => e.code === 'unsafe_url');
  } finally {
    server.close();
  }
});
