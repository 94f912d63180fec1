/**
 * Captions from word timings: words are grouped into short cues that break at punctuation, and
 * each cue's text is the exact slice of the narration it covers, so the cues of a scene read back
 * as its whole narration (the qa stage checks that).
 */
import type { WordTiming } from '../providers/tts/tts.port.js';
import type { Timeline } from './timeline.js';

export interface CaptionCue {
  sceneId: string;
  startSec: number;
  endSec: number;
  text: string;
  /** The cue's words as spoken, in video seconds (the word caption style highlights each in turn). */
  words?: CaptionWord[];
}

export interface CaptionWord {
  /** The word as written in the narration (punctuation that touches it excluded). */
  text: string;
  startSec: number;
  endSec: number;
}

export interface SceneSpeech {
  text: string;
  words: WordTiming[];
}

const CJK = /[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]/u;
const MIN_CUE_SEC = 0.8;

function limits(text: string): { chars: number; words: number } {
  return CJK.test(text) ? { chars: 16, words: 12 } : { chars: 42, words: 8 };
}

/** Splits one scene's words into groups; each group becomes a cue. */
export function groupWords(text: string, words: readonly WordTiming[]): WordTiming[][] {
  const { chars, words: maxWords } = limits(text);
  const groups: WordTiming[][] = [];
  let current: WordTiming[] = [];
  for (const [i, word] of words.entries()) {
    const next = words[i + 1];
    current.push(word);
    const first = current[0] as WordTiming;
    const span = (next ? next.charStart : text.length) - first.charStart;
    const after = text.slice(word.charEnd, next ? next.charStart : text.length);
    const sentenceEnd = /[.!?。！？؟]/u.test(after);
    const pause = /[,;:，、،]/u.test(after);
    const nextSpan = next ? next.charEnd - first.charStart : Infinity;
    if (!next || sentenceEnd || current.length >= maxWords || nextSpan > chars || (pause && (current.length >= 3 || span >= chars / 2))) {
      groups.push(current);
      current = [];
    }
  }
  return CJK.test(text) ? groups : withoutOrphans(groups, text);
}

/** Whether the text after `word` (up to the next word) ends a sentence. */
const endsSentence = (text: string, word: WordTiming, next: WordTiming | undefined): boolean =>
  /[.!?。！？؟]/u.test(text.slice(word.charEnd, next ? next.charStart : text.length));

/**
 * No cue of a single word when the scene has more: a lone word ("ville.") after a cue closed at
 * its length takes the previous cue's last word with it ("la ville."), or joins the previous cue
 * when that one is short; a one-word sentence joins the cue after it. (Not for CJK, whose "words"
 * are characters or short runs.)
 */
function withoutOrphans(groups: WordTiming[][], text: string): WordTiming[][] {
  const out = groups.map((g) => [...g]);
  for (let i = 0; i < out.length; i++) {
    const group = out[i] as WordTiming[];
    if (group.length !== 1 || out.length === 1) continue;
    const prev = out[i - 1];
    const word = group[0] as WordTiming;
    const prevLast = prev?.[prev.length - 1];
    if (prev && prevLast && !endsSentence(text, prevLast, word)) {
      if (prev.length >= 3) group.unshift(prev.pop() as WordTiming);
      else {
        prev.push(word);
        out.splice(i--, 1);
      }
    } else if (out[i + 1]) {
      (out[i + 1] as WordTiming[]).unshift(word);
      out.splice(i--, 1);
    } else if (prev) {
      prev.push(word);
      out.splice(i--, 1);
    }
  }
  return out;
}

export function buildCaptions(timeline: Timeline, speech: ReadonlyMap<string, SceneSpeech>): CaptionCue[] {
  const cues: CaptionCue[] = [];
  for (const slot of timeline.scenes) {
    const scene = speech.get(slot.id);
    if (!scene || scene.words.length === 0) continue;
    const groups = groupWords(scene.text, scene.words);
    groups.forEach((group, g) => {
      const first = group[0] as WordTiming;
      const last = group[group.length - 1] as WordTiming;
      const nextGroup = groups[g + 1];
      const from = g === 0 ? 0 : first.charStart;
      const to = nextGroup ? (nextGroup[0] as WordTiming).charStart : scene.text.length;
      const sceneEnd = slot.startSec + slot.durationSec;
      const start = slot.speechStartSec + first.startSec;
      const nextStart = nextGroup ? slot.speechStartSec + (nextGroup[0] as WordTiming).startSec : sceneEnd;
      const end = Math.min(nextStart, sceneEnd, Math.max(slot.speechStartSec + last.endSec, start + MIN_CUE_SEC));
      const words = group.map((w) => ({ text: scene.text.slice(w.charStart, w.charEnd), startSec: round3(slot.speechStartSec + w.startSec), endSec: round3(Math.min(end, slot.speechStartSec + w.endSec)) }));
      cues.push({ sceneId: slot.id, startSec: round3(start), endSec: round3(end), text: scene.text.slice(from, to).trim(), words });
    });
  }
  return cues.filter((c) => c.text.length > 0 && c.endSec > c.startSec);
}

const round3 = (n: number): number => Math.round(n * 1000) / 1000;

function stamp(sec: number, separator: ',' | '.'): string {
  const ms = Math.round(sec * 1000);
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${pad(h)}:${pad(m)}:${pad(s)}${separator}${pad(ms % 1000, 3)}`;
}

export function toSrt(cues: readonly CaptionCue[]): string {
  return cues.map((c, i) => `${i + 1}\n${stamp(c.startSec, ',')} --> ${stamp(c.endSec, ',')}\n${c.text}\n`).join('\n');
}

export function toVtt(cues: readonly CaptionCue[]): string {
  const body = cues.map((c) => `${stamp(c.startSec, '.')} --> ${stamp(c.endSec, '.')}\n${c.text}\n`).join('\n');
  return `WEBVTT\n\n${body}`;
}
