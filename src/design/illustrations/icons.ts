/**
 * Icons chosen from a scene's words. The set is Tabler Icons (MIT licence, @tabler/icons): about
 * 5,500 line icons, each with a name, a category and tags. The index is built once, on first use,
 * from the package's icons.json; a scene's keywords, title and narration are matched against it
 * with light stemming ("launches" finds "launch"), and ties are broken by the seed so a render is
 * repeatable.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createRandom } from '../../lib/random.js';

interface IconEntry {
  name: string;
  category: string;
  tags: string[];
  styles: Record<string, unknown>;
}

interface IconIndex {
  names: Set<string>;
  /** Stem → icons that have it, with the weight of where it was found (name, tag, category). */
  byStem: Map<string, Map<string, number>>;
  /** How many tokens each icon's name has: a short name is a general icon ("rocket" over "rocket-off"). */
  nameParts: Map<string, number>;
}

/** Where the matched word sits in the icon's entry: its name counts most, its category least. */
const WEIGHT = { name: 3, tag: 2, category: 1 } as const;

/**
 * Icons that say "not" or are a company's mark: never picked from words (a scene about "music"
 * should not get "music-off" or a brand logo), though a scene may still name one.
 */
const EXCLUDED_SUFFIXES = ['-off', '-x', '-minus', '-cancel', '-exclamation', '-question', '-pause', '-share', '-search', '-cog', '-heart', '-star', '-bolt', '-code', '-pin', '-plus', '-check'];
const EXCLUDED_CATEGORIES = new Set(['Brand', 'Letters', 'Numbers', 'Zodiac', 'Laundry', 'Extensions']);

/** Words that say nothing about what a scene shows. */
const STOPWORDS = new Set(
  (
    'a an the and or but if of to in on at by for with from into onto over under as is are was were be been being it its this that these those ' +
    'we you they he she i me my our your their his her them us do does did done have has had not no yes so than then there here what which who ' +
    'when where why how all any each every more most less very just also can will would should could may might must get got make made new now ' +
    'one two three first next last up down out about after before again only own same too our let lets let\'s today every day days time way ' +
    'save week weeks month months year years come comes go goes going went see look thing things really great good best ' +
    'le la les un une des du de et ou en au aux est sont pour par sur avec dans ce cette ces il elle nous vous ils der die das und ein eine ist ' +
    'el los las y es por con para'
  ).split(/\s+/),
);

let cached: IconIndex | undefined;

/** The directory of @tabler/icons (its icons.json and icons/ folders). */
export function iconPackageDir(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve('@tabler/icons/icons.json'));
}

/**
 * Light stemming for English and the Romance languages' plurals: enough that "launches",
 * "launched" and "launching" meet "launch", and "prices" meets "price". Words of four letters or
 * fewer are left alone ("bus", "news").
 */
export function stem(word: string): string {
  let w = word.toLowerCase();
  if (w.length <= 4) return w;
  for (const [suffix, keep] of [['ies', 'y'], ['ing', ''], ['ed', ''], ['es', ''], ['s', '']] as const) {
    if (w.endsWith(suffix) && w.length - suffix.length >= 3) {
      w = w.slice(0, -suffix.length) + keep;
      break;
    }
  }
  // "launche" (launches minus s) and "pric" (priced minus ed) meet "launch" and "price" once a final e is dropped on both sides.
  return w.endsWith('e') && w.length > 4 ? w.slice(0, -1) : w;
}

/** The words of a text, lower-cased, without stopwords or numbers. */
export function words(text: string): string[] {
  return (text.toLowerCase().normalize('NFKD').replace(/[\u0300-\u036f]/g, '').match(/[a-z]+/g) ?? []).filter((w) => w.length >= 2 && !STOPWORDS.has(w));
}

function loadIndex(): IconIndex {
  if (cached) return cached;
  const entries = JSON.parse(readFileSync(join(iconPackageDir(), 'icons.json'), 'utf8')) as Record<string, IconEntry>;
  const byStem = new Map<string, Map<string, number>>();
  const nameParts = new Map<string, number>();
  const names = new Set<string>();
  const add = (token: string, name: string, weight: number): void => {
    for (const w of words(token.replace(/-/g, ' '))) {
      const s = stem(w);
      let icons = byStem.get(s);
      if (!icons) byStem.set(s, (icons = new Map()));
      icons.set(name, Math.max(icons.get(name) ?? 0, weight));
    }
  };
  for (const entry of Object.values(entries)) {
    names.add(entry.name);
    if (EXCLUDED_CATEGORIES.has(entry.category) || EXCLUDED_SUFFIXES.some((s) => entry.name.endsWith(s)) || /\d/.test(entry.name)) continue;
    nameParts.set(entry.name, entry.name.split('-').length);
    add(entry.name, entry.name, WEIGHT.name);
    for (const tag of entry.tags) add(String(tag), entry.name, WEIGHT.tag);
    add(entry.category, entry.name, WEIGHT.category);
  }
  cached = { names, byStem, nameParts };
  return cached;
}

