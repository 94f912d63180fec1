/**
 * How accurate are word timings measured from audio (the OpenAI voice's, speech-timing.ts)?
 * Speaks the example briefs' texts with eSpeak, whose true word starts are known, runs the same
 * measurement on eSpeak's audio, and prints the word-start error — next to a naive baseline
 * (words spread over the whole file by length, no voice activity).
 *
 *   npx tsx scripts/measure-tts-timing.ts
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readWav } from '../src/media/wav.js';
import { EspeakSynthesizer } from '../src/providers/tts/espeak.adapter.js';
import { distributeWords, speechActivity } from '../src/providers/tts/speech-timing.js';
import { splitWords } from '../src/providers/tts/speech-words.js';

/** The texts of the example briefs: scripts by paragraph, scene narrations, prompts. */
function exampleTexts(): { source: string; text: string }[] {
  const texts: { source: string; text: string }[] = [];
  for (const file of readdirSync('examples').filter((f) => f.endsWith('.json')).sort()) {
    const brief = JSON.parse(readFileSync(join('examples', file), 'utf8')) as { script?: string; prompt?: string; scenes?: { narration?: string }[] };
    for (const p of brief.script?.split(/\n\s*\n/) ?? []) if (p.trim()) texts.push({ source: `${file} script`, text: p.trim() });
    for (const s of brief.scenes ?? []) if (s.narration) texts.push({ source: `${file} scene`, text: s.narration });
    if (brief.prompt) texts.push({ source: `${file} prompt`, text: brief.prompt });
  }
  return texts;
}

const espeak = new EspeakSynthesizer();
const dir = mkdtempSync(join(tmpdir(), 'aiprod-timing-'));
const measured: number[] = [];
const naive: number[] = [];
try {
  for (const rate of [1, 1.25]) {
    for (const [i, { source, text }] of exampleTexts().entries()) {
      const result = await espeak.synthesize({ text, voiceId: 'gmw/en-US', rate }, join(dir, `${i}.wav`));
      const wav = readWav(result.path);
      const words = splitWords(text);
      const derived = distributeWords(text, words, speechActivity(wav.samples, wav.sampleRate), result.durationSec);
      const uniform = distributeWords(text, words, { speechStart: 0, speechEnd: result.durationSec, pauses: [] }, result.durationSec);
      const errs: number[] = [];
      for (const [j, w] of derived.entries()) {
        const truth = result.words.find((t) => t.charStart === w.charStart);
        if (!truth) continue;
        errs.push(Math.abs(w.startSec - truth.startSec));
        naive.push(Math.abs((uniform[j] as { startSec: number }).startSec - truth.startSec));
      }
      measured.push(...errs);
      const mean = errs.reduce((a, b) => a + b, 0) / errs.length;
      console.log(`${source.padEnd(34)} rate ${rate}  ${String(errs.length).padStart(3)} words  mean ${ms(mean)}  max ${ms(Math.max(...errs))}`);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const summary = (xs: number[]): string => {
  const sorted = [...xs].sort((a, b) => a - b);
  return `mean ${ms(xs.reduce((a, b) => a + b, 0) / xs.length)}, median ${ms(sorted[Math.floor(sorted.length / 2)] ?? 0)}, p90 ${ms(sorted[Math.floor(sorted.length * 0.9)] ?? 0)}, max ${ms(sorted.at(-1) ?? 0)}`;
};
console.log(`\nmeasured (pauses + voiced time): ${measured.length} words, ${summary(measured)}`);
console.log(`naive (length over the whole file): ${summary(naive)}`);

function ms(sec: number): string {
  return `${Math.round(sec * 1000)} ms`.padStart(7);
}
