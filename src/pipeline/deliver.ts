/**
 * deliver (local directory): copies the outputs of a finished render into the output directory,
 * with storyboard.json, qa.json, design.json (every element placed on the frame, as the design
 * gates judged it) and cost.json. A render whose hard quality checks failed delivers
 * qa.json only, and fails, so nothing that looks like a result is left behind.
 */
import { copyFileSync, linkSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '../contract/errors.js';
import type { RenderResult } from './run.js';

function place(from: string, to: string): void {
  rmSync(to, { force: true });
  try {
    linkSync(from, to); // same filesystem: instant, no second copy on disk
  } catch {
    copyFileSync(from, to);
  }
}

const DELIVERABLE_NAMES = [
  'video.mp4', 'video.webm', 'audio.m4a', 'preview.gif', 'thumbnail.jpg', 'contact-sheet.jpg',
  'captions.srt', 'captions.vtt', 'storyboard.json', 'qa.json', 'design.json', 'cost.json',
];

export interface Delivered {
  outDir: string;
  files: { name: string; kind: string; path: string; mime: string }[];
}

export function deliver(result: RenderResult, outDir: string): Delivered {
  const { state } = result;
  mkdirSync(outDir, { recursive: true });
  // A previous render's files must not pass for this one's if this one fails.
  for (const name of DELIVERABLE_NAMES) rmSync(join(outDir, name), { force: true });
  const json = (name: string, value: unknown): string => {
    const path = join(outDir, name);
    writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
    return path;
  };
  const qaPath = json('qa.json', state.qa);
  if (!state.qa?.passed) {
    const failed = (state.qa?.checks ?? []).filter((c) => c.hard && !c.passed);
    throw new AppError('qa_failed', `quality checks failed: ${failed.map((c) => `${c.name} (expected ${c.expected}, measured ${c.measured})`).join('; ')}`, {
      details: failed.map((c) => ({ path: `qa.${c.name}`, message: `expected ${c.expected}, measured ${c.measured}` })),
    });
  }
  const files: Delivered['files'] = [];
  for (const output of state.outputs ?? []) {
    const path = join(outDir, output.name);
    place(output.path, path);
    files.push({ ...output, path });
  }
  files.push({ name: 'storyboard.json', kind: 'storyboard', path: json('storyboard.json', { ...state.storyboard, timeline: state.timeline }), mime: 'application/json' });
  files.push({ name: 'qa.json', kind: 'qa', path: qaPath, mime: 'application/json' });
  if (state.design) files.push({ name: 'design.json', kind: 'design', path: json('design.json', state.design), mime: 'application/json' });
  files.push({ name: 'cost.json', kind: 'cost', path: json('cost.json', { ...result.cost, timings: result.timings }), mime: 'application/json' });
  return { outDir, files };
}
