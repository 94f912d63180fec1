import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { AppError } from '../../contract/errors.js';
import { readWav } from '../../media/wav.js';
import { EspeakSynthesizer } from './espeak.adapter.js';

const tts = new EspeakSynthesizer();
const dir = mkdtempSync(join(tmpdir(), 'aiprod-tts-'));

test('languages resolve to voices; unknown ones are a 400 naming the field', async () => {
  assert.equal((await tts.resolveVoice('en')).id, 'gmw/en-US');
  assert.equal((await tts.resolveVoice('pt-BR')).id, 'roa/pt-BR');
  assert.equal((await tts.resolveVoice('fr')).id, 'roa/fr');
  assert.equal((await tts.resolveVoice('zh')).id, 'sit/cmn');
  assert.equal((await tts.resolveVoice('ar')).id, 'sem/ar');
  assert.equal((await tts.resolveVoice('de-AT')).id, 'gmw/de');
  await assert.rejects(tts.resolveVoice('xx'), (e: unknown) => e instanceof AppError && e.code === 'unsupported_language' && e.status === 400 && e.details[0]?.path === 'language');
  await assert.rejects(tts.resolveVoice('en', 'robot-9000'), (e: unknown) => e instanceof AppError && e.code === 'unknown_voice' && e.details[0]?.path === 'voice');
  assert.equal((await tts.resolveVoice('en', 'en-GB-x-rp')).id, 'gmw/en-GB-x-rp');
});

test('speech has word timings in order that map back to the text', async () => {
  const text = 'Solaris charges your phone, in 2 hours. Café crème!';
  const voice = await tts.resolveVoice('en');
  const result = await tts.synthesize({ text, voiceId: voice.id, rate: 1 }, join(dir, 'a.wav'));
  const wav = readWav(result.path);
  assert.equal(wav.sampleRate, result.sampleRate);
  assert.ok(Math.abs(wav.samples.length / wav.sampleRate - result.durationSec) < 0.01);
  assert.ok(result.durationSec > 2 && result.durationSec < 8, `duration ${result.durationSec}`);
  assert.deepEqual(result.words.map((w) => w.text), ['Solaris', 'charges', 'your', 'phone', 'in', '2', 'hours', 'Café', 'crème']);
  for (const [i, w] of result.words.entries()) {
    assert.equal(text.slice(w.charStart, w.charEnd), w.text);
    assert.ok(w.endSec > w.startSec);
    if (i > 0) assert.ok(w.startSec >= result.words[i - 1]!.startSec);
  }
  assert.equal(result.characters, text.length);
});

test('a faster rate gives shorter speech; the same request gives the same samples', async () => {
  const voice = await tts.resolveVoice('en');
  const text = 'The same sentence, spoken twice at different speeds.';
  const slow = await tts.synthesize({ text, voiceId: voice.id, rate: 0.8 }, join(dir, 'slow.wav'));
  const fast = await tts.synthesize({ text, voiceId: voice.id, rate: 1.5 }, join(dir, 'fast.wav'));
  assert.ok(fast.durationSec < slow.durationSec * 0.75, `${fast.durationSec} vs ${slow.durationSec}`);
  const again = await tts.synthesize({ text, voiceId: voice.id, rate: 0.8 }, join(dir, 'slow2.wav'));
  assert.deepEqual(readWav(again.path).samples, readWav(slow.path).samples);
});
