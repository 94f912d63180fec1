/**
 * Word tables of the rule-based planner: stop-words, keyword → mood and keyword → effect, and
 * keyword extraction for scenes.
 */
import type { Mood, SfxKind } from '../../contract/brief.js';

const STOPWORDS = new Set(
  ('a an the and or but if then so of to in on at by for with from into onto over under about as is are was were be been being ' +
    'it its this that these those there here you your yours we our ours they their them he she his her i me my mine ' +
    'do does did done have has had will would can could should may might must not no yes very just also more most ' +
    'what which who whom whose when where why how all any each every some such only own same than too up down out off ' +
    'again once while during before after above below between through because until against s t don now get got make')
    .split(' '),
);

/** Content words in order of frequency, then first appearance. */
export function extractKeywords(text: string, max = 6): string[] {
  const words = text.toLowerCase().match(/[\p{L}][\p{L}\p{N}'-]*/gu) ?? [];
  const counts = new Map<string, number>();
  for (const w of words) {
    if (w.length < 3 || STOPWORDS.has(w)) continue;
    counts.set(w, (counts.get(w) ?? 0) + 1);
  }
  return [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, max).map(([w]) => w);
}

const MOOD_WORDS: Record<Mood, string[]> = {
  uplifting: ['hope', 'bright', 'joy', 'happy', 'inspire', 'dream', 'sun', 'sunshine', 'solar', 'adventure', 'freedom', 'together', 'celebrate', 'launch', 'future', 'win'],
  calm: ['calm', 'relax', 'peace', 'quiet', 'gentle', 'nature', 'forest', 'ocean', 'sleep', 'meditation', 'slow', 'soft', 'garden', 'compost', 'tea', 'breathe'],
  dramatic: ['epic', 'power', 'powerful', 'legend', 'battle', 'rise', 'storm', 'hero', 'history', 'war', 'fate', 'reveal', 'mountain', 'ancient', 'dark'],
  corporate: ['business', 'company', 'team', 'product', 'service', 'customer', 'solution', 'platform', 'enterprise', 'growth', 'data', 'software', 'finance', 'office', 'professional'],
  playful: ['fun', 'play', 'kids', 'game', 'party', 'festival', 'food', 'pizza', 'candy', 'silly', 'music', 'dance', 'friends', 'snack', 'market'],
  tense: ['danger', 'threat', 'risk', 'fear', 'crime', 'mystery', 'secret', 'warning', 'urgent', 'hack', 'attack', 'deadline', 'crisis', 'suspense'],
};

/** The mood whose words occur most; ties and no match go to the fallback. */
export function moodFromText(text: string, fallback: Mood): Mood {
  const words = new Set(text.toLowerCase().match(/[\p{L}]+/gu) ?? []);
  let best: Mood = fallback;
  let bestScore = 0;
  let tied = false;
  for (const [mood, list] of Object.entries(MOOD_WORDS) as [Mood, string[]][]) {
    const score = list.filter((w) => words.has(w)).length;
    if (score > bestScore) {
      best = mood;
      bestScore = score;
      tied = false;
    } else if (score === bestScore && score > 0 && mood !== best) {
      tied = true;
    }
  }
  return tied ? fallback : best;
}

const SFX_WORDS: [SfxKind, RegExp][] = [
  ['riser', /\b(launch\w*|rocket\w*|rise|rising|lift\w*|countdown)\b/i],
  ['impact', /\b(power\w*|boom|impact|strong\w*|hit|smash\w*|unstoppable)\b/i],
  ['click', /\b(click\w*|tap\w*|app|apps|button\w*|download\w*|order\w*|sign up)\b/i],
  ['chime', /\b(new|discover\w*|magic\w*|idea\w*|introduc\w*|meet)\b/i],
  ['pop', /\b(fun|pop\w*|bubble\w*|party|snack\w*|pizza)\b/i],
  ['ambience', /\b(calm|nature|forest|ocean|sea|rain|garden|city|street|market)\b/i],
  ['swell', /\b(epic|grand|reveal\w*|finally|imagine|dream\w*)\b/i],
];

/** Effect cues for a scene: a transition whoosh after the first scene, then up to one keyword cue. */
export function sceneEffects(narration: string, index: number): SfxKind[] {
  const cues: SfxKind[] = index > 0 ? ['whoosh'] : [];
  const match = SFX_WORDS.find(([, re]) => re.test(narration));
  if (match) cues.push(match[0]);
  return cues.slice(0, 2);
}

export function isEnglish(language: string): boolean {
  return language.toLowerCase() === 'en' || language.toLowerCase().startsWith('en-');
}
