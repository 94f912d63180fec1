/** Gradient palettes per mood, for scenes that do not bring their own visual. */
import type { Mood } from '../../contract/brief.js';
import type { Random } from '../../lib/random.js';

const PALETTES: Record<Mood, [string, string][]> = {
  uplifting: [['#f59e0b', '#db2777'], ['#0ea5e9', '#22c55e'], ['#f97316', '#facc15'], ['#6366f1', '#ec4899']],
  calm: [['#0f766e', '#1e3a8a'], ['#164e63', '#4d7c0f'], ['#334155', '#0e7490'], ['#1e293b', '#3f6212']],
  dramatic: [['#0f172a', '#7f1d1d'], ['#111827', '#4c1d95'], ['#1c1917', '#9a3412'], ['#020617', '#1e3a8a']],
  corporate: [['#1e3a8a', '#0ea5e9'], ['#0f172a', '#2563eb'], ['#1e40af', '#14b8a6'], ['#111827', '#4f46e5']],
  playful: [['#db2777', '#f59e0b'], ['#7c3aed', '#f472b6'], ['#06b6d4', '#a3e635'], ['#f43f5e', '#8b5cf6']],
  tense: [['#020617', '#7f1d1d'], ['#111827', '#374151'], ['#0c0a09', '#581c87'], ['#1f2937', '#991b1b']],
};

/** A gradient for a scene: brand colours when given, else the mood's palette varied by the seed. */
export function sceneGradient(mood: Mood, random: Random, brand?: { primary?: string; secondary?: string }): string[] {
  if (brand?.primary && brand.secondary) return random.next() < 0.5 ? [brand.primary, brand.secondary] : [brand.secondary, brand.primary];
  if (brand?.primary) return [brand.primary, '#0f172a'];
  return [...random.pick(PALETTES[mood])];
}
