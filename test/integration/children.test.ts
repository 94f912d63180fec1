/**
 * Children die with their owner: a process running FFmpeg through media/ffmpeg.ts that is killed
 * (SIGKILL, or SIGTERM with no handler), exits, or dies of an uncaught exception leaves no FFmpeg
 * running. Checked with /proc.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ffmpegChildren, pollUntil, ROOT } from '../service/processes.js';

interface Owner {
  pid: number;
  ffmpegPid: number;
  exited: Promise<void>;
}

async function startOwner(mode: 'wait' | 'throw' | 'exit'): Promise<Owner> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/long-ffmpeg.ts', mode], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = child.pid;
  assert.ok(pid);
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.resume();
  await pollUntil('the owner to start its FFmpeg', () => out.includes('running'), 60_000);
  const [ffmpeg] = await pollUntil('an FFmpeg child in /proc', () => {
    const found = ffmpegChildren(pid);
    return found.length > 0 ? found : undefined;
  }, 10_000);
  assert.ok(ffmpeg);
  return { pid, ffmpegPid: ffmpeg.pid, exited };
}

/** Running (a zombie waiting for its new parent to reap it counts as gone). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

async function expectGone(ffmpegPid: number, how: string): Promise<void> {
  try {
    await pollUntil(`FFmpeg ${ffmpegPid} to be gone after ${how}`, () => !alive(ffmpegPid), 10_000, 50);
  } finally {
    try {
      process.kill(ffmpegPid, 'SIGKILL');
    } catch {
      // gone, as it should be
    }
  }
}

test('an owner killed with SIGKILL takes its FFmpeg with it', async () => {
  const owner = await startOwner('wait');
  process.kill(owner.pid, 'SIGKILL');
  await owner.exited;
  await expectGone(owner.ffmpegPid, 'SIGKILL');
});

test('an owner ended by SIGTERM (no handler) takes its FFmpeg with it', async () => {
  const owner = await startOwner('wait');
  process.kill(owner.pid, 'SIGTERM');
  await owner.exited;
  await expectGone(owner.ffmpegPid, 'SIGTERM');
});

test('an owner that dies of an uncaught exception takes its FFmpeg with it', async () => {
  const owner = await startOwner('throw');
  await owner.exited;
  await expectGone(owner.ffmpegPid, 'an uncaught exception');
});

test('an owner that calls process.exit takes its FFmpeg with it', async () => {
  const owner = await startOwner('exit');
  await owner.exited;
  await expectGone(owner.ffmpegPid, 'process.exit');
});
