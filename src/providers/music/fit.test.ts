import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadEnv } from '../../config/env.js';
import { createMediaTools } from '../../main/container.js';
import { readWav } from '../../media/wav.js';
import { fitTrack, loopArgs, passesFor, trimArgs } from './fit.js';

const dir = mkdtempSync(join(tmpdir(), 'aiprod-fit-'));
let media: Awaited<ReturnType<typeof createMediaTools>>;

/**
 * A quiet tone over pink noise, as 44.1 kHz mono MP3. Mostly noise on purpose: the end and the
 * start of a real track are unrelated, as two stretches of noise are; a pure sine would be in or
 * out of phase with itself at a seam by chance.
 */
async function tone(name: string, seconds: number): Promise<string> {
  const path = join(dir, name);
  await media.ffmpeg([
    '-hide_banner', '-nostdin', '-y',
    '-f', 'lavfi', '-i', `sine=frequency=330:sample_rate=44100:duration=${seconds}`,
    '-f', 'lavfi', '-i', `anoisesrc=color=pink:amplitude=0.6:sample_rate=44100:duration=${seconds}`,
    '-filter_complex', '[0:a]volume=0.2[t];[t][1:a]amix=inputs=2', '-ac', '1', '-c:a', 'libmp3lame', '-b:a', '96k', path,
  ]);
  return path;
}

/** Where silencedetect finds a gap (-40 dB, 50 ms or longer) in the first `seconds` of a file. */
async function silences(path: string, seconds: number): Promise<string[]> {
  const { stderr } = await media.ffmpeg(['-hide_banner', '-nostdin', '-i', path, '-af', `atrim=end=${seconds},silencedetect=noise=-40dB:d=0.05`, '-f', 'null', '-']);
  return stderr.match(/silence_start: [\d.]+/g) ?? [];
}

function rmsDb(samples: Float32Array, fromFrame: number, toFrame: number): number {
  let sum = 0;
  for (let i = fromFrame * 2; i < toFrame * 2; i++) sum += samples[i]! ** 2;
  return 10 * Math.log10(sum / ((toFrame - fromFrame) * 2) + 1e-12);
}

before(async () => {
  media = await createMediaTools(loadEnv({}));
});
after(() => undefined);

test('argument builders: resample before counting frames, one input per pass, equal-power seams', () => {
  const trim = trimArgs('in.mp3', 'out.wav', 96_000, 24_000);
  assert.deepEqual(trim.slice(trim.indexOf('-af'), trim.indexOf('-af') + 2), ['-af', 'aresample=48000,aformat=channel_layouts=stereo,atrim=end_sample=96000,apad=whole_len=96000,afade=t=out:ss=72000:ns=24000']);
  assert.deepEqual(trim.slice(-9), ['-ac', '2', '-ar', '48000', '-c:a', 'pcm_s16le', '-f', 'wav', 'out.wav']);
  const loop = loopArgs('p.wav', 'out.wav', 3, 0.5);
  assert.equal(loop.filter((a) => a === '-i').length, 3);
  assert.equal(
    loop[loop.indexOf('-filter_complex') + 1],
    '[0:a][1:a]acrossfade=d=0.500:c1=qsin:c2=qsin[x1];[x1][2:a]acrossfade=d=0.500:c1=qsin:c2=qsin[x2];[x2]anull[out]',
  );
  assert.equal(passesFor(10, 8, 2), 1);
  assert.equal(passesFor(4, 10, 1), 3); // 4 + 3 + 3
  assert.equal(passesFor(4, 10.5, 1), 4);
});

test('a longer track is cut to the exact frame count and faded out', async () => {
  const src = await tone('long.mp3', 6);
  for (const durationSec of [2.5, 3.33333]) {
    const out = join(dir, `cut-${durationSec}.wav`);
    const r = await fitTrack(media, src, out, { durationSec });
    assert.equal(r.passes, 1);
    const wav = readWav(out);
    assert.equal(wav.sampleRate, 48_000);
    assert.equal(wav.channels, 2);
    assert.equal(wav.samples.length / 2, Math.round(durationSec * 48_000));
    const frames = wav.samples.length / 2;
    assert.ok(rmsDb(wav.samples, frames - 480, frames) < rmsDb(wav.samples, 0, 48_000) - 20, 'the end is faded');
    assert.ok(Math.abs(wav.samples.at(-1)!) < 0.01);
  }
});

test('a shorter track loops with cross-faded seams: exact length, no gap, steady level', async () => {
  const src = await tone('short.mp3', 2.2);
  const out = join(dir, 'loop.wav');
  const r = await fitTrack(media, src, out, { durationSec: 9.01 });
  assert.ok(r.passes >= 4, `${r.passes} passes`);
  assert.ok(!existsSync(`${out}.pass.wav`) && !existsSync(`${out}.loop.wav`), 'the intermediate files are removed');
  const wav = readWav(out);
  assert.equal(wav.samples.length / 2, Math.round(9.01 * 48_000));
  // Up to the fade-out (its last tens of ms are below -40 dB, as a fade should be).
  assert.deepEqual(await silences(out, 9.01 - 1.5), [], 'silencedetect finds no gap at the seams');
  // Level in 100 ms windows over the looped part (before the fade-out) stays within a few dB.
  const levels: number[] = [];
  for (let at = 4800; at + 4800 < wav.samples.length / 2 - 1.6 * 48_000; at += 4800) levels.push(rmsDb(wav.samples, at, at + 4800));
  assert.ok(Math.max(...levels) - Math.min(...levels) < 6, `level varies ${(Math.max(...levels) - Math.min(...levels)).toFixed(1)} dB`);
  const { stderr } = await media.ffmpeg(['-hide_banner', '-nostdin', '-i', out, '-af', 'astats=metadata=0', '-f', 'null', '-']);
  const peak = Number(/Peak level dB:\s*(-?[\d.]+)/.exec(stderr)?.[1]);
  assert.ok(peak < 0, `peak ${peak} dBFS: seams do not clip`);
});

test('an empty or very short input is refused, a cancelled fit stops', async () => {
  const src = await tone('tiny.mp3', 1);
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(fitTrack(media, src, join(dir, 'x.wav'), { durationSec: 30 }, controller.signal), (e: Error & { code?: string }) => e.code === 'aborted');
});
