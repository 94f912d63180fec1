import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import { parseSignatureHeader, signWebhook, verifyWebhook, WebhookVerificationError } from './verify.js';

const secret = 'whsec_test_secret';
const body = JSON.stringify({ id: 'evt_1', type: 'production.succeeded', time: '2026-11-25T10:00:00.000Z', data: { production: { id: 'p1' } } });
const t = 1_795_000_000;

const reason = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof WebhookVerificationError);
    return error.reason;
  }
  assert.fail('expected a WebhookVerificationError');
};

test('the signature is HMAC-SHA256 of "<t>.<body>" in hex, in a t=…,v1=… header', () => {
  const header = signWebhook(body, secret, t);
  const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
  assert.equal(header, `t=${t},v1=${expected}`);
  assert.deepEqual(parseSignatureHeader(header), { timestampSec: t, signatures: [expected] });
});

test('a genuine delivery verifies and returns the event, as a string or as bytes', () => {
  const header = signWebhook(body, secret, t);
  assert.equal(verifyWebhook(body, header, secret, { nowSec: t + 10 }).id, 'evt_1');
  assert.equal(verifyWebhook(Buffer.from(body), header, secret, { nowSec: t - 10 }).type, 'production.succeeded');
  assert.equal(verifyWebhook(body, [header], [secret, 'whsec_old'], { nowSec: t }).id, 'evt_1', 'several secrets (a rotation on your side)');
  // Several v1 values: one match is enough; unknown schemes are ignored.
  const other = createHmac('sha256', 'whsec_other').update(`${t}.${body}`).digest('hex');
  assert.equal(verifyWebhook(body, `t=${t},v0=abc,v1=${other},${header.split(',')[1]}`, secret, { nowSec: t }).id, 'evt_1');
});

test('forged, altered, stale and malformed deliveries are refused with their reason', () => {
  const header = signWebhook(body, secret, t);
  assert.equal(reason(() => verifyWebhook(body, header, 'whsec_wrong', { nowSec: t })), 'signature_mismatch');
  assert.equal(reason(() => verifyWebhook(body.replace('p1', 'p2'), header, secret, { nowSec: t })), 'signature_mismatch');
  assert.equal(reason(() => verifyWebhook(JSON.stringify(JSON.parse(body), null, 2), header, secret, { nowSec: t })), 'signature_mismatch', 're-serialized JSON is not the raw body');
  assert.equal(reason(() => verifyWebhook(body, header, secret, { nowSec: t + 301 })), 'timestamp_out_of_tolerance');
  assert.equal(verifyWebhook(body, header, secret, { nowSec: t + 301, toleranceSec: 600 }).id, 'evt_1');
  assert.equal(reason(() => verifyWebhook(body, undefined, secret)), 'missing_signature');
  assert.equal(reason(() => verifyWebhook(body, 'sha256=abc', secret)), 'malformed_signature');
  assert.equal(reason(() => verifyWebhook(body, `t=${t},v1=xyz`, secret)), 'malformed_signature');
  // A timestamp moved forward with the old signature does not verify.
  assert.equal(reason(() => verifyWebhook(body, header.replace(`t=${t}`, `t=${t + 5}`), secret, { nowSec: t })), 'signature_mismatch');
  const notJson = 'hello';
  assert.equal(reason(() => verifyWebhook(notJson, signWebhook(notJson, secret, t), secret, { nowSec: t })), 'invalid_body');
});
