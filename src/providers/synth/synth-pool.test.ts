import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { AppError } from '../../contract/errors.js';
import { ProceduralComposer } from '../music/procedural.adapter.js';
import { ProceduralSfxLibrary } from '../sfx/procedural.adapter.js';
import type { PlacedEffect } from '../sfx/sfx.port.js';
import { EspeakSynthesizer } from '../tts/espeak.adapter.js';
import { SynthPool } from './synth-pool.js';

const dir = mkdtempSync(join(tmpdir(), 'aiprod-synth-'));
const pool = new SynthPool({ threads: 2 });
after(async () => {
  await pool.close();
  rmSync(dir, { recursive: true, force: true });
});

const pooled = { tts: new EspeakSynthesizer({ pool }), music: new ProceduralComposer({ pool }), sfx: new ProceduralSfxLibrary({ pool }) };
const inThread = { tts: new EspeakSynthesizer(), music: new ProceduralComposer(), sfx: new ProceduralSfxLibrary() };
const effects: PlacedEffect[] = [
  { kind: 'whoosh', atSec: 0.5, gain: 1 },
  { kind: 'impact', atSec: 2, gain: 0.8 },
  { kind: 'riser', atSec: 4, gain: 1 },
  { kind: 'click', atSec: 5.9, gain: 1 },
];
/** About a minute of speech. */
const longText = 'The launch is on Monday, and every team has a part to play in it. '.repeat(12);

/** How many zero-delay timer callbacks, each scheduling the next, the event loop served while `work` ran. */
async function timerCallbacksDuring(work: () => Promise<unknown>): Promise<number> {
  let served = 0;
  let running = true;
  const next = (): void => {
    if (!running) return;
    served++;
    setTimeout(next, 0);
  };
  setTimeout(next, 0);
  try {
    await work();
  } finally {
    running = false;
  }
  return served;
}

/** Waits until `check` holds, polling; fails after a generous deadline. */
async function until(check: () => boolean, what: string, deadlineMs = 30_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await delay(10);
  }
}

describe('synthesis in worker threads', () => {
  test('a worker thread makes the same bytes and results as the event loop', async () => {
    const speech = { text: 'Solaris charges your phone, in 2 hours. Café crème!', voiceId: 'gmw/en-US', rate: 1.1 };
    const [a, b] = [await pooled.tts.synthesize(speech, join(dir, 'speak-pool.wav')), await inThread.tts.synthesize(speech, join(dir, 'speak-loop.wav'))];
    assert.deepEqual({ ...a, path: '' }, { ...b, path: '' });
    assert.ok(readFileSync(a.path).equals(readFileSync(b.path)));

    const bed = { mood: 'uplifting' as const, durationSec: 9.5, seed: 7 };
    const [m1, m2] = [await pooled.music.compose(bed, join(dir, 'music-pool.wav')), await inThread.music.compose(bed, join(dir, 'music-loop.wav'))];
    assert.deepEqual({ ...m1, path: '' }, { ...m2, path: '' });
    assert.ok(readFileSync(m1.path).equals(readFileSync(m2.path)));

    const stem = { effects, durationSec: 6, seed: 3 };
    const [s1, s2] = [await pooled.sfx.renderStem(stem, join(dir, 'sfx-pool.wav')), await inThread.sfx.renderStem(stem, join(dir, 'sfx-loop.wav'))];
    assert.deepEqual({ ...s1, path: '' }, { ...s2, path: '' });
    assert.ok(readFileSync(s1.path).equals(readFileSync(s2.path)));

    assert.deepEqual(await pooled.tts.voices(), await inThread.tts.voices());
    assert.equal((await pooled.tts.resolveVoice('pt-BR')).id, 'roa/pt-BR');
  });

  test('the event loop stays responsive while a minute of speech, music and effects is synthesised', async () => {
    await pooled.tts.voices(); // threads started, so the measure is of synthesis, not of a thread's start
    // Behaviour, not speed: how many timer callbacks the loop serves while the same work runs on it
    // (eSpeak's WebAssembly blocks it for whole utterances) and while it runs in the pool.
    const work = (adapters: typeof pooled, tag: string): Promise<unknown[]> =>
      Promise.all([
        adapters.tts.synthesize({ text: longText, voiceId: 'gmw/en-US', rate: 1 }, join(dir, `long-speech-${tag}.wav`)).then((speech) => {
          assert.ok(speech.durationSec > 30, `speech of ${speech.durationSec} s`);
        }),
        adapters.music.compose({ mood: 'dramatic', durationSec: 60, seed: 2 }, join(dir, `long-music-${tag}.wav`)),
        adapters.sfx.renderStem({ effects: Array.from({ length: 30 }, (_, i) => ({ ...effects[i % effects.length]!, atSec: i * 2 })), durationSec: 60, seed: 2 }, join(dir, `long-sfx-${tag}.wav`)),
      ]);
    const onLoop = await timerCallbacksDuring(() => work(inThread, 'loop'));
    const inPool = await timerCallbacksDuring(() => work(pooled, 'pool'));
    assert.ok(inPool >= Math.max(20, 4 * (onLoop + 1)), `timer callbacks served: ${inPool} with the pool, ${onLoop} with synthesis on the event loop`);
  });

  test('a cancelled synthesis rejects with aborted, and the pool carries on', async () => {
    const controller = new AbortController();
    const outPath = join(dir, 'cancelled.wav');
    const running = pooled.music.compose({ mood: 'calm', durationSec: 1800, seed: 1 }, outPath, controller.signal);
    await until(() => existsSync(outPath), 'the composer to start writing');
    controller.abort();
    await assert.rejects(running, (e: unknown) => e instanceof AppError && e.code === 'aborted' && /music composition was cancelled/.test(e.message));

    const again = new AbortController();
    again.abort();
    await assert.rejects(pooled.tts.synthesize({ text: 'never', voiceId: 'gmw/en-US', rate: 1 }, join(dir, 'never.wav'), again.signal), (e: unknown) => e instanceof AppError && e.code === 'aborted');
    await assert.rejects(pooled.sfx.renderStem({ effects, durationSec: 6, seed: 1 }, join(dir, 'never2.wav'), again.signal), (e: unknown) => e instanceof AppError && e.code === 'aborted');

    const after = await pooled.music.compose({ mood: 'calm', durationSec: 2, seed: 1 }, join(dir, 'after.wav'));
    assert.equal(after.durationSec, 2);
  });

  test("an adapter's error crosses the thread as the same AppError", async () => {
    await assert.rejects(pooled.tts.synthesize({ text: 'Hello.', voiceId: 'no/such-voice', rate: 1 }, join(dir, 'bad.wav')), (e: unknown) => {
      assert.ok(e instanceof AppError);
      assert.equal(e.code, 'unknown_voice');
      assert.match(e.message, /cannot load voice "no\/such-voice"/);
      return true;
    });
  });
});
