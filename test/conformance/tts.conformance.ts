/**
 * What every SpeechSynthesizer must do, offline or cloud: a mono 16-bit WAV whose length is the
 * reported one (per ffprobe); words in order whose offsets slice the request text to the word,
 * with timings that rise and stay inside the audio; characters billed; the voice rules; cancellation
 * as `aborted`; failures as AppErrors with project codes.
 *
 * @example
 *   ttsConformance('elevenlabs', async () => ({ tts, ownVoice: 'elevenlabs:pNInz6obpgDQGcFmaJgB', foreignVoice: 'gmw/en-US', hangNext: () => fake.fail('hang', 1) }));
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadEnv } from '../../src/config/env.js';
import { AppError, type ErrorCode } from '../../src/contract/errors.js';
import { createMediaTools } from '../../src/main/container.js';
import { splitWords } from '../../src/providers/tts/speech-words.js';
import type { SpeechSynthesizer } from '../../src/providers/tts/tts.port.js';

export interface TtsSubject {
  tts: SpeechSynthesizer;
  /** An explicit voice id of this provider (resolveVoice must keep it). */
  ownVoice: string;
  /** Another provider's voice id: a cloud adapter ignores it and uses its default (the offline one refuses it). */
  foreignVoice?: string;
  /** Makes the next call hang (cloud fakes), so that cancellation is tested in flight. */
  hangNext?: () => void;
  /** Makes the next call fail as the vendor would, e.g. with a 500. */
  failNext?: () => void;
}

const PROVIDER_CODES: readonly ErrorCode[] = ['provider_auth', 'provider_rate_limited', 'provider_unavailable', 'provider_timeout', 'provider_refused', 'provider_bad_response', 'provider_failed', 'tts_failed'];
const TEXT = 'Compost turns peels, coffee grounds and leaves into rich soil. Microbes do the work!';

export function ttsConformance(name: string, subject: () => Promise<TtsSubject>): void {
  const dir = mkdtempSync(join(tmpdir(), `aiprod-tts-conformance-${name}-`));
  let n = 0;
  const out = (): string => join(dir, `${++n}.wav`);

  test(`${name}: mono 16-bit WAV of the reported length; words in order slicing the text; timings inside the audio`, async () => {
    const { tts } = await subject();
    const voice = await tts.resolveVoice('en');
    const result = await tts.synthesize({ text: TEXT, voiceId: voice.id, rate: 1 }, out());
    const media = await createMediaTools(loadEnv({}));
    const probed = await media.probe(result.path);
    assert.equal(probed.audio?.codecName, 'pcm_s16le');
    assert.equal(probed.audio?.channels, 1);
    assert.equal(probed.audio?.sampleRate, result.sampleRate);
    assert.ok(Math.abs(probed.durationSec - result.durationSec) < 0.02, `${probed.durationSec} vs ${result.durationSec}`);
    assert.deepEqual(result.words.map((w) => w.text), splitWords(TEXT).map((w) => w.text));
    for (const [i, w] of result.words.entries()) {
      assert.equal(TEXT.slice(w.charStart, w.charEnd), w.text);
      assert.ok(w.startSec >= 0 && w.startSec < w.endSec && w.endSec <= result.durationSec + 1e-6, `${w.text}: ${w.startSec}–${w.endSec} of ${result.durationSec}`);
      const previous = result.words[i - 1];
      if (previous) {
        assert.ok(w.charStart >= previous.charEnd);
        assert.ok(w.startSec >= previous.startSec, `${w.text} starts before ${previous.text}`);
      }
    }
    assert.equal(result.characters, TEXT.length);
    if (result.usage) assert.ok(Object.values(result.usage).every((v) => typeof v === 'number' && v >= 0));
  });

  test(`${name}: voices — a default per language, an own explicit voice kept, unknown languages a 400`, async () => {
    const { tts, ownVoice, foreignVoice } = await subject();
    const voices = await tts.voices();
    assert.ok(voices.length > 0 && voices.every((v) => v.id && v.name && v.languages.length > 0));
    const english = await tts.resolveVoice('en');
    assert.ok(english.languages.some((l) => l === 'en' || l.startsWith('en-')), english.languages.join());
    assert.equal((await tts.resolveVoice('en', ownVoice)).id, ownVoice);
    if (foreignVoice) assert.equal((await tts.resolveVoice('en', foreignVoice)).id, english.id);
    await assert.rejects(tts.resolveVoice('xx'), (e: unknown) => e instanceof AppError && e.code === 'unsupported_language' && e.status === 400);
  });

  test(`${name}: cancellation is 'aborted', before and during a call`, async () => {
    const { tts, hangNext } = await subject();
    const voice = await tts.resolveVoice('en');
    const request = { text: 'Stop right there.', voiceId: voice.id, rate: 1 };
    const before = new AbortController();
    before.abort();
    await assert.rejects(tts.synthesize(request, out(), before.signal), (e: unknown) => e instanceof AppError && e.code === 'aborted');
    if (hangNext) {
      hangNext();
      const during = new AbortController();
      setTimeout(() => during.abort(), 150);
      await assert.rejects(tts.synthesize(request, out(), during.signal), (e: unknown) => e instanceof AppError && e.code === 'aborted');
    }
  });

  test(`${name}: failures are AppErrors with project codes`, async () => {
    const { tts, failNext } = await subject();
    const voice = await tts.resolveVoice('en');
    if (failNext) {
      failNext();
      await assert.rejects(tts.synthesize({ text: 'This will fail.', voiceId: voice.id, rate: 1 }, out()), (e: unknown) => e instanceof AppError && PROVIDER_CODES.includes(e.code));
    } else {
      await assert.rejects(tts.synthesize({ text: 'No such voice.', voiceId: 'no/such-voice', rate: 1 }, out()), (e: unknown) => e instanceof AppError && e.status >= 400);
    }
  });
}
