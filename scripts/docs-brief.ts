// `npm run docs:brief`: regenerates the brief field reference in README.md from the zod schema.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { briefReferenceMarkdown } from '../src/contract/reference.js';

const file = join(import.meta.dirname, '..', 'README.md');
const begin = '<!-- brief-reference:begin -->';
const end = '<!-- brief-reference:end -->';
const text = readFileSync(file, 'utf8');
const from = text.indexOf(begin);
const to = text.indexOf(end);
if (from < 0 || to < from) throw new Error('README.md has no brief-reference markers');
writeFileSync(file, `${text.slice(0, from + begin.length)}\n${briefReferenceMarkdown()}\n${text.slice(to)}`);
console.log('README.md: brief reference updated');
