/**
 * Prompt → narration. The prompt's own facts (the product's name, what it is, what it does) are
 * pulled out with a few patterns and poured into seeded templates for a hook, an introduction,
 * one scene per claim and a close, so every scene says something from the prompt.
 */
import type { Random } from '../../lib/random.js';

export type Style = 'ad' | 'explainer' | 'tutorial' | 'announcement' | 'teaser';

export interface PromptFacts {
  style: Style;
  durationSec?: number;
  /** A proper name ("Solaris"), when the prompt gives one. */
  name?: string;
  /** What it is, with its article ("a solar-powered backpack"). */
  descriptor: string;
  /** Verb phrases ("charges your phone") or, after "with", features ("live music"). */
  claims: string[];
  claimKind: 'verbs' | 'features';
  /** A question-like topic ("how heat pumps work") rather than a thing. */
  topic?: string;
}

const STYLE_WORDS: [Style, RegExp][] = [
  ['tutorial', /\b(tutorial|how[- ]to|guide|step[- ]by[- ]step)\b/i],
  ['explainer', /\b(explainer|explain\w*|how .* works|introduction to)\b/i],
  ['teaser', /\b(teaser|trailer|sneak peek)\b/i],
  ['announcement', /\b(announc\w*|launch\w*|unveil\w*|introducing)\b/i],
  ['ad', /\b(ad|advert\w*|commercial|promo\w*|spot)\b/i],
];

const FORMAT = String.raw`(?:ad|advert|advertisement|commercial|promo|video|explainer|teaser|trailer|announcement|tutorial|spot|clip|film|reel|story)`;

export function parsePrompt(prompt: string): PromptFacts {
  const text = prompt.trim().replace(/[.!]+$/, '');
  const seconds = /(\d+(?:\.\d+)?)\s*-?\s*(?:seconds?|secs?|s)\b/i.exec(text);
  const minutes = /\b(\d+(?:\.\d+)?|one|a)\s*-?\s*minutes?\b/i.exec(text);
  const durationSec = seconds ? Number(seconds[1]) : minutes ? (Number(minutes[1]) || 1) * 60 : undefined;
  let style = STYLE_WORDS.find(([, re]) => re.test(text))?.[0];

  const about = new RegExp(String.raw`^.*?\b${FORMAT}\s+(?:for|about|on|of|introducing)\s+(.+)$`, 'i').exec(text);
  const subject = (about?.[1] ?? text.replace(/^(?:an?|the)\s+/i, '')).trim();
  if (/^(how|why|what|when|where|who)\b/i.test(subject)) {
    // The topic is quoted mid-sentence ("Ever wondered how heat pumps work?"): no capital.
    const topic = subject.replace(/^\p{Lu}(?=\p{Ll})/u, (c) => c.toLowerCase());
    return { style: style === 'tutorial' ? 'tutorial' : 'explainer', durationSec, descriptor: topic, claims: [], claimKind: 'verbs', topic };
  }
  const named = /^((?:[\p{Lu}\d][\p{L}\d'&.-]*)(?:\s+[\p{Lu}\d][\p{L}\d'&.-]*)*),\s+(.+)$/u.exec(subject);
  const name = named?.[1];
  const rest = named?.[2] ?? subject;
  const split = /^(.*?)\s+(that|which|who|with|to)\s+(.+)$/i.exec(rest);
  const descriptor = withArticle((split?.[1] ?? rest).trim());
  const claimKind = split?.[2]?.toLowerCase() === 'with' ? 'features' : 'verbs';
  const claims = (split?.[3] ?? '')
    .split(/,\s*(?:and\s+)?|\s+and\s+/i)
    .map((c) => c.trim())
    .filter((c) => c.length > 0);
  // A plain "video about X" with nothing to sell reads better as an explainer than as an ad.
  style ??= !name && claims.length === 0 ? 'explainer' : 'ad';
  return { style, durationSec, name, descriptor, claims, claimKind };
}

function withArticle(phrase: string): string {
  if (/^(a|an|the|your|our|my)\s/i.test(phrase)) return phrase;
  return `${/^[aeiou]/i.test(phrase) ? 'an' : 'a'} ${phrase}`;
}

/** "a solar-powered backpack" → "solar-powered backpack". */
export function bare(descriptor: string): string {
  return descriptor.replace(/^(a|an|the|your|our|my)\s+/i, '');
}

const cap = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

export function titleCase(s: string): string {
  return s
    .split(' ')
    .map((w) => (w.length > 3 || w === s.split(' ')[0] ? cap(w) : w))
    .join(' ');
}

export interface DraftScene {
  narration: string;
  title?: string;
}

