/**
 * ElevenLabs Music through the official SDK (`client.music.compose` → `POST /v1/music`): a prompt
 * written from the mood and the brief, `force_instrumental`, and the video's length as
 * `music_length_ms`. The service composes a track of about that length; fit.ts makes it exact
 * (a cut with a fade, or a loop when the length had to be raised to the service's minimum).
 *
 * The API does not say which key, tempo or chords it chose, so the result reports 0, "unknown"
 * and [] (the port's "vendor did not say").
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { lazyElevenLabs, type ElevenLabsClient } from '../elevenlabs-sdk.js';
import { z } from 'zod';
import { AppError } from '../../contract/errors.js';
import { providerErrorFromSdk, requestJson } from '../http.js';
import { providerId, type ProviderContext, type ProviderDescriptor } from '../provider.js';
import { fitVendorTrack, vendorTrackResult } from './fit.js';
import type { MusicComposer, MusicRequest, MusicResult } from './music.port.js';
import { musicPrompt } from './prompt.js';

const NAME = 'elevenlabs-music';
const TIMEOUT_MS = 300_000;
/**
 * Lengths the service accepts. The API reference says 3 s to 10 min; the SDK's own guide says
 * 10 s to 5 min for the first model. Asking within both is safe; fit.ts does the rest.
 */
export const MUSIC_MIN_MS = 10_000;
export const MUSIC_MAX_MS = 300_000;

/**
 * A prompt the service will not compose: its music guide names the errors `bad_prompt` (with a
 * `prompt_suggestion`) and `bad_composition_plan`, not their HTTP status, so any 4xx carrying them.
 */
const refusedWhen = (status: number, body: string): boolean => status >= 400 && status < 500 && /bad_prompt|bad_composition_plan|content_against_policy/.test(body);

export function requestedLengthMs(durationSec: number): number {
  return Math.min(MUSIC_MAX_MS, Math.max(MUSIC_MIN_MS, Math.round(durationSec * 1000)));
}

export class ElevenLabsComposer implements MusicComposer {
  readonly id: string;
  private readonly client: () => Promise<ElevenLabsClient>;

  /**
   * `sdkTimeoutMs`: the SDK's own per-request limit, the provider's timeout by default so it never
   * cuts in before the guard's. (SDK 2.73 leaves that timer running when a request is cancelled, so
   * a cancelled call keeps the process alive this long; tests pass a short one.)
   */
  constructor(private readonly context: ProviderContext, options: { sdkTimeoutMs?: number } = {}) {
    this.id = providerId(NAME, context.model);
    this.client = lazyElevenLabs({
      apiKey: context.credentials.apiKey,
      baseUrl: context.credentials.baseUrl,
      maxRetries: 0,
      timeoutInSeconds: (options.sdkTimeoutMs ?? TIMEOUT_MS) / 1000,
    });
  }

  async compose(request: MusicRequest, outPath: string, signal: AbortSignal = new AbortController().signal): Promise<MusicResult> {
    if (signal.aborted) throw new AppError('aborted', 'music composition was cancelled');
    const lengthMs = requestedLengthMs(request.durationSec);
    const work = await mkdtemp(join(dirname(outPath), '.elevenlabs-music-'));
    try {
      const track = join(work, 'track.mp3');
      try {
        const stream = await (await this.client()).music.compose(
          { prompt: musicPrompt(request), musicLengthMs: lengthMs, modelId: this.context.model as 'music_v1', forceInstrumental: true, outputFormat: 'mp3_44100_128' },
          { abortSignal: signal },
        );
        await pipeline(Readable.fromWeb(stream as WebReadableStream<Uint8Array>), createWriteStream(track), { signal });
      } catch (error) {
        throw providerErrorFromSdk(NAME, error, signal, refusedWhen);
      }
      const fitted = await fitVendorTrack(this.context, NAME, track, outPath, { durationSec: request.durationSec }, signal);
      return vendorTrackResult(fitted, { secondsOfAudio: lengthMs / 1000 }, { source: 'ElevenLabs Music', licence: "generated for the operator's ElevenLabs account; use per its plan's terms" });
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }
}

const userSchema = z.object({ subscription: z.object({ tier: z.string().optional() }).loose().optional() }).loose();

/** GET /v1/user with the key: cheap, and says whether the key is valid. */
export async function probeElevenLabs(provider: string, context: ProviderContext, signal: AbortSignal): Promise<string> {
  const { data } = await requestJson(provider, { url: `${context.credentials.baseUrl}/v1/user`, headers: { 'xi-api-key': context.credentials.apiKey }, signal }, userSchema);
  return `key accepted (subscription ${data.subscription?.tier ?? 'unknown'})`;
}

export const elevenLabsMusicDescriptor: ProviderDescriptor<MusicComposer> = {
  name: NAME,
  stage: 'score',
  vendor: 'ElevenLabs',
  keyEnv: 'ELEVENLABS_API_KEY',
  tenantKey: 'elevenlabs',
  baseUrlEnv: 'ELEVENLABS_BASE_URL',
  defaultBaseUrl: 'https://api.elevenlabs.io',
  models: { standard: 'music_v1', premium: 'music_v1' },
  timeoutMs: TIMEOUT_MS,
  sends: "a text prompt: the music mood's style words and the brief's title and first lines (up to 300 characters), and the requested length",
  create: (context) => new ElevenLabsComposer(context),
  probe: (context, signal) => probeElevenLabs(NAME, context, signal),
};
