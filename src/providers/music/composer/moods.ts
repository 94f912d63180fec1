/**
 * Mood → musical parameters: key, tempo, chord progressions and which instruments play. The
 * composer turns these into notes; nothing here depends on the seed (variation happens later).
 */
import type { Mood } from '../../../contract/brief.js';

export type Mode = 'major' | 'minor';
export type ArpStyle = 'none' | 'slow' | 'eighths' | 'sixteenths' | 'bounce';
export type DrumStyle = 'none' | 'soft' | 'four' | 'halftime' | 'toms' | 'pulse';

export interface MoodParameters {
  mood: Mood;
  /** MIDI note of the key's tonic in the bass register. */
  tonic: number;
  mode: Mode;
  tempoBpm: number;
  /** Candidate progressions as scale degrees (0 = I); the seed picks one. */
  progressions: number[][];
  pad: { level: number; harmonics: number };
  bass: { level: number; style: 'sustained' | 'pulse' | 'staccato' };
  arp: { level: number; style: ArpStyle };
  drums: { level: number; style: DrumStyle };
  /** 0..1: how much upper-harmonic content instruments keep. */
  brightness: number;
}

export const SCALES: Record<Mode, number[]> = {
  major: [0, 2, 4, 5, 7, 9, 11],
  minor: [0, 2, 3, 5, 7, 8, 10],
};

const NOTE_NAMES = ['C', 'C#', 'D', 'Eb', 'E', 'F', 'F#', 'G', 'Ab', 'A', 'Bb', 'B'];

export const MOOD_PARAMETERS: Record<Mood, MoodParameters> = {
  uplifting: {
    mood: 'uplifting', tonic: 48, mode: 'major', tempoBpm: 118,
    progressions: [[0, 4, 5, 3], [0, 5, 3, 4]],
    pad: { level: 0.16, harmonics: 5 }, bass: { level: 0.32, style: 'pulse' },
    arp: { level: 0.11, style: 'sixteenths' }, drums: { level: 0.5, style: 'four' }, brightness: 0.85,
  },
  calm: {
    mood: 'calm', tonic: 41, mode: 'major', tempoBpm: 72,
    progressions: [[0, 5, 3, 4], [0, 2, 3, 0]],
    pad: { level: 0.2, harmonics: 3 }, bass: { level: 0.22, style: 'sustained' },
    arp: { level: 0.08, style: 'slow' }, drums: { level: 0, style: 'none' }, brightness: 0.35,
  },
  dramatic: {
    mood: 'dramatic', tonic: 38, mode: 'minor', tempoBpm: 84,
    progressions: [[0, 5, 2, 6], [0, 3, 5, 4]],
    pad: { level: 0.22, harmonics: 6 }, bass: { level: 0.34, style: 'sustained' },
    arp: { level: 0.06, style: 'eighths' }, drums: { level: 0.55, style: 'toms' }, brightness: 0.6,
  },
  corporate: {
    mood: 'corporate', tonic: 43, mode: 'major', tempoBpm: 104,
    progressions: [[0, 5, 3, 4], [3, 4, 0, 5]],
    pad: { level: 0.13, harmonics: 4 }, bass: { level: 0.3, style: 'pulse' },
    arp: { level: 0.12, style: 'eighths' }, drums: { level: 0.4, style: 'soft' }, brightness: 0.65,
  },
  playful: {
    mood: 'playful', tonic: 50, mode: 'major', tempoBpm: 126,
    progressions: [[0, 3, 4, 3], [0, 4, 3, 4]],
    pad: { level: 0.08, harmonics: 3 }, bass: { level: 0.3, style: 'staccato' },
    arp: { level: 0.15, style: 'bounce' }, drums: { level: 0.45, style: 'halftime' }, brightness: 0.9,
  },
  tense: {
    mood: 'tense', tonic: 40, mode: 'minor', tempoBpm: 100,
    progressions: [[0, 3, 0, 5], [0, 0, 5, 4]],
    pad: { level: 0.17, harmonics: 6 }, bass: { level: 0.33, style: 'pulse' },
    arp: { level: 0.07, style: 'sixteenths' }, drums: { level: 0.4, style: 'pulse' }, brightness: 0.4,
  },
};

export function moodParameters(mood: Mood): MoodParameters {
  return MOOD_PARAMETERS[mood];
}

/** MIDI notes of the triad on a scale degree, from `base` upwards. */
export function triad(params: MoodParameters, degree: number, base = params.tonic): number[] {
  const scale = SCALES[params.mode];
  return [0, 2, 4].map((step) => {
    const d = degree + step;
    return base + (scale[d % 7] as number) + 12 * Math.floor(d / 7);
  });
}

/** "C", "Am", "Bdim" … for a scale degree. */
export function chordSymbol(params: MoodParameters, degree: number): string {
  const [root, third, fifth] = triad(params, degree) as [number, number, number];
  const quality = third - root === 3 ? (fifth - root === 6 ? 'dim' : 'm') : '';
  return `${NOTE_NAMES[root % 12]}${quality}`;
}

export function keyName(params: MoodParameters): string {
  return `${NOTE_NAMES[params.tonic % 12]} ${params.mode}`;
}

export function midiToHz(note: number): number {
  return 440 * 2 ** ((note - 69) / 12);
}
