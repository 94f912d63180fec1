/**
 * What every MusicComposer must do, whoever composes: a stereo 16-bit 48 kHz WAV of exactly
 * round(durationSec * 48000) frames that is not silence, a result that says what it knows (tempo,
 * key, progression — 0, "unknown", [] when the vendor does not say), cancellation as AppError
 * 'aborted', and vendor failures as ProviderErrors with the project's codes.
 *
 * @example
 *   musicConformance({ name: 'suno', create: () => sunoDescriptor.create(ctx), failures: [...] });
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { AppError } from '../../src/contract/errors.js';
import { readWav } from '../../src/media/wav.js';
import type { MusicComposer } from '../../src/providers/music/music.port.js';
import { ProviderError } from '../../src/providers/provider-error.js';

export interface ConformanceFailure {
  /** The ProviderError code expected. */
  code: string;
  /** Makes the vendor (its fake) fail that way. */
  arrange: () => void;
}

export interface MusicConformanceSubject {
  name: string;
  create: () => MusicComposer;
  /** Cloud composers: the failures to check, and how to put the fake back. */
  failures?: ConformanceFailure[];
  reset?: () => void;
  /** The API key the subject uses: no error message may contain it. */
  apiKey?: string;
}

const UNITS = new Set(['inputTokens', 'outputTokens', 'characters', 'secondsOfAudio', 'secondsOfVideo', 'images', 'generations', 'requests']);

function rmsDb(samples: Float32Array): number {
  let sum = 0;
  for (const s of samples) sum += s * s;
  return 10 * Math.log10(sum / samples.length + 1e-12);
}

export function musicConformance(subject: MusicConformanceSubject): void {
  const dir = mkdtempSync(join(tmpdir(), `aiprod-music-conf-${subject.name}-`));
  let n = 0;
  const out = (): string => join(dir, `bed-${n++}.wav`);

  describe(`MusicComposer conformance: ${subject.name}`, () => {
    test('exact length at 48 kHz stereo, not silent, a result that says what it knows', async () => {
      subject.reset?.();
      const composer = subject.create();
      assert.match(composer.id, /^[a-z0-9-]+[:@][\w.-]+$/);
      for (const durationSec of [3, 12.345]) {
        const r = await composer.compose({ mood: 'calm', brief: 'A quiet morning by the lake', durationSec, seed: 7 }, out());
        const wav = readWav(r.path);
        assert.equal(wav.sampleRate, 48_000);
        assert.equal(wav.channels, 2);
        assert.equal(wav.samples.length / 2, Math.round(durationSec * 48_000), `${durationSec} s`);
        assert.equal(r.durationSec, Math.round(durationSec * 48_000) / 48_000);
        assert.ok(rmsDb(wav.samples) > -50, `level ${rmsDb(wav.samples).toFixed(1)} dBFS: not silence`);
        assert.ok(Number.isFinite(r.tempoBpm) && r.tempoBpm >= 0);
        assert.ok(typeof r.key === 'string' && r.key.length > 0);
        assert.ok(Array.isArray(r.progression) && r.progression.every((c) => typeof c === 'string'));
        for (const [unit, value] of Object.entries(r.usage ?? {})) {
          assert.ok(UNITS.has(unit), `usage unit ${unit}`);
          assert.ok(typeof value === 'number' && value >= 0);
        }
        if (r.attribution) assert.ok(r.attribution.source && r.attribution.licence);
      }
    });

    test('cancellation: before the start and on the way, as AppError "aborted"', async () => {
      subject.reset?.();
      const composer = subject.create();
      const cancelled = new AbortController();
      cancelled.abort();
      await assert.rejects(composer.compose({ mood: 'tense', durationSec: 5, seed: 1 }, out(), cancelled.signal), (e: unknown) => e instanceof AppError && e.code === 'aborted');
      const controller = new AbortController();
      const pending = composer.compose({ mood: 'tense', durationSec: 90, seed: 1 }, out(), controller.signal);
      setTimeout(() => controller.abort(), 20);
      await assert.rejects(pending, (e: unknown) => e instanceof AppError && e.code === 'aborted');
    });

    for (const failure of subject.failures ?? []) {
      test(`a vendor failure comes out as ProviderError ${failure.code}`, async () => {
        subject.reset?.();
        failure.arrange();
        try {
          await assert.rejects(subject.create().compose({ mood: 'playful', durationSec: 4, seed: 2 }, out()), (e: unknown) => e instanceof ProviderError && e.code === failure.code && !(subject.apiKey && e.message.includes(subject.apiKey)));
        } finally {
          subject.reset?.();
        }
      });
    }
  });
}
