import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyTenantBranding } from './tenants.service.js';

test("the tenant's branding goes under the brief's own, field by field", () => {
  const tenant = { logo: 'acme/logo.png', colors: { primary: '#ff6600', text: '#ffffff' }, position: 'top-left' as const };
  assert.deepEqual(applyTenantBranding({ prompt: 'x' }, tenant), { prompt: 'x', brand: tenant });
  const own = applyTenantBranding({ prompt: 'x', brand: { colors: { primary: '#000000' }, position: 'bottom-right' } }, tenant);
  assert.deepEqual(own.brand, { logo: 'acme/logo.png', colors: { primary: '#000000', text: '#ffffff' }, position: 'bottom-right' });
  const plain = { prompt: 'x' };
  assert.equal(applyTenantBranding(plain, null), plain);
});
