// The mix's second loudness pass on a mix the limiter must work hard on (quiet tone, loud low thumps:
// a peak-to-loudness ratio like narration over impacts). Gain and limiting alone land 1.8 LU short
// of the target here; the closed loop must bring the encoded AAC to the target under the ceiling.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadEnv } from '../../src/config/env.js';
import { buildLoudnessMeasureArgs, parseLoudnessSummary } from '../../src/media/args/analysis.js';
import { resolveBinaries } from '../../src/media/binaries.js';
import { runProcess } from '../../src/media/ffmpeg.js';
import { normaliseLoudness } from '../../src/pipeline/stages/mix.stage.js';

const dir = mkdtempSync(join(tmpdir(), 'aiprod-loudness-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const { ffmpeg } = resolveBinaries(loadEnv(), process.env.PATH);
const run = (args: string[]): ReturnType<typeof runProcess> => runProcess(ffmpeg, args);

test('a hard-limited mix still reaches the loudness target, under the true-peak ceiling', async () => {
  const mixedPath = join(dir, 'mixed.wav');
  const wave = '0.08*sin(2*PI*220*t)*(0.5+0.5*sin(2*PI*3*t))+0.6*exp(-60*mod(t\\,0.5))*sin(2*PI*70*t)';
  await run(['-v', 'error', '-y', '-f', 'lavfi', '-i', `aevalsrc=${wave}|${wave}:s=48000:d=10`, '-c:a', 'pcm_s16le', mixedPath]);
  const measured = parseLoudnessSummary((await run(buildLoudnessMeasureArgs(mixedPath))).stderr);
  assert.ok(measured.integratedLufs < -20, `the input needs a large gain (${measured.integratedLufs} LUFS)`);

  const result = await normaliseLoudness(run, {
    mixedPath, path: join(dir, 'final.wav'), aacPath: join(dir, 'final.m4a'), measured,
    integratedLufs: -14, truePeakDb: -1.5, ceilingDb: -1.1,
  });
  assert.ok(Math.abs(result.encoded.integratedLufs - -14) <= 0.5, `encoded at ${result.encoded.integratedLufs} LUFS`);
  assert.ok(result.encoded.truePeakDb <= -1.1, `true peak ${result.encoded.truePeakDb} dBTP`);
  assert.ok(result.rounds >= 2, 'the limiter took loudness, and a second round gave it back');
  // What QA measures is the delivered AAC: measured again, independently.
  const delivered = parseLoudnessSummary((await run(buildLoudnessMeasureArgs(join(dir, 'final.m4a')))).stderr);
  assert.ok(Math.abs(delivered.integratedLufs - -14) <= 0.5, `delivered at ${delivered.integratedLufs} LUFS`);
});
