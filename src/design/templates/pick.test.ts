/** The planner's choice of template for a prompt: keywords scored, deterministic, none when unclear. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseBrief, resolveBrief } from '../../contract/resolve.js';
import { expandBriefTemplate, lookTemplate } from './merge.js';
import { pickTemplate, promptWords } from './pick.js';
import { getTemplate } from './registry.js';
import { lookNote } from '../../pipeline/stages/plan.stage.js';

test('prompts pick the template their words call for', () => {
  assert.equal(pickTemplate('launch our new app')?.name, 'product-launch');
  assert.ok(['top-list', 'tutorial-steps'].includes(pickTemplate('5 tips for better sleep')?.name ?? ''), pickTemplate('5 tips for better sleep')?.name);
  assert.equal(pickTemplate('breaking: city council votes')?.name, 'news-update');
  assert.equal(pickTemplate('How to repot a houseplant, step by step')?.name, 'tutorial-steps');
  assert.equal(pickTemplate('Why does the sky look blue? The science explained')?.name, 'explainer');
  assert.equal(pickTemplate('A customer review of our bakery: Ana says it changed her mornings')?.name, 'testimonial');
  assert.equal(pickTemplate('Join us at the jazz festival, tickets on sale')?.name, 'event-promo');
  assert.equal(pickTemplate("You're brewing coffee wrong: the secret hack nobody tells you")?.name, 'social-hook');
  // The matched words travel with the choice, for the note that explains it.
  assert.deepEqual(pickTemplate('breaking: city council votes')?.words, ['breaking', 'council', 'vote', 'city']);
});

test('nothing is picked for gibberish, for one weak hint or for a tie', () => {
  assert.equal(pickTemplate('xqzt blorp frindle vusk'), undefined);
  assert.equal(pickTemplate('a calm evening by the lake'), undefined);
  // A description word alone ("benefit") is a hint, not a match.
  assert.equal(pickTemplate('the benefit of it'), undefined);
  // "launch" (product-launch) against "festival" (event-promo): equally strong, so neither.
  assert.equal(pickTemplate('launch festival'), undefined);
});

test('the choice is deterministic and words are matched without plural endings', () => {
  const prompt = 'Top 10 reasons to visit Lisbon';
  assert.deepEqual(pickTemplate(prompt), pickTemplate(prompt));
  assert.deepEqual(promptWords("Votes, tips and the mayor's news"), ['vote', 'tip', 'and', 'the', 'mayor', 'news']);
});

test('a prompt brief with no template and no design takes the picked template\'s look, not its scenes', () => {
  const brief = expandBriefTemplate(parseBrief({ prompt: 'Breaking news: the city council votes to close the old bridge', aspectRatio: '9:16' }));
  const news = getTemplate('news-update');
  assert.equal(brief.prompt, 'Breaking news: the city council votes to close the old bridge', 'still a prompt: the planner writes the scenes');
  assert.equal(brief.scenes, undefined);
  assert.deepEqual(brief.design, {
    template: 'news-update',
    motion: news.motion.style,
    textAnimation: news.motion.textAnimation,
    titlePosition: news.ratios['9:16'].titlePosition,
    palette: news.palette,
    background: news.background,
  });
  assert.equal(brief.transition, news.transitions[0]);
  assert.deepEqual(brief.captions, { style: news.captionStyle });
  assert.deepEqual(brief.music, { mood: news.music.mood });
  assert.equal(resolveBrief(brief).design.template, 'news-update');
  // Expanding again changes nothing (the API validates, then the worker expands the stored brief).
  assert.deepEqual(expandBriefTemplate(brief), brief);
});

test('the brief\'s own options win over a picked look; a design, a script or another language picks nothing', () => {
  const own = expandBriefTemplate(parseBrief({ prompt: 'launch our new app', music: { mood: 'calm' }, captions: { style: 'minimal' }, transition: 'dissolve', brand: { colors: { primary: '#123456' } } }));
  assert.equal(own.design?.template, 'product-launch');
  assert.deepEqual(own.music, { mood: 'calm' }, 'the brief\'s mood, without the template\'s music style');
  assert.deepEqual(own.captions, { style: 'minimal' });
  assert.equal(own.transition, 'dissolve');
  assert.equal(own.design?.palette?.primary, '#123456');
  assert.equal(lookTemplate(parseBrief({ prompt: 'launch our new app', design: { motion: 'calm' } })), undefined);
  assert.equal(lookTemplate(parseBrief({ script: 'Launch our new app today.' })), undefined);
  assert.equal(lookTemplate(parseBrief({ prompt: 'launch our new app', language: 'fr' })), undefined);
  assert.equal(lookTemplate(parseBrief({ prompt: 'xqzt blorp frindle' })), undefined);
  assert.deepEqual(expandBriefTemplate(parseBrief({ prompt: 'xqzt blorp frindle' })), parseBrief({ prompt: 'xqzt blorp frindle' }));
  // design.template asks for a look by name, with any source; the design's own fields win.
  const named = expandBriefTemplate(parseBrief({ script: 'Hello there.', design: { template: 'social-hook', motion: 'calm' } }));
  assert.equal(named.design?.motion, 'calm');
  assert.equal(named.design?.background, getTemplate('social-hook').background);
  assert.deepEqual(named.captions, { style: 'word' });
});

test('the storyboard\'s note names the look and, for a prompt, the words that call for it', () => {
  const picked = resolveBrief(expandBriefTemplate(parseBrief({ prompt: 'Launch our new app' })));
  assert.equal(lookNote(picked), 'look: the "product-launch" template\'s (palette, motion, transitions, captions, music); the prompt\'s words call for it: launch, new, app');
  const named = resolveBrief(expandBriefTemplate(parseBrief({ script: 'Hello there.', design: { template: 'explainer' } })));
  assert.equal(lookNote(named), 'look: the "explainer" template\'s (palette, motion, transitions, captions, music)');
  assert.equal(lookNote(resolveBrief(parseBrief({ prompt: 'xqzt blorp frindle' }))), undefined);
});
