/**
 * What every ScriptWriter (the plan port) must do, whoever writes the storyboard: the offline
 * rule-based writer and each language-model adapter on its fake vendor run these same tests.
 *
 * - the storyboard passes storyboardSchema, scene ids are unique (`s1`, `s2` …), the language is the brief's;
 * - a script brief in the brief's language keeps the user's words; a scenes brief keeps the user's
 *   narration, titles and pictures (no picture prompt on a scene with its own visual);
 * - a script in another language is translated with a note (writers that can translate);
 * - a cancelled render is `aborted`; failures are AppErrors with project codes (provider_* for vendors).
 *
 * @example
 *   scriptWriterConformance('openai', async () => ({ writer, translates: true, hang: () => fake.fail('hang'), failures: [...] }));
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError, type ErrorCode } from '../../src/contract/errors.js';
import { parseBrief, resolveBrief, type ResolvedBrief } from '../../src/contract/resolve.js';
import { storyboardSchema, type Storyboard } from '../../src/contract/storyboard.js';
import type { ScriptWriter } from '../../src/providers/script/script.port.js';

export interface ScriptWriterUnderTest {
  writer: ScriptWriter;
  /** Whether the writer translates a script written in another language (cloud planners do). */
  translates: boolean;
  /** Makes the next vendor call never answer (cloud writers). */
  hang?: () => void;
  /** Vendor failures to act out, each with the code it must come out as. */
  failures?: { name: string; arrange: () => void; code: ErrorCode }[];
}

const brief = (input: unknown): ResolvedBrief => resolveBrief(parseBrief(input));
const squash = (text: string): string => text.replace(/\s+/g, ' ').trim();

const SCRIPT =
  'Every morning the harbour wakes before the town. Fishermen check their nets in the blue light. ' +
  'Gulls circle the boats as the engines start. By sunrise the first catch is on the quay. And the town, at last, opens its eyes.';
const FRENCH = 'Chaque matin, le port se réveille avant la ville. Les pêcheurs vérifient leurs filets dans la lumière bleue.';

function checkShape(board: Storyboard, language: string): void {
  storyboardSchema.parse(board);
  assert.equal(board.language, language);
  assert.ok(board.scenes.length >= 1);
  const ids = board.scenes.map((s) => s.id);
  assert.equal(new Set(ids).size, ids.length, 'scene ids are unique');
  assert.deepEqual(ids, ids.map((_, i) => `s${i + 1}`));
  for (const scene of board.scenes) assert.ok(scene.visual, `${scene.id} has a visual`);
}

async function failsWith(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof AppError, `an AppError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return true;
  });
}

export function scriptWriterConformance(name: string, setup: () => Promise<ScriptWriterUnderTest>): void {
  let subject: Promise<ScriptWriterUnderTest> | undefined;
  const get = (): Promise<ScriptWriterUnderTest> => (subject ??= setup());

  test(`${name}: a prompt brief gives a storyboard that passes the schema, with unique ids and usage in billing units`, async () => {
    const { writer } = await get();
    const { storyboard, usage } = await writer.plan(brief({ prompt: 'A 20-second ad for Tidewater, a ferry app that shows live boat positions', targetDurationSec: 20 }));
    checkShape(storyboard, 'en');
    assert.ok(storyboard.scenes.every((s) => s.narration.trim().length > 0), 'every scene is narrated');
    assert.ok(storyboard.title.length > 0);
    for (const [unit, amount] of Object.entries(usage)) {
      assert.ok(['inputTokens', 'outputTokens', 'requests'].includes(unit), `${unit} is a planner's billing unit`);
      assert.ok(Number.isFinite(amount) && amount >= 0);
    }
    assert.match(writer.id, /\S/);
  });

  test(`${name}: a script brief in the brief's language keeps the user's words, in order`, async () => {
    const { writer } = await get();
    const { storyboard } = await writer.plan(brief({ script: SCRIPT, language: 'en' }));
    checkShape(storyboard, 'en');
    assert.equal(squash(storyboard.scenes.map((s) => s.narration).join(' ')), squash(SCRIPT));
    assert.ok(!storyboard.notes.some((n) => /translat/i.test(n)));
  });

  test(`${name}: a scenes brief keeps the user's narration, titles and pictures`, async () => {
    const { writer } = await get();
    const visual = { type: 'image' as const, src: 'photos/quay.jpg', motion: 'zoom-in' as const };
    const { storyboard } = await writer.plan(
      brief({
        scenes: [
          { narration: 'The quay at five in the morning.', title: 'Five a.m.', visual },
          { narration: 'Nets, engines, gulls.' },
          { title: 'Sunrise', visual: { type: 'color', color: '#102030' }, durationSec: 3 },
        ],
      }),
    );
    checkShape(storyboard, 'en');
    assert.equal(storyboard.scenes.length, 3);
    const [a, b, c] = storyboard.scenes;
    assert.deepEqual([a?.narration, a?.title, a?.visual], ['The quay at five in the morning.', 'Five a.m.', visual]);
    assert.equal(a?.prompt, undefined, 'a user picture is never replaced');
    assert.equal(b?.narration, 'Nets, engines, gulls.');
    assert.deepEqual([c?.title, c?.visual, c?.durationSec, c?.prompt], ['Sunrise', { type: 'color', color: '#102030' }, 3, undefined]);
  });

  test(`${name}: a script in another language than the brief's`, async (t) => {
    const { writer, translates } = await get();
    if (!translates) return t.skip('this writer narrates scripts as written');
    const { storyboard } = await writer.plan(brief({ script: FRENCH, language: 'en' }));
    checkShape(storyboard, 'en');
    assert.ok(storyboard.notes.some((n) => /translated into en/.test(n)), `a translation note: ${storyboard.notes.join('; ')}`);
    assert.notEqual(squash(storyboard.scenes.map((s) => s.narration).join(' ')), squash(FRENCH));
  });

  test(`${name}: a cancelled render is 'aborted', before and during the call`, async () => {
    const { writer, hang } = await get();
    await failsWith(writer.plan(brief({ prompt: 'A teaser for a harbour festival' }), AbortSignal.abort()), 'aborted');
    if (!hang) return;
    hang();
    const controller = new AbortController();
    const pending = writer.plan(brief({ prompt: 'A teaser for a harbour festival' }), controller.signal);
    setTimeout(() => controller.abort(), 50);
    await failsWith(pending, 'aborted');
  });

  test(`${name}: failures are AppErrors with the project's codes`, async () => {
    const { writer, failures = [] } = await get();
    for (const failure of failures) {
      failure.arrange();
      await failsWith(writer.plan(brief({ prompt: 'A teaser for a harbour festival' })), failure.code);
    }
  });
}
