/**
 * Text handling for the planner: cleaning (emoji out, whitespace collapsed), sentence
 * segmentation that knows abbreviations, decimals and non-Latin punctuation, and grouping of
 * sentences into scenes of a comfortable spoken length.
 */

// Alternation, not one class: joiners and variation selectors inside a class confuse readers and lint.
// ©, ® and ™ are pictographic by Unicode's table but are text every font draws: they stay.
const PICTOGRAPHS = /(?![©®™])\p{Extended_Pictographic}|[\u{1F1E6}-\u{1F1FF}]|\u200D|\uFE0E|\uFE0F|\u20E3/gu;
const CJK = /[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]/gu;
const ENDS_CJK = /[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af。！？，、]$/u;

/** Removes emoji and collapses whitespace; says whether anything was removed. */
export function cleanText(text: string): { text: string; removedEmoji: boolean } {
  const stripped = text.replace(PICTOGRAPHS, '');
  const removedEmoji = stripped.length !== text.length;
  return {
    text: stripped
      .replace(/[ \t]+/g, ' ')
      .replace(/ +([,.!?;:])/g, '$1')
      .replace(/ *\n */g, '\n')
      .trim(),
    removedEmoji,
  };
}

/** Spoken length in "word units": words for spaced scripts, two CJK characters per unit. */
export function wordUnits(text: string): number {
  const cjk = text.match(CJK)?.length ?? 0;
  const words = text.replace(CJK, ' ').split(/\s+/).filter((w) => /[\p{L}\p{N}]/u.test(w)).length;
  return words + Math.ceil(cjk / 2);
}

const ABBREVIATIONS = new Set([
  'mr', 'mrs', 'ms', 'dr', 'prof', 'st', 'jr', 'sr', 'vs', 'etc', 'inc', 'ltd', 'co', 'no', 'fig', 'approx', 'dept', 'e.g', 'i.e', 'u.s', 'u.k', 'a.m', 'p.m',
]);

/** Splits a paragraph into sentences. */
export function splitSentences(paragraph: string): string[] {
  const sentences: string[] = [];
  let start = 0;
  const text = paragraph.trim();
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if ('。！？؟।'.includes(ch)) {
      let end = i + 1;
      while (end < text.length && '」』”"\')'.includes(text[end] as string)) end++;
      sentences.push(text.slice(start, end));
      start = end;
      i = end - 1;
      continue;
    }
    if (!'.!?…'.includes(ch)) continue;
    let end = i + 1;
    while (end < text.length && '.!?…"\'”’)'.includes(text[end] as string)) end++;
    const next = text.slice(end);
    if (next.length > 0 && !/^\s+["'“‘(]?[\p{Lu}\p{N}\p{Lo}]/u.test(next)) continue; // "3.5", "e.g. this"
    if (ch === '.') {
      const word = /([\p{L}.]+)\.$/u.exec(text.slice(start, i + 1))?.[1]?.toLowerCase() ?? '';
      if (ABBREVIATIONS.has(word) || /^\p{L}$/u.test(word)) continue; // "Dr. Smith", "J. Doe"
    }
    sentences.push(text.slice(start, end));
    start = end;
    i = end - 1;
  }
  if (start < text.length) sentences.push(text.slice(start));
  return sentences.map((s) => s.trim()).filter((s) => s.length > 0);
}

/** Splits an over-long sentence at commas or semicolons, else every `max` words. */
function splitLong(sentence: string, max: number): string[] {
  if (wordUnits(sentence) <= max) return [sentence];
  const parts = sentence.split(/(?<=[,;:，；、،])\s*/u);
  const out: string[] = [];
  let current = '';
  for (const part of parts) {
    const joined = current ? `${current} ${part}` : part;
    if (current && wordUnits(joined) > max) {
      out.push(current);
      current = part;
    } else current = joined;
  }
  if (current) out.push(current);
  return out.flatMap((piece) => {
    if (wordUnits(piece) <= max) return [piece];
    const words = piece.split(' ');
    if (words.length <= 1) {
      const chars = [...piece];
      const size = max * 2;
      return Array.from({ length: Math.ceil(chars.length / size) }, (_, i) => chars.slice(i * size, (i + 1) * size).join(''));
    }
    return Array.from({ length: Math.ceil(words.length / max) }, (_, i) => words.slice(i * max, (i + 1) * max).join(' '));
  });
}

export interface SegmentOptions {
  /** A scene closes once it reaches this many word units… */
  target: number;
  /** …and never grows past this. */
  max: number;
  /** A scene shorter than this takes the next sentence even past the target. */
  min: number;
}

/** Narration → scene texts: paragraphs are hard breaks, sentences are grouped to the target. */
export function segmentScript(script: string, options: SegmentOptions = { target: 24, max: 40, min: 8 }): string[] {
  const scenes: string[] = [];
  for (const paragraph of script.split(/\n\s*\n/)) {
    const sentences = splitSentences(paragraph.replace(/\s*\n\s*/g, ' ')).flatMap((s) => splitLong(s, options.max));
    let current = '';
    for (const sentence of sentences) {
      const joined = current ? `${current}${ENDS_CJK.test(current) ? '' : ' '}${sentence}` : sentence;
      const size = wordUnits(joined);
      if (current && size > options.max) {
        scenes.push(current);
        current = sentence;
      } else if (current && wordUnits(current) >= options.min && size > options.target) {
        scenes.push(current);
        current = sentence;
      } else current = joined;
    }
    if (current) scenes.push(current);
  }
  return scenes;
}
