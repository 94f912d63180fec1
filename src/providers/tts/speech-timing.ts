/**
 * Word timings measured from speech audio, for vendors that return none (OpenAI) and for the end
 * of the last word (Google's marks give starts only).
 *
 * 1. Voice activity: RMS per 10 ms frame; a frame is voiced when it is louder than 30 dB below the
 *    loud frames (95th percentile) and above an absolute floor. Silent runs shorter than 120 ms
 *    (stops between words) count as voiced; longer ones inside the speech are *pauses*.
 * 2. Anchors: the text's phrase boundaries (a word followed by . ! ? ; : , — or a line break) are
 *    matched to pauses in order by dynamic programming, scoring punctuation strength and pause
 *    length against the distance between where the boundary falls in the text (by weight) and
 *    where the pause falls in the voiced time. A matched pair pins the boundary to the pause.
 * 3. Between anchors, words are spread over the *voiced* time in proportion to their weight
 *    (letters, digits counted three times as numbers are read out long, plus one for the gap), so
 *    an unmatched pause holds no word start.
 */
import type { TextWord } from './speech-words.js';
import type { WordTiming } from './tts.port.js';

const FRAME_SEC = 0.01;
const MIN_PAUSE_SEC = 0.12;

export interface SpeechActivity {
  /** First and last voiced instant. */
  speechStart: number;
  speechEnd: number;
  /** Silences of at least 120 ms between speechStart and speechEnd. */
  pauses: { start: number; end: number }[];
}

/** Voice activity of mono samples in [-1, 1]. */
export function speechActivity(samples: Float32Array, sampleRate: number): SpeechActivity {
  const frameLen = Math.max(1, Math.round(sampleRate * FRAME_SEC));
  const frames = Math.ceil(samples.length / frameLen);
  const rms = new Float64Array(frames);
  for (let f = 0; f < frames; f++) {
    let sum = 0;
    const end = Math.min(samples.length, (f + 1) * frameLen);
    for (let i = f * frameLen; i < end; i++) sum += (samples[i] as number) ** 2;
    rms[f] = Math.sqrt(sum / Math.max(1, end - f * frameLen));
  }
  const sorted = Array.from(rms).sort((a, b) => a - b);
  const loud = sorted[Math.floor(sorted.length * 0.95)] ?? 0;
  const threshold = Math.max(loud * 10 ** (-30 / 20), 10 ** (-55 / 20));
  const voiced = Array.from(rms, (r) => r > threshold);
  const first = voiced.indexOf(true);
  const last = voiced.lastIndexOf(true);
  const total = samples.length / sampleRate;
  if (first < 0) return { speechStart: 0, speechEnd: total, pauses: [] };
  const pauses: { start: number; end: number }[] = [];
  let runStart = -1;
  for (let f = first; f <= last; f++) {
    if (!voiced[f] && runStart < 0) runStart = f;
    if (voiced[f] && runStart >= 0) {
      if ((f - runStart) * FRAME_SEC >= MIN_PAUSE_SEC) pauses.push({ start: runStart * FRAME_SEC, end: f * FRAME_SEC });
      runStart = -1;
    }
  }
  return { speechStart: first * FRAME_SEC, speechEnd: Math.min(total, (last + 1) * FRAME_SEC), pauses };
}

/** How long a word takes to say, roughly. */
function weight(word: string): number {
  let w = 1;
  for (const ch of word) w += /\p{N}/u.test(ch) ? 3 : /[\p{L}\p{M}]/u.test(ch) ? 1 : 0.5;
  return w;
}

/** How strongly the text after a word asks for a pause (0: not at all). */
function boundaryStrength(text: string, word: TextWord, next: TextWord | undefined): number {
  if (!next) return 0;
  const gap = text.slice(word.charEnd, next.charStart);
  if (/\n\s*\n/.test(gap)) return 1.2;
  if (/[.!?…]/.test(gap)) return 1;
  if (/[;:—–]|\s-\s/.test(gap)) return 0.8;
  if (/[,\n()]/.test(gap)) return 0.6;
  return 0;
}

