/**
 * The committed openapi.json is what the API serves: regenerate it with `npm run docs:openapi`
 * after changing a route or schema. Its request examples are valid requests.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { acceptedSchema, batchSchema, createProductionSchema, errorBodySchema, estimateSchema, productionSchema } from '../../src/contract/production.js';
import { generateOpenApi } from '../../src/main/openapi.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

test('openapi.json matches the document the API generates (run npm run docs:openapi)', async () => {
  const generated = await generateOpenApi(pkg.version);
  const committed = readFileSync(new URL('../../openapi.json', import.meta.url), 'utf8');
  if (generated !== committed) {
    const a = generated.split('\n');
    const b = committed.split('\n');
    const line = a.findIndex((l, i) => l !== b[i]);
    assert.fail(`openapi.json is stale from line ${line + 1}:\n  generated: ${a[line]}\n  committed: ${b[line]}\nRun: npm run docs:openapi`);
  }
  const doc = JSON.parse(generated) as { paths: Record<string, Record<string, { summary?: string; tags?: string[] }>> };
  for (const path of ['/v1/productions', '/v1/productions/{id}/events', '/v1/estimate', '/pipeline/run', '/cost-estimate', '/ready']) {
    assert.ok(doc.paths[path], `the document lists ${path}`);
  }
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) assert.ok(op.summary, `${method.toUpperCase()} ${path} has a summary`);
  }
});

test('the examples in the schemas are valid requests', () => {
  const examples = (createProductionSchema.meta()?.examples ?? []) as unknown[];
  assert.ok(examples.length >= 3);
  for (const example of examples) {
    const result = createProductionSchema.safeParse(example);
    assert.ok(result.success, JSON.stringify(result.error?.issues));
  }
  for (const example of (batchSchema.meta()?.examples ?? []) as { productions: unknown[] }[]) {
    for (const item of example.productions) assert.ok(createProductionSchema.safeParse(item).success);
  }
  // And the response examples are what the API would answer.
  for (const schema of [productionSchema, acceptedSchema, estimateSchema, errorBodySchema]) {
    const responses = (schema.meta()?.examples ?? []) as unknown[];
    assert.ok(responses.length > 0, `${String(schema.meta()?.id)} has an example`);
    for (const example of responses) assert.ok(schema.safeParse(example).success, `${String(schema.meta()?.id)}: ${JSON.stringify(schema.safeParse(example).error?.issues)}`);
  }
});
