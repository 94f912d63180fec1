import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contrastRatio, relativeLuminance } from '../contrast.js';
import { duotoneColors } from './palette.js';

test('a duotone takes the palette\'s darkest and lightest colours, never its text colour', () => {
  const palette = { background: '#0f172a', primary: '#2563eb', secondary: '#64748b', accent: '#facc15', text: '#ffffff' };
  assert.deepEqual(duotoneColors(palette), { dark: '#0f172a', light: '#facc15' });
});

test('colours too close for a picture to keep its shapes are pulled apart to 4.5:1', () => {
  const palette = { background: '#475569', primary: '#64748b', secondary: '#52525b', accent: '#6b7280', text: '#ffffff' };
  const { dark, light } = duotoneColors(palette);
  assert.ok(contrastRatio(dark, light) >= 4.5, `${dark} / ${light}: ${contrastRatio(dark, light).toFixed(2)}`);
  assert.ok(relativeLuminance(dark) < relativeLuminance('#52525b') && relativeLuminance(light) > relativeLuminance('#6b7280'), 'the dark one darker, the light one lighter');
});

test('without a palette the duotone is indigo and amber', () => {
  assert.deepEqual(duotoneColors(), { dark: '#1e1b4b', light: '#fbbf24' });
});