/** The scenes of a prompt, `count` of them (4–8), from the facts and the seed. */
export function draftScenes(facts: PromptFacts, count: number, random: Random): DraftScene[] {
  if (facts.topic) return topicScenes(facts.topic, count);
  const thing = bare(facts.descriptor);
  const core = thing.split(' ').pop() ?? thing;
  const Name = facts.name ?? `The ${thing}`;
  const name = facts.name ?? `the ${thing}`;
  const claims = facts.claims;
  const explain = facts.style === 'explainer' || facts.style === 'tutorial';

  const hook: DraftScene = explain
    ? { narration: random.pick([`Ever wondered how ${name} works?`, `Here is ${name}, explained in under a minute.`]) }
    : facts.claimKind === 'verbs' && claims[0]
      ? { narration: random.pick([`Imagine a ${core} that ${claims[0]}.`, `What if your ${core} could do more?`]) }
      : { narration: random.pick([`Picture this: ${facts.descriptor} like no other.`, `Looking for ${facts.descriptor}?`]) };

  const introduce = explain && !facts.name;
  const intro: DraftScene = {
    narration: introduce
      ? `Let us take a closer look at ${name}.`
      :
      facts.style === 'announcement'
        ? `Introducing ${facts.name ? `${facts.name}, ` : ''}${facts.descriptor}.`
        : facts.style === 'teaser'
          ? `${Name} is almost here.`
          : explain
            ? `${Name} is ${facts.descriptor}.`
            : `Meet ${facts.name ? `${facts.name}, ` : ''}${facts.descriptor}.`,
    title: facts.name ?? titleCase(thing),
  };

  const steps = ['First', 'Next', 'Then', 'On top of that', 'Finally'];
  // More claims than middle scenes: the last middle scene lists the rest.
  const slots = Math.max(1, count - 3);
  const grouped = claims.length > slots ? [...claims.slice(0, slots - 1), listOf(claims.slice(slots - 1))] : claims;
  const claimScenes: DraftScene[] = grouped.map((claim, i) => {
    const title = shortTitle(claim);
    if (facts.claimKind === 'features') {
      return { narration: cap(random.pick([`Expect ${claim}.`, `There is ${claim}.`, `Enjoy ${claim}.`])), title };
    }
    if (explain) return { narration: `${steps[Math.min(i, steps.length - 1)]}, it ${claim}.`, title };
    const subject = i === 0 ? Name : random.pick(['It', `${Name}`, 'And it']);
    const tail = random.pick(['', '', ', so you can focus on what matters', ', every single day']);
    return { narration: `${subject} ${claim}${tail}.`, title };
  });

  const extras: DraftScene[] = claims.length
    ? [
        { narration: `Every detail of ${name} is designed around the way you live.` },
        { narration: `People who try ${name} do not go back.` },
        { narration: `${Name} is built to last, season after season.` },
      ]
    : [
        { narration: `${cap(name)} matters more than most people think.` },
        { narration: `Here is what makes ${name} special.` },
        { narration: `There is always more to learn about ${name}.` },
        { narration: `${Name} is worth a second look.` },
      ];

  const close: DraftScene = {
    narration:
      facts.style === 'teaser'
        ? `${Name}. Coming soon.`
        : explain
          ? `That is ${name} in a nutshell. Now you know.`
          : facts.claimKind === 'features'
            ? `${Name}. See you there.`
            : `${Name}. ${random.pick(['Find yours today.', 'Order yours today.', 'Try it today.'])}`,
    title: facts.name ?? titleCase(thing),
  };

  // Keep the hook, intro and close; fill the middle with claims, then extras, up to `count`.
  const middle = [...claimScenes, ...extras].slice(0, Math.max(1, count - 3));
  const scenes = [hook, intro, ...middle, close];
  return scenes.slice(0, Math.max(count, 4));
}

function listOf(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

const WEAK_END = /^(a|an|the|and|or|of|on|in|to|for|with|your|my|our|at|by)$/i;

/** Up to three words of a claim, not ending on an article or preposition. */
function shortTitle(claim: string): string {
  const words = claim.split(' ').slice(0, 3);
  while (words.length > 1 && WEAK_END.test(words[words.length - 1] ?? '')) words.pop();
  return titleCase(words.join(' '));
}

/** Scenes for a question-like topic ("how heat pumps work"), built around its key words. */
function topicScenes(topic: string, count: number): DraftScene[] {
  const words = topic.split(/\s+/).filter((w) => w.length > 3 && !/^(how|why|what|when|where|with|from|into|that|this|your|their)$/i.test(w));
  const focus = words.slice(0, Math.max(1, count - 3));
  return [
    { narration: `Ever wondered ${topic}?` },
    { narration: 'Let us break it down, one step at a time.', title: titleCase(topic) },
    ...focus.map((w, i) => ({ narration: `${['First', 'Next', 'Then', 'After that', 'Finally'][Math.min(i, 4)]}, think about the ${w.toLowerCase()}.`, title: titleCase(w) })),
    { narration: `And that is ${topic}. Now you know.`, title: titleCase(topic) },
  ].slice(0, Math.max(4, count));
}