/** Whether the icon set has an icon of this name (outline style). */
export function iconExists(name: string): boolean {
  return loadIndex().names.has(name);
}

export interface IconWords {
  keywords?: readonly string[];
  title?: string;
  narration?: string;
}

/** How much a word counts by where the scene says it: a keyword names the subject, narration only mentions it. */
const SOURCE_WEIGHT = { keywords: 3, title: 2, narration: 1 } as const;
/** The least score an icon needs to be drawn: more than one narration word on one icon's tags. */
const MIN_SCORE = 2.5;

/**
 * The icon that best fits a scene's words, or undefined when none matches well enough. Each word
 * adds the weight of its place in the scene times the weight of its place in the icon; an icon
 * with fewer name parts wins a tie (the general icon), then the seed picks among equals.
 */
export function chooseIcon(scene: IconWords, seed: number): string | undefined {
  const index = loadIndex();
  // Per stem: the strongest place the scene says it, and how often it does (a word the title and
  // the narration both say is more the subject than one said once).
  const said = new Map<string, { weight: number; times: number }>();
  const sources: [keyof typeof SOURCE_WEIGHT, string][] = [
    ...(scene.keywords ?? []).map((k): [keyof typeof SOURCE_WEIGHT, string] => ['keywords', k]),
    ['title', scene.title ?? ''],
    ['narration', scene.narration ?? ''],
  ];
  for (const [source, text] of sources) {
    for (const word of words(text)) {
      const s = stem(word);
      const before = said.get(s);
      said.set(s, { weight: Math.max(before?.weight ?? 0, SOURCE_WEIGHT[source]), times: (before?.times ?? 0) + 1 });
    }
  }
  const sums = new Map<string, { sum: number; matched: number }>();
  for (const [s, { weight, times }] of said) {
    const icons = index.byStem.get(s);
    if (!icons) continue;
    // A word found on a few icons is telling ("rocket"), one found on hundreds ("save", "data") less so.
    const rarity = 1 / (1 + Math.log10(icons.size));
    const mentions = 1 + 0.25 * Math.min(3, times - 1);
    for (const [name, where] of icons) {
      const before = sums.get(name) ?? { sum: 0, matched: 0 };
      sums.set(name, { sum: before.sum + weight * where * rarity * mentions, matched: before.matched + 1 });
    }
  }
  // An icon several of the scene's words agree on ("price" and "money": a coin) beats one that a
  // single word happens to tag ("fair": a circus tent).
  const scores = new Map([...sums].map(([name, { sum, matched }]) => [name, sum * matched] as const));
  let best = 0;
  for (const score of scores.values()) best = Math.max(best, score);
  // One narration word found only among the tags of many icons is too weak to illustrate a scene.
  if (best < MIN_SCORE) return undefined;
  // Scores within 2 % of the best are equals: the general icon, then the seed, decides among them.
  const top = [...scores.entries()].filter(([, score]) => score >= best * 0.98).map(([name]) => name);
  const fewest = Math.min(...top.map((name) => index.nameParts.get(name) ?? 9));
  const general = top.filter((name) => (index.nameParts.get(name) ?? 9) === fewest).sort();
  return createRandom(seed).pick(general);
}

export interface IconStyle {
  /** "#rrggbb" */
  color: string;
  /** Stroke width in the icon's 24-unit grid (Tabler draws at 2; thinner reads better large). */
  strokeWidth: number;
  /** Pixels of the square image. */
  sizePx: number;
}

/** The outline SVG of an icon, coloured and sized. */
export function iconSvg(name: string, style: IconStyle): string {
  if (!/^[a-z0-9-]+$/.test(name)) throw new Error(`not an icon name: ${name}`);
  const svg = readFileSync(join(iconPackageDir(), 'icons', 'outline', `${name}.svg`), 'utf8');
  return svg
    .replace(/width="24"/, `width="${style.sizePx}"`)
    .replace(/height="24"/, `height="${style.sizePx}"`)
    .replace(/stroke="currentColor"/g, `stroke="${style.color}"`)
    .replace(/stroke-width="2"/, `stroke-width="${style.strokeWidth}"`);
}
