/**
 * What every SoundEffectsLibrary must do: list the kinds it has, render one effect, and lay a stem
 * of exactly round(durationSec * 48000) frames (stereo, 48 kHz) with each effect audible at its
 * time — measured as the energy just after `atSec` against the energy just before — and cut
 * cleanly at the end; cancellation as AppError 'aborted'; vendor failures as ProviderErrors.
 *
 * @example
 *   sfxConformance({ name: 'freesound', create: () => freesoundDescriptor.create(ctx), failures: [...] });
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { SFX_KINDS, type SfxKind } from '../../src/contract/brief.js';
import { AppError } from '../../src/contract/errors.js';
import { readWav } from '../../src/media/wav.js';
import { ProviderError } from '../../src/providers/provider-error.js';
import type { SoundEffectsLibrary } from '../../src/providers/sfx/sfx.port.js';
import type { ConformanceFailure } from './music.conformance.js';

export interface SfxConformanceSubject {
  name: string;
  create: () => SoundEffectsLibrary;
  failures?: ConformanceFailure[];
  reset?: () => void;
  apiKey?: string;
}

const SR = 48_000;

function energy(samples: Float32Array, fromSec: number, toSec: number): number {
  let sum = 0;
  for (let i = Math.max(0, Math.round(fromSec * SR)) * 2; i < Math.min(samples.length / 2, Math.round(toSec * SR)) * 2; i++) sum += samples[i]! ** 2;
  return sum;
}

/** Short kinds first: they leave the next effect's "before" window quiet. */
function shortKinds(library: SoundEffectsLibrary): SfxKind[] {
  const preferred: SfxKind[] = ['click', 'pop', 'whoosh', 'impact'];
  const kinds = library.kinds();
  return [...preferred.filter((k) => kinds.includes(k)), ...kinds.filter((k) => !preferred.includes(k))];
}

export function sfxConformance(subject: SfxConformanceSubject): void {
  const dir = mkdtempSync(join(tmpdir(), `aiprod-sfx-conf-${subject.name}-`));
  let n = 0;
  const out = (): string => join(dir, `stem-${n++}.wav`);

  describe(`SoundEffectsLibrary conformance: ${subject.name}`, () => {
    test('kinds(): a non-empty list of known kinds, no duplicates', () => {
      subject.reset?.();
      const kinds = subject.create().kinds();
      assert.ok(kinds.length > 0);
      assert.equal(new Set(kinds).size, kinds.length);
      for (const k of kinds) assert.ok((SFX_KINDS as readonly string[]).includes(k), k);
    });

    test('a stem: exact length, 48 kHz stereo, each effect audible from its time', async () => {
      subject.reset?.();
      const library = subject.create();
      const [a, b, c] = shortKinds(library);
      const effects = [
        { kind: a!, atSec: 0.5, gain: 1 },
        { kind: (b ?? a)!, atSec: 2.6, gain: 1 },
        { kind: (c ?? a)!, atSec: 4.7, gain: 0.8 },
      ];
      const durationSec = 6.123;
      const r = await library.renderStem({ effects, durationSec, seed: 4 }, out());
      const wav = readWav(r.path);
      assert.equal(wav.sampleRate, SR);
      assert.equal(wav.channels, 2);
      assert.equal(wav.samples.length / 2, Math.round(durationSec * SR));
      assert.equal(r.durationSec, Math.round(durationSec * SR) / SR);
      assert.equal(r.effectsPlaced, 3);
      for (const e of effects) {
        const before = energy(wav.samples, e.atSec - 0.3, e.atSec - 0.02);
        const after = energy(wav.samples, e.atSec, e.atSec + 0.25);
        assert.ok(after > 1e-3 && after > before * 4, `${e.kind} at ${e.atSec} s: energy after ${after.toExponential(2)}, before ${before.toExponential(2)}`);
      }
      for (const a of r.attributions ?? []) assert.ok(a.source && a.licence);
      for (const value of Object.values(r.usage ?? {})) assert.ok(typeof value === 'number' && value >= 0);
    });

    test('an effect running past the end is cut: exact length, quiet last sample; effects outside the stem are left out', async () => {
      subject.reset?.();
      const library = subject.create();
      const kind = shortKinds(library).find((k) => k === 'impact' || k === 'whoosh') ?? library.kinds()[0]!;
      const r = await library.renderStem({ effects: [{ kind, atSec: 1.9, gain: 1 }, { kind, atSec: 5, gain: 1 }], durationSec: 2, seed: 1 }, out());
      const wav = readWav(r.path);
      assert.equal(wav.samples.length / 2, 2 * SR);
      assert.equal(r.effectsPlaced, 1);
      assert.ok(Math.abs(wav.samples.at(-1)!) < 0.05);
    });

    test('renderEffect: one effect as a WAV', async () => {
      subject.reset?.();
      const library = subject.create();
      const r = await library.renderEffect(library.kinds()[0]!, 1, out());
      const wav = readWav(r.path);
      assert.equal(wav.sampleRate, SR);
      assert.ok(r.durationSec > 0 && Math.abs(r.durationSec - wav.samples.length / wav.channels / SR) < 0.01);
    });

    test('cancellation: before the start and on the way, as AppError "aborted"', async () => {
      subject.reset?.();
      const library = subject.create();
      const effects = library.kinds().map((kind, i) => ({ kind, atSec: i * 3, gain: 1 }));
      const cancelled = new AbortController();
      cancelled.abort();
      await assert.rejects(library.renderStem({ effects, durationSec: 30, seed: 1 }, out(), cancelled.signal), (e: unknown) => e instanceof AppError && e.code === 'aborted');
      const controller = new AbortController();
      const pending = library.renderStem({ effects, durationSec: 600, seed: 1 }, out(), controller.signal);
      setTimeout(() => controller.abort(), 20);
      await assert.rejects(pending, (e: unknown) => e instanceof AppError && e.code === 'aborted');
    });

    for (const failure of subject.failures ?? []) {
      test(`a vendor failure comes out as ProviderError ${failure.code}`, async () => {
        subject.reset?.();
        failure.arrange();
        try {
          const effects = [{ kind: subject.create().kinds()[0]!, atSec: 0.2, gain: 1 }];
          await assert.rejects(subject.create().renderStem({ effects, durationSec: 2, seed: 3 }, out()), (e: unknown) => e instanceof ProviderError && e.code === failure.code && !(subject.apiKey && e.message.includes(subject.apiKey)));
        } finally {
          subject.reset?.();
        }
      });
    }
  });
}
