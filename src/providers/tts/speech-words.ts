/**
 * Words and timings for cloud voices: how a request text splits into the words a caption shows
 * (the same words the espeak adapter reports), and how word timings are derived from vendor data
 * (ElevenLabs' per-character times) or measured from the audio itself (OpenAI gives none).
 */
import type { WordTiming } from './tts.port.js';

export interface TextWord {
  text: string;
  charStart: number;
  charEnd: number;
}

const WORD_CHAR = /[\p{L}\p{N}\p{M}]/u;

/**
 * A text's words: maximal runs of non-space characters with the punctuation around them trimmed
 * ("phone," → "phone", "\"item\"" → "item", "don't" and "3.5" stay whole); runs with no letter or
 * digit ("—", "...") are no words.
 *
 * @example splitWords('Hi, you!') // [{ text: 'Hi', charStart: 0, charEnd: 2 }, { text: 'you', charStart: 4, charEnd: 7 }]
 */
export function splitWords(text: string): TextWord[] {
  const words: TextWord[] = [];
  for (const match of text.matchAll(/\S+/gu)) {
    const run = match[0];
    const chars = Array.from(run);
    let first = 0;
    let last = chars.length - 1;
    while (first <= last && !WORD_CHAR.test(chars[first] as string)) first++;
    while (last >= first && !WORD_CHAR.test(chars[last] as string)) last--;
    if (first > last) continue;
    const before = chars.slice(0, first).join('').length;
    const inner = chars.slice(first, last + 1).join('');
    const charStart = (match.index ?? 0) + before;
    words.push({ text: inner, charStart, charEnd: charStart + inner.length });
  }
  return words;
}

/**
 * Word timings from per-character times (ElevenLabs' `alignment`): a word starts when its first
 * character starts and ends when its last one ends. The vendor's characters are matched to the
 * request text in order, so a character it dropped or added does not shift the rest.
 */
export function wordsFromCharacterTimes(
  text: string,
  alignment: { characters: readonly string[]; starts: readonly number[]; ends: readonly number[] },
  durationSec: number,
): WordTiming[] {
  // Time of each UTF-16 offset of the text, where the vendor gave one.
  const startAt = new Array<number | undefined>(text.length).fill(undefined);
  const endAt = new Array<number | undefined>(text.length).fill(undefined);
  let pos = 0;
  for (const [i, ch] of alignment.characters.entries()) {
    if (ch.length === 0) continue;
    let found = text.startsWith(ch, pos) ? pos : -1;
    if (found < 0) {
      const ahead = text.indexOf(ch, pos);
      found = ahead >= 0 && ahead - pos <= 8 ? ahead : -1;
    }
    if (found < 0) continue;
    startAt[found] = alignment.starts[i];
    endAt[found + ch.length - 1] = alignment.ends[i];
    pos = found + ch.length;
  }
  return clampTimings(
    splitWords(text).map((w) => {
      const starts = startAt.slice(w.charStart, w.charEnd).filter((t): t is number => t !== undefined);
      const ends = endAt.slice(w.charStart, w.charEnd).filter((t): t is number => t !== undefined);
      return { ...w, startSec: starts[0] ?? Number.NaN, endSec: ends[ends.length - 1] ?? Number.NaN };
    }),
    durationSec,
  );
}

/**
 * Makes timings safe for captions: missing times interpolated from neighbours, starts
 * non-decreasing, every word at least 10 ms long, all within [0, duration].
 */
export function clampTimings(words: WordTiming[], durationSec: number): WordTiming[] {
  const out = words.map((w) => ({ ...w }));
  const minLen = Math.min(0.01, durationSec / Math.max(1, out.length * 2));
  for (const [i, w] of out.entries()) {
    if (!Number.isFinite(w.startSec)) w.startSec = i > 0 ? (out[i - 1] as WordTiming).endSec : 0;
    w.startSec = Math.min(Math.max(0, w.startSec, i > 0 ? (out[i - 1] as WordTiming).startSec : 0), durationSec - minLen);
  }
  for (const [i, w] of out.entries()) {
    const next = out[i + 1];
    if (!Number.isFinite(w.endSec)) w.endSec = next ? next.startSec : durationSec;
    w.endSec = Math.min(durationSec, Math.max(w.endSec, w.startSec + minLen));
  }
  return out;
}
