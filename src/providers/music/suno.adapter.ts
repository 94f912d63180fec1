/**
 * Suno through the sunoapi.org gateway (Suno itself publishes no API): a thin typed client for its
 * task API. `POST /api/v1/generate` starts an instrumental in custom mode (style words from the
 * mood, title from the brief), `GET /api/v1/generate/record-info` is polled until a track is ready,
 * the track is downloaded through the context's safe downloader and fitted to the video's length
 * (Suno chooses the length itself, usually two to four minutes: cut and faded, or looped).
 *
 * The gateway answers HTTP 200 with its own `code` for most failures (documented: 400 parameters,
 * 401 unauthorised, 405/430 call limits, 413 too long, 429 insufficient credits, 455 maintenance,
 * 500 server error); `codeError` turns those into ProviderErrors as if they were HTTP statuses.
 *
 * The API requires a `callBackUrl`; this adapter polls instead, and sends the operator's
 * SUNO_CALLBACK_URL or the documentation's placeholder (https://api.example.com/callback, a
 * reserved domain that receives nothing).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { AppError } from '../../contract/errors.js';
import { pollTask, requestJson, type VendorRequest } from '../http.js';
import { ProviderError, providerErrorFromHttp, providerErrorFromNetwork, spent } from '../provider-error.js';
import { providerId, type ProviderContext, type ProviderDescriptor } from '../provider.js';
import { downloadAudio, fitVendorTrack, vendorTrackResult } from './fit.js';
import type { MusicComposer, MusicRequest, MusicResult } from './music.port.js';
import { MOOD_STYLES, musicTitle } from './prompt.js';

const NAME = 'suno';
const TIMEOUT_MS = 600_000;
export const SUNO_PLACEHOLDER_CALLBACK = 'https://api.example.com/callback';
const DEFAULT_POLL_MS = 5000;

const envelope = z.object({ code: z.number(), msg: z.string().nullish(), data: z.unknown() });
const createdSchema = z.object({ taskId: z.string().min(1) });
const songSchema = z.object({ id: z.string(), audioUrl: z.string().nullish(), duration: z.number().nullish() }).loose();
const recordSchema = z.object({
  taskId: z.string().optional(),
  status: z.string(),
  response: z.object({ sunoData: z.array(songSchema).nullish() }).loose().nullish(),
  errorCode: z.union([z.number(), z.string()]).nullish(),
  errorMessage: z.string().nullish(),
}).loose();
type Song = z.infer<typeof songSchema>;

/** What the gateway says when it will not make a track for the words it was given. */
const REFUSAL = /copyright|sensitive|policy|prohibited|not allowed/i;

/** The gateway's `code` as the HTTP status it stands for. */
const CODE_AS_HTTP: Record<number, number> = { 405: 429, 430: 429, 455: 503, 429: 402 };

/** A non-200 `code` as a ProviderError. */
export function codeError(code: number, msg: string): ProviderError {
  if (code === 429) return new ProviderError('provider_failed', NAME, `the account has too few credits (code 429): ${msg}`);
  const status = CODE_AS_HTTP[code] ?? code;
  return providerErrorFromHttp(NAME, status, {}, JSON.stringify({ message: `${msg} (code ${code})` }), { refused: status === 400 && REFUSAL.test(msg) });
}

const TERMINAL_FAILURES = new Set(['CREATE_TASK_FAILED', 'GENERATE_AUDIO_FAILED']);

export class SunoComposer implements MusicComposer {
  readonly id: string;
  private readonly base: string;
  private readonly pollMs: number;

  constructor(private readonly context: ProviderContext) {
    this.id = providerId(NAME, context.model);
    this.base = context.credentials.baseUrl;
    const poll = Number(context.settings.SUNO_POLL_INTERVAL_MS);
    this.pollMs = Number.isFinite(poll) && poll > 0 ? poll : DEFAULT_POLL_MS;
  }

  async compose(request: MusicRequest, outPath: string, signal: AbortSignal = new AbortController().signal): Promise<MusicResult> {
    if (signal.aborted) throw new AppError('aborted', 'music composition was cancelled');
    const styleMax = this.context.model === 'V4' || this.context.model === 'V3_5' ? 200 : 1000;
    const { taskId } = await this.call({ method: 'POST', url: `${this.base}/api/v1/generate`, signal, json: {
      customMode: true,
      instrumental: true,
      style: `${request.style ? `${request.style}, ` : ''}${MOOD_STYLES[request.mood].tags}, instrumental`.slice(0, styleMax),
      title: musicTitle(request, 80),
      model: this.context.model,
      callBackUrl: this.context.settings.SUNO_CALLBACK_URL ?? SUNO_PLACEHOLDER_CALLBACK,
    } }, createdSchema);
    // From here the generation is paid for: a failure falls back rather than starting another.
    return spent(() => this.finish(taskId, request, outPath, signal));
  }

