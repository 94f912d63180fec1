/**
 * The arrangement: bars of the mood's progression turned into note events for each instrument,
 * with seeded variation (progression choice, arpeggio patterns, fills, humanised velocities), an
 * intro that builds and an ending that thins out.
 */
import { createRandom, deriveSeed, type Random } from '../../../lib/random.js';
import { type MoodParameters, triad } from './moods.js';
import type { Instrument, NoteEvent } from './voices.js';

export interface Arrangement {
  events: NoteEvent[];
  progression: number[];
  barSamples: number;
}

const ARP_PATTERNS = [
  [0, 1, 2, 3],
  [0, 2, 1, 3],
  [3, 2, 1, 0],
  [0, 1, 2, 1],
  [0, 2, 3, 2],
];

export function arrange(params: MoodParameters, totalSamples: number, sampleRate: number, seed: number): Arrangement {
  const random = createRandom(deriveSeed(seed, 'music', params.mood));
  const beat = Math.round((60 / params.tempoBpm) * sampleRate);
  const barSamples = beat * 4;
  const bars = Math.ceil(totalSamples / barSamples) + 1;
  const progression = random.pick(params.progressions);
  const arpPattern = random.pick(ARP_PATTERNS);
  const arpOctave = random.pick([24, 36]);
  // Short beds start full; longer ones build over the first bars.
  const short = bars <= 3;
  const enter = { bass: short ? 0 : 1, arp: short ? 0 : 1, drums: short ? 0 : 2 };
  const events: NoteEvent[] = [];
  // Drum hits cycle through a few noise variants, like a sampled kit; tonal notes need no noise.
  const variants = new Map<Instrument, number>();
  const add = (instrument: Instrument, start: number, length: number, midi: number, velocity: number, pan = 0): void => {
    if (start >= totalSamples) return;
    const variant = variants.get(instrument) ?? 0;
    variants.set(instrument, (variant + 1) % 4);
    const noisy = instrument === 'snare' || instrument === 'clap' || instrument === 'hat' || instrument === 'tom';
    // Whole samples: a fractional length would make a waveform one sample shorter than its loop.
    events.push({ instrument, start: Math.round(start), length: Math.round(length), midi, velocity: velocity * humanise(random), pan, seed: noisy ? deriveSeed(seed, 'kit', instrument, variant) : 0 });
  };

  for (let bar = 0; bar < bars; bar++) {
    const at = bar * barSamples;
    const degree = progression[bar % progression.length] as number;
    const chord = triad(params, degree, params.tonic + 12);
    const last = bar === bars - 1;

    for (const [i, note] of chord.entries()) add('pad', at, barSamples, note, params.pad.level, (i - 1) * 0.5);

    if (bar >= enter.bass) {
      const root = triad(params, degree)[0] as number;
      if (params.bass.style === 'sustained') add('bass', at, barSamples - beat / 8, root, params.bass.level);
      else {
        const step = params.bass.style === 'pulse' ? beat / 2 : beat;
        for (let k = 0; k < barSamples / step; k++) {
          const octave = params.bass.style === 'staccato' && k % 2 === 1 ? 12 : 0;
          add('bass', at + k * step, Math.round(step * 0.8), root + octave, params.bass.level);
        }
      }
    }

    if (params.arp.style !== 'none' && bar >= enter.arp && !last) {
      const notes = [...triad(params, degree, params.tonic + arpOctave), (triad(params, degree, params.tonic + arpOctave)[0] as number) + 12];
      const perBar = { none: 0, slow: 4, eighths: 8, sixteenths: 16, bounce: 8 }[params.arp.style];
      const step = barSamples / perBar;
      for (let k = 0; k < perBar; k++) {
        if (params.arp.style === 'bounce' && k % 4 === 3) continue;
        const note = notes[arpPattern[k % arpPattern.length] as number] as number;
        const pan = k % 2 === 0 ? -0.3 : 0.3;
        const start = Math.round(at + k * step);
        add('pluck', start, Math.round(step), note, params.arp.level, pan);
        // A quiet echo a dotted eighth later, on the other side: space without a reverb state.
        add('pluck', start + Math.round(beat * 0.75), Math.round(step), note, params.arp.level * 0.3, -pan);
      }
    }

    if (params.drums.style !== 'none' && bar >= enter.drums && !last) drumBar(params, at, beat, bar, add);
  }
  events.sort((a, b) => a.start - b.start);
  return { events, progression, barSamples };
}

type Add = (instrument: Instrument, start: number, length: number, midi: number, velocity: number, pan?: number) => void;

function drumBar(params: MoodParameters, at: number, beat: number, bar: number, add: Add): void {
  const level = params.drums.level;
  const hit = (instrument: Instrument, beats: number, velocity: number, pan = 0): void =>
    add(instrument, Math.round(at + beats * beat), beat / 4, 60, level * velocity, pan);
  const fill = bar % 8 === 7;
  switch (params.drums.style) {
    case 'four':
      for (let b = 0; b < 4; b++) hit('kick', b, 1);
      hit('clap', 1, 0.5);
      hit('clap', 3, 0.5);
      for (let b = 0; b < 4; b++) hit('hat', b + 0.5, 0.35, 0.2);
      break;
    case 'soft':
      hit('kick', 0, 0.8);
      hit('kick', 2.5, 0.6);
      hit('snare', 1, 0.25);
      hit('snare', 3, 0.25);
      for (let b = 0; b < 8; b++) hit('hat', b / 2, b % 2 ? 0.18 : 0.28, 0.2);
      break;
    case 'halftime':
      hit('kick', 0, 0.9);
      hit('kick', 1.5, 0.6);
      hit('clap', 2, 0.55);
      for (let b = 0; b < 8; b++) hit('hat', b / 2, 0.25, 0.25);
      break;
    case 'toms':
      hit('kick', 0, 1);
      hit('tom', 0, 0.7, -0.2);
      hit('tom', 1.5, 0.5, 0.2);
      hit('tom', 2, 0.6, -0.2);
      if (bar % 2 === 1) hit('snare', 3, 0.5);
      break;
    case 'pulse':
      for (let b = 0; b < 4; b++) hit('kick', b, 0.55);
      for (let b = 0; b < 16; b++) hit('hat', b / 4, b % 4 === 2 ? 0.25 : 0.12, 0.3);
      break;
    case 'none':
      return;
  }
  if (fill && params.drums.style !== 'pulse') {
    for (let k = 0; k < 4; k++) hit('snare', 3 + k / 4, 0.25 + k * 0.12);
  }
}

function humanise(random: Random): number {
  return 0.9 + random.next() * 0.2;
}
