/**
 * ElevenLabs sound effects through the official SDK (`client.textToSoundEffects.convert` →
 * `POST /v1/sound-generation`): one generation per distinct kind a stem needs, from a short
 * description and a length per kind, placed on the stem by stem.ts. The API takes no seed, so the
 * same stem may sound slightly different each time it is generated (a cached stem does not).
 */
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { lazyElevenLabs, type ElevenLabsClient } from '../elevenlabs-sdk.js';
import type { SfxKind } from '../../contract/brief.js';
import { providerErrorFromSdk } from '../http.js';
import { providerId, type ProviderContext, type ProviderDescriptor, type ProviderMedia } from '../provider.js';
import { probeElevenLabs } from '../music/elevenlabs.adapter.js';
import type { SoundEffectsLibrary } from './sfx.port.js';
import { type FetchedEffect, VendorSfxLibrary } from './stem.js';

const NAME = 'elevenlabs-sfx';
const TIMEOUT_MS = 60_000;
/** How closely the sound follows the words (0–1; the API's default is 0.3). */
const PROMPT_INFLUENCE = 0.6;

/** What each kind is asked as, and how long (the API takes 0.5 to 30 s). */
export const ELEVENLABS_EFFECTS: Record<SfxKind, { text: string; seconds: number }> = {
  whoosh: { text: 'A fast cinematic whoosh passing from left to right, clean, no music', seconds: 1 },
  riser: { text: 'A rising cinematic riser building tension, synth noise sweeping upward', seconds: 2 },
  impact: { text: 'A deep cinematic impact hit with a short boom tail', seconds: 1.5 },
  click: { text: 'A single crisp user-interface click', seconds: 0.5 },
  pop: { text: 'A short soft bubble pop', seconds: 0.5 },
  chime: { text: 'A bright, pleasant notification chime, single bell tone ringing out', seconds: 2 },
  ambience: { text: 'Quiet room tone ambience with a soft distant hum, no voices', seconds: 4 },
  swell: { text: 'A warm orchestral swell rising and fading, no percussion', seconds: 2.5 },
};

const refusedWhen = (status: number, body: string): boolean => status >= 400 && status < 500 && /content_against_policy|bad_prompt|policy/.test(body);

export class ElevenLabsSfxLibrary extends VendorSfxLibrary {
  readonly id: string;
  protected readonly provider = NAME;
  protected readonly media: ProviderMedia;
  protected readonly timeoutMs = TIMEOUT_MS;
  private readonly client: () => Promise<ElevenLabsClient>;

  /** `sdkTimeoutMs`: as for ElevenLabsComposer (music/elevenlabs.adapter.ts). */
  constructor(private readonly context: ProviderContext, options: { sdkTimeoutMs?: number } = {}) {
    super();
    this.id = providerId(NAME, context.model);
    this.media = context.media;
    this.client = lazyElevenLabs({ apiKey: context.credentials.apiKey, baseUrl: context.credentials.baseUrl, maxRetries: 0, timeoutInSeconds: (options.sdkTimeoutMs ?? TIMEOUT_MS) / 1000 });
  }

  protected async fetchEffect(kind: SfxKind, _seed: number, dir: string, signal: AbortSignal): Promise<FetchedEffect> {
    const { text, seconds } = ELEVENLABS_EFFECTS[kind];
    const path = join(dir, `${kind}.mp3`);
    try {
      const stream = await (await this.client()).textToSoundEffects.convert(
        { text, durationSeconds: seconds, promptInfluence: PROMPT_INFLUENCE, modelId: this.context.model as 'eleven_text_to_sound_v2', outputFormat: 'mp3_44100_128' },
        { abortSignal: signal },
      );
      await pipeline(Readable.fromWeb(stream as WebReadableStream<Uint8Array>), createWriteStream(path), { signal });
    } catch (error) {
      throw providerErrorFromSdk(NAME, error, signal, refusedWhen);
    }
    return { path, usage: { secondsOfAudio: seconds } };
  }
}

export const elevenLabsSfxDescriptor: ProviderDescriptor<SoundEffectsLibrary> = {
  name: NAME,
  stage: 'foley',
  vendor: 'ElevenLabs',
  keyEnv: 'ELEVENLABS_API_KEY',
  tenantKey: 'elevenlabs',
  baseUrlEnv: 'ELEVENLABS_BASE_URL',
  defaultBaseUrl: 'https://api.elevenlabs.io',
  models: { standard: 'eleven_text_to_sound_v2', premium: 'eleven_text_to_sound_v2' },
  timeoutMs: TIMEOUT_MS,
  sends: 'a fixed description and length per effect kind (e.g. "a fast cinematic whoosh"); nothing from the brief',
  create: (context) => new ElevenLabsSfxLibrary(context),
  probe: (context, signal) => probeElevenLabs(NAME, context, signal),
};