  private async finish(taskId: string, request: MusicRequest, outPath: string, signal: AbortSignal): Promise<MusicResult> {
    const songs = await this.waitFor(taskId, signal);
    const song = songs[request.seed % songs.length] as Song;
    const work = await mkdtemp(join(dirname(outPath), '.suno-'));
    try {
      const track = await downloadAudio(this.context, NAME, song.audioUrl as string, work, signal);
      const fitted = await fitVendorTrack(this.context, NAME, track, outPath, { durationSec: request.durationSec }, signal);
      return vendorTrackResult(fitted, { generations: 1 }, { source: 'Suno (through sunoapi.org)', licence: "generated for the operator's account; use per its Suno plan's terms" });
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  /** Polls record-info until a track is ready (FIRST_SUCCESS is enough), or the task fails. */
  private async waitFor(taskId: string, signal: AbortSignal): Promise<Song[]> {
    const check = async (): Promise<Song[] | undefined> => {
      const record = await this.call({ url: `${this.base}/api/v1/generate/record-info`, query: { taskId }, signal }, recordSchema);
      const ready = (record.response?.sunoData ?? []).filter((s) => !!s.audioUrl).sort((a, b) => a.id.localeCompare(b.id));
      const why = record.errorMessage ?? `status ${record.status}`;
      switch (record.status) {
        case 'PENDING':
        case 'TEXT_SUCCESS':
          return undefined;
        case 'FIRST_SUCCESS':
          return ready.length > 0 ? ready : undefined;
        case 'SUCCESS':
        case 'CALLBACK_EXCEPTION': // our callback URL is a placeholder: the tracks may still be there
          if (ready.length > 0) return ready;
          throw new ProviderError(record.status === 'SUCCESS' ? 'provider_bad_response' : 'provider_failed', NAME, `task ${taskId} ended ${record.status} without a track: ${why}`);
        case 'SENSITIVE_WORD_ERROR':
          throw new ProviderError('provider_refused', NAME, `the prompt was refused (sensitive words): ${why}`);
        default:
          if (TERMINAL_FAILURES.has(record.status) || /FAIL|ERROR/.test(record.status)) {
            throw new ProviderError(REFUSAL.test(why) ? 'provider_refused' : 'provider_failed', NAME, `task ${taskId} ended ${record.status}: ${why}`);
          }
          return undefined; // a status this adapter does not know: keep waiting, the timeout bounds it
      }
    };
    try {
      return await pollTask(check, { intervalMs: this.pollMs, maxIntervalMs: this.pollMs * 3, signal });
    } catch (error) {
      throw providerErrorFromNetwork(NAME, error, signal);
    }
  }

  /** One gateway call: HTTP errors as usual, then the envelope's `code`, then the data's shape. */
  private async call<S extends z.ZodType>(request: Omit<VendorRequest, 'headers'>, schema: S): Promise<z.infer<S>> {
    const { data: answer } = await requestJson(NAME, { ...request, headers: { authorization: `Bearer ${this.context.credentials.apiKey}` } }, envelope);
    if (answer.code !== 200) throw codeError(answer.code, answer.msg ?? '');
    const parsed = schema.safeParse(answer.data);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ProviderError('provider_bad_response', NAME, `unexpected answer: data.${issue?.path.join('.') || ''}: ${issue?.message}`);
    }
    return parsed.data as z.infer<S>;
  }
}

export const sunoDescriptor: ProviderDescriptor<MusicComposer> = {
  name: NAME,
  stage: 'score',
  vendor: 'Suno (through the sunoapi.org gateway)',
  keyEnv: 'SUNO_API_KEY',
  tenantKey: 'suno',
  baseUrlEnv: 'SUNO_BASE_URL',
  defaultBaseUrl: 'https://api.sunoapi.org',
  models: { economy: 'V4', standard: 'V4_5', premium: 'V5' },
  settings: ['SUNO_CALLBACK_URL', 'SUNO_POLL_INTERVAL_MS'],
  timeoutMs: TIMEOUT_MS,
  // A call starts a paid task and waits for it: a timed-out one is not started again.
  retryTimeouts: false,
  sends: "the music mood's style words and a title from the brief's first line (up to 80 characters); a callback URL (SUNO_CALLBACK_URL or a placeholder)",
  create: (context) => new SunoComposer(context),
  async probe(context, signal) {
    const { data } = await requestJson(NAME, { url: `${context.credentials.baseUrl}/api/v1/generate/credit`, headers: { authorization: `Bearer ${context.credentials.apiKey}` }, signal }, envelope);
    if (data.code !== 200) throw codeError(data.code, data.msg ?? '');
    return `key accepted (${typeof data.data === 'number' ? data.data : '?'} credits left)`;
  },
};
