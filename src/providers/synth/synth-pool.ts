/**
 * A pool of worker threads (piscina) for the CPU-bound synthesis AIPROD does in-process: eSpeak
 * speech (synchronous WebAssembly), the procedural music bed and the effects stem. On the event
 * loop each of them holds it for as long as it computes — up to seconds for a long bed — and in
 * `--role all` that loop also serves the API, sends heartbeats and relays FFmpeg progress.
 *
 * Cancelling a task's signal rejects it with `aborted` at once; if it was running, piscina
 * terminates its thread (and closes the files the thread opened), so a cancelled synthesis stops
 * using CPU. Threads start when first needed and end after a minute idle; an idle pool does not
 * keep the process alive.
 *
 * @example
 *   const pool = new SynthPool({ threads: 2 });
 *   const tts = new EspeakSynthesizer({ pool });
 *   await tts.synthesize({ text: 'Hello.', voiceId: 'gmw/en-US', rate: 1 }, '/tmp/a.wav', signal);
 *   await pool.close();
 */
import { Piscina } from 'piscina';
import { AppError } from '../../contract/errors.js';
import type { SynthTaskName, SynthTasks, TaskReply } from './synth.tasks.js';

export interface SynthPoolOptions {
  /** Threads at most; each holds its own eSpeak data (about 75 MiB once it has spoken). */
  threads: number;
  /** A thread idle this long ends. Default 60 s. */
  idleTimeoutMs?: number;
}

const LABELS: Record<SynthTaskName, string> = {
  speak: 'speech synthesis',
  voices: 'loading the voice list',
  compose: 'music composition',
  sfxStem: 'effects rendering',
};

export class SynthPool {
  private readonly piscina: Piscina;

  constructor(options: SynthPoolOptions) {
    if (!Number.isInteger(options.threads) || options.threads < 1) throw new Error(`SynthPool needs at least one thread, not ${options.threads}`);
    this.piscina = new Piscina({
      filename: new URL('./synth.worker.mjs', import.meta.url).href,
      minThreads: 0,
      maxThreads: options.threads,
      idleTimeout: options.idleTimeoutMs ?? 60_000,
      // The entry loads the compiled tasks, or registers tsx itself: no flags of the parent (test runner, inspector) are passed on.
      execArgv: [],
      // Tasks await between blocks (the composer yields); the thread's event loop must run meanwhile.
      atomics: 'disabled',
    });
  }

  /** Runs `task` in a thread; rejects with `aborted` as soon as `signal` fires. */
  async run<K extends SynthTaskName>(task: K, input: SynthTasks[K]['input'], signal?: AbortSignal): Promise<SynthTasks[K]['output']> {
    if (signal?.aborted) throw new AppError('aborted', `${LABELS[task]} was cancelled`);
    let reply: TaskReply<SynthTasks[K]['output']>;
    try {
      reply = await this.piscina.run(input, { name: task, signal: signal ?? null });
    } catch (error) {
      if (signal?.aborted || (error instanceof Error && error.name === 'AbortError')) throw new AppError('aborted', `${LABELS[task]} was cancelled`);
      // A thread that crashed (out of memory, a WebAssembly trap outside the adapter's handling).
      throw new AppError('internal', `${LABELS[task]} failed in its worker thread: ${error instanceof Error ? error.message : String(error)}`, { cause: error, retryable: true });
    }
    if (!reply.ok) {
      const { code, message, status, retryable, details } = reply.error;
      throw new AppError(code, message, { status, retryable, details });
    }
    return reply.value;
  }

  /** Ends the threads; tasks still running are rejected. */
  async close(): Promise<void> {
    await this.piscina.destroy();
  }
}
