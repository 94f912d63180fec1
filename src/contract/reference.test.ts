import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { briefSchema } from './brief.js';
import { briefReferenceMarkdown } from './reference.js';

test('the README documents every brief field, as the schema generates it (npm run docs:brief)', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = /<!-- brief-reference:begin -->\n([\s\S]*?)\n<!-- brief-reference:end -->/.exec(readme)?.[1];
  assert.equal(section, briefReferenceMarkdown(), 'README brief reference is stale: run `npm run docs:brief`');
  for (const key of Object.keys(briefSchema.shape)) assert.ok(section?.includes(`| \`${key}\` |`), `README lacks ${key}`);
});
