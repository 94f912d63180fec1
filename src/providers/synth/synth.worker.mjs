// Entry of a synthesis worker thread (see synth-pool.ts). A worker thread starts without the
// parent's loader, so this plain module chooses how to load the tasks itself: from a build
// (`npm run build` copies this file into dist/ beside the compiled synth.tasks.js), the JavaScript
// as it is; from the TypeScript sources, through tsx, registered in this thread. Piscina calls the
// named exports.
import { existsSync } from 'node:fs';
import { URL } from 'node:url';

const compiled = new URL('./synth.tasks.js', import.meta.url);
let tasks;
if (existsSync(compiled)) {
  tasks = await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  tasks = await import('./synth.tasks.ts');
}

export const speak = tasks.speak;
export const voices = tasks.voices;
export const compose = tasks.compose;
export const sfxStem = tasks.sfxStem;
