/** The standard benchmark briefs: fixed text, seed and options, so runs compare like with like. */

const SENTENCES = [
  'Meet Solaris, the backpack that runs on sunshine.',
  'Its flexible solar panel charges your phone while you walk the trail.',
  'The shell shrugs off heavy rain, and the whole pack weighs under a kilogram.',
  'Hidden pockets keep your passport and cards safe in crowded stations.',
  'Solaris. Power for the places without plugs. Order yours today.',
];

/** 30 s, 5 scenes, 1080p30, narration, music, effects, burned captions. */
export function standardBrief(): Record<string, unknown> {
  return {
    title: 'Solaris',
    scenes: SENTENCES.map((narration, i) => ({
      narration,
      title: i === 0 ? 'Solaris' : undefined,
      durationSec: 6,
      visual: { type: 'gradient', colors: i % 2 ? ['#0f172a', '#1d4ed8'] : ['#7c2d12', '#f59e0b'] },
      sfx: i > 0 ? ['whoosh'] : ['swell'],
    })),
    aspectRatio: '16:9',
    resolution: '1080p',
    fps: 30,
    music: { mood: 'uplifting' },
    captions: { burnIn: true, style: 'bold' },
    seed: 1,
  };
}

/** A long brief: `minutes` of narrated scenes at 480p, for memory measurements. */
export function longBrief(minutes: number): Record<string, unknown> {
  const scenes = Array.from({ length: Math.round((minutes * 60) / 10) }, (_, i) => ({
    narration: SENTENCES[i % SENTENCES.length],
    durationSec: 10,
    visual: { type: 'gradient', colors: ['#0f172a', i % 2 ? '#1d4ed8' : '#9333ea'] },
  }));
  return { title: 'Long', scenes, resolution: '480p', fps: 24, music: { mood: 'calm' }, seed: 1 };
}
