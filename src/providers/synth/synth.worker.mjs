// Entry of a synthesis worker thread (see synth-pool.ts). AIPROD runs from TypeScript sources
// through tsx, and a worker thread starts without the parent's loader, so this plain module
// registers tsx in the thread before it loads the tasks. Piscina calls the named exports.
import { register } from 'tsx/esm/api';

register();
const tasks = await import('./synth.tasks.ts');

export const speak = tasks.speak;
export const voices = tasks.voices;
export const compose = tasks.compose;
export const sfxStem = tasks.sfxStem;