/** Spreads words over measured speech: see the file comment. */
export function distributeWords(text: string, words: readonly TextWord[], activity: SpeechActivity, durationSec: number): WordTiming[] {
  if (words.length === 0) return [];
  const weights = words.map((w) => weight(w.text));
  const totalWeight = weights.reduce((a, b) => a + b, 0);
  const { speechStart, speechEnd, pauses } = activity;
  const voicedTotal = Math.max(1e-3, speechEnd - speechStart - pauses.reduce((s, p) => s + p.end - p.start, 0));

  // Candidate boundaries (after word j) and where each lies, as a fraction of weight / voiced time.
  const boundaries: { after: number; strength: number; at: number }[] = [];
  let cumulative = 0;
  for (const [j, w] of words.entries()) {
    cumulative += weights[j] as number;
    const strength = boundaryStrength(text, w, words[j + 1]);
    if (strength > 0) boundaries.push({ after: j, strength, at: cumulative / totalWeight });
  }
  let silentBefore = 0;
  const pausesAt = pauses.map((p) => {
    const at = (p.start - speechStart - silentBefore) / voicedTotal;
    silentBefore += p.end - p.start;
    return { ...p, at };
  });

  // Monotone matching of boundaries to pauses maximising the summed score (unmatched score 0).
  const score = (b: (typeof boundaries)[number], p: (typeof pausesAt)[number]): number =>
    b.strength + Math.min(1, (p.end - p.start) / 0.4) - 10 * Math.abs(b.at - p.at);
  const B = boundaries.length;
  const P = pausesAt.length;
  const best = Array.from({ length: B + 1 }, () => new Float64Array(P + 1));
  for (let b = 1; b <= B; b++) {
    for (let p = 1; p <= P; p++) {
      const pair = score(boundaries[b - 1]!, pausesAt[p - 1]!);
      best[b]![p] = Math.max(best[b - 1]![p]!, best[b]![p - 1]!, pair > 0 ? best[b - 1]![p - 1]! + pair : -Infinity);
    }
  }
  const anchors: { after: number; pause: { start: number; end: number } }[] = [];
  for (let b = B, p = P; b > 0 && p > 0; ) {
    if (best[b]![p] === best[b - 1]![p]) b--;
    else if (best[b]![p] === best[b]![p - 1]) p--;
    else {
      anchors.unshift({ after: boundaries[b - 1]!.after, pause: pausesAt[p - 1]! });
      b--;
      p--;
    }
  }

  // Spans of words between anchors, each spread over its voiced time.
  const timings: WordTiming[] = [];
  let firstWord = 0;
  let spanStart = speechStart;
  for (const anchor of [...anchors, { after: words.length - 1, pause: { start: speechEnd, end: speechEnd } }]) {
    const spanEnd = anchor.pause.start;
    const inner = pauses.filter((p) => p.start >= spanStart && p.end <= spanEnd);
    const clock = voicedClock(spanStart, spanEnd, inner);
    const spanWeights = weights.slice(firstWord, anchor.after + 1);
    const spanTotal = spanWeights.reduce((a, b) => a + b, 0);
    let acc = 0;
    for (let j = firstWord; j <= anchor.after; j++) {
      const start = clock(acc / spanTotal);
      acc += weights[j] as number;
      const end = clock(acc / spanTotal);
      const w = words[j] as TextWord;
      timings.push({ text: w.text, charStart: w.charStart, charEnd: w.charEnd, startSec: start, endSec: Math.min(durationSec, Math.max(end, start + 0.01)) });
    }
    firstWord = anchor.after + 1;
    spanStart = anchor.pause.end;
  }
  return timings;
}

/** Maps a fraction of a span's voiced time to the instant it is reached, skipping its pauses. */
function voicedClock(start: number, end: number, pauses: readonly { start: number; end: number }[]): (fraction: number) => number {
  const voiced = Math.max(1e-3, end - start - pauses.reduce((s, p) => s + p.end - p.start, 0));
  return (fraction) => {
    let left = Math.min(1, Math.max(0, fraction)) * voiced;
    let t = start;
    for (const p of pauses) {
      if (t + left <= p.start) break;
      left -= p.start - t;
      t = p.end;
    }
    return Math.min(end, t + left);
  };
}
