/**
 * Audio for the fake vendor servers (ElevenLabs, Suno, Freesound), made with FFmpeg when a fake
 * starts: small MP3s a real decoder must read, never committed files.
 *
 * @example
 *   const files = await fakeAudioFiles();
 *   res.end(files.long); // a 20 s music-like MP3
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadEnv } from '../../src/config/env.js';
import { createMediaTools } from '../../src/main/container.js';

export interface FakeAudioFiles {
  /** 4 s: shorter than the tests' requests (the adapter must loop it). */
  short: Buffer;
  /** 20 s: longer than the tests' requests (the adapter must cut it). */
  long: Buffer;
  /** 0.8 s: a noise burst that decays, like a whoosh or a hit. */
  effect: Buffer;
}

let made: Promise<FakeAudioFiles> | undefined;

/** Made once per test process and shared by every fake. */
export function fakeAudioFiles(): Promise<FakeAudioFiles> {
  made ??= make();
  return made;
}

async function make(): Promise<FakeAudioFiles> {
  const media = await createMediaTools(loadEnv({}));
  const dir = mkdtempSync(join(tmpdir(), 'aiprod-fake-audio-'));
  const mp3 = async (name: string, graph: string, seconds: number): Promise<Buffer> => {
    const path = join(dir, name);
    await media.ffmpeg([
      '-hide_banner', '-nostdin', '-y',
      '-f', 'lavfi', '-i', `sine=frequency=220:sample_rate=44100:duration=${seconds}`,
      '-f', 'lavfi', '-i', `anoisesrc=color=pink:amplitude=0.5:sample_rate=44100:duration=${seconds}`,
      '-filter_complex', graph, '-ac', '2', '-c:a', 'libmp3lame', '-b:a', '64k', path,
    ]);
    return readFileSync(path);
  };
  // Music: a chord-ish tone under noise, with a slow tremolo so it is not a drone.
  const music = '[0:a]volume=0.3,tremolo=f=2:d=0.5[t];[t][1:a]amix=inputs=2';
  const [short, long, effect] = await Promise.all([
    mp3('short.mp3', music, 4),
    mp3('long.mp3', music, 20),
    mp3('effect.mp3', '[1:a]volume=2,afade=t=out:st=0.05:d=0.75[n];[0:a]volume=0.2[t];[n][t]amix=inputs=2', 0.8),
  ]);
  return { short, long, effect };
}
