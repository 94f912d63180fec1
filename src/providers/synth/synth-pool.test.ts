import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
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
after(() => pool.close());

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
    const histogram = monitorEventLoopDelay({ resolution: 10 });
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 20);
    histogram.enable();
    try {
      const results = await Promise.all([
        pooled.tts.synthesize({ text: longText, voiceId: 'gmw/en-US', rate: 1 }, join(dir, 'long-speech.wav')),
        pooled.music.compose({ mood: 'dramatic', durationSec: 60, seed: 2 }, join(dir, 'long-music.wav')),
        pooled.sfx.renderStem({ effects: Array.from({ length: 30 }, (_, i) => ({ ...effects[i % effects.length]!, atSec: i * 2 })), durationSec: 60, seed: 2 }, join(dir, 'long-sfx.wav')),
      ]);
      assert.ok(results[0].durationSec > 30, `speech of ${results[0].durationSec} s`);
    } finally {
      histogram.disable();
      clearInterval(ticker);
    }
    const maxDelayMs = histogram.max / 1e6;
    assert.ok(maxDelayMs < 200, `the event loop was blocked for ${maxDelayMs.toFixed(0)} ms`);
    assert.ok(ticks > 0, 'a timer fired while synthesis ran');
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
