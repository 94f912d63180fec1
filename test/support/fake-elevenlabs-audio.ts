/**
 * A local ElevenLabs for the music and sound-effect adapters, speaking the shapes of its API
 * reference and of the official SDK (@elevenlabs/elevenlabs-js 2.73, api/resources/music and
 * textToSoundEffects):
 *
 * - `POST /v1/music[?output_format=…]` with JSON `{ prompt, music_length_ms, model_id, force_instrumental }`
 *   → 200 `audio/mpeg` bytes. A prompt the service will not compose (copyrighted material, by the
 *   music guide) → `{ detail: { status: "bad_prompt", message, data: { prompt_suggestion } } }`; the
 *   guide names the error, not its HTTP status: the fake answers 400.
 * - `POST /v1/sound-generation[?output_format=…]` with `{ text, duration_seconds, prompt_influence, model_id }`
 *   → 200 `audio/mpeg` bytes. Its refusal shape is not documented; the fake answers 400 with
 *   `detail.status` "content_against_policy" in the same error shape.
 * - `GET /v1/user` → the user's subscription JSON.
 * - Auth: the `xi-api-key` header; a wrong or missing one → 401
 *   `{ detail: { status: "invalid_api_key", message: "Invalid API key" } }`.
 * - Errors carry ElevenLabs' `{ detail: { status, message } }`; validation errors (422) FastAPI's
 *   `{ detail: [{ loc, msg, type }] }`.
 *
 * Scenarios (`scenario`, or `failNext(s, times)` for the next requests only): 401, 429 with
 * Retry-After, 500, hang (no answer), malformed (200 with bytes that are not audio / JSON that does
 * not parse), refused (the content-policy answer above).
 *
 * @example
 *   const fake = await FakeElevenLabsAudio.start({ apiKey: 'xi-test' });
 *   fake.music = 'short'; // answer with a 4 s track (the adapter must loop it)
 */
import type { IncomingMessage } from 'node:http';
import { fakeAudioFiles, type FakeAudioFiles } from './fake-audio-files.js';
import { FakeAudioVendor, type RecordedRequest, type Reply } from './fake-audio-vendor.js';

export type ElevenLabsScenario = 'ok' | 'unauthorized' | 'rate-limited' | 'server-error' | 'hang' | 'malformed' | 'refused';

export class FakeElevenLabsAudio extends FakeAudioVendor {
  scenario: ElevenLabsScenario = 'ok';
  /** Which track /v1/music answers with. */
  music: 'short' | 'long' = 'long';
  private queued: ElevenLabsScenario[] = [];
  private files!: FakeAudioFiles;

  private constructor(readonly apiKey: string) {
    super();
  }

  static async start(options: { apiKey: string }): Promise<FakeElevenLabsAudio> {
    const fake = new FakeElevenLabsAudio(options.apiKey);
    fake.files = await fakeAudioFiles();
    await fake.listen();
    return fake;
  }

  /** The next `times` requests answer with `scenario`, then `scenario` applies again. */
  failNext(scenario: ElevenLabsScenario, times = 1): void {
    this.queued.push(...Array.from({ length: times }, () => scenario));
  }

  protected keyOf(req: IncomingMessage): string | undefined {
    const key = req.headers['xi-api-key'];
    return typeof key === 'string' ? key : undefined;
  }

  protected route(request: RecordedRequest): Reply | undefined | Promise<Reply> {
    const known = (request.method === 'POST' && (request.path === '/v1/music' || request.path === '/v1/sound-generation')) || (request.method === 'GET' && request.path === '/v1/user');
    if (!known) return undefined;
    if (request.key !== this.apiKey) return error(401, 'invalid_api_key', 'Invalid API key');
    const scenario = this.queued.shift() ?? this.scenario;
    if (scenario === 'hang') return NEVER;
    if (scenario === 'unauthorized') return error(401, 'invalid_api_key', 'Invalid API key');
    if (scenario === 'rate-limited') return { ...error(429, 'too_many_concurrent_requests', 'Too many concurrent requests.'), headers: { 'retry-after': '1' } };
    if (scenario === 'server-error') return error(500, 'internal_server_error', 'An internal error occurred.');
    if (request.path === '/v1/user') {
      if (scenario === 'malformed') return { status: 200, headers: { 'content-type': 'application/json' }, body: '{"subscription": ' };
      return { status: 200, body: { user_id: 'user-1', subscription: { tier: 'creator', character_count: 10, character_limit: 100_000, status: 'active' } } };
    }
    const body = (request.body ?? {}) as Record<string, unknown>;
    if (request.path === '/v1/music') {
      const length = body.music_length_ms;
      if (typeof body.prompt !== 'string' || !body.prompt) return validation(['body', 'prompt'], 'Field required');
      if (length !== undefined && (typeof length !== 'number' || length < 3000 || length > 600_000)) return validation(['body', 'music_length_ms'], 'must be between 3000 and 600000');
      if (scenario === 'refused') {
        return { status: 400, body: { detail: { status: 'bad_prompt', message: 'The prompt references copyrighted material.', data: { prompt_suggestion: 'An uplifting instrumental pop track.' } } } };
      }
    } else {
      const duration = body.duration_seconds;
      if (typeof body.text !== 'string' || !body.text) return validation(['body', 'text'], 'Field required');
      if (duration !== undefined && duration !== null && (typeof duration !== 'number' || duration < 0.5 || duration > 30)) return validation(['body', 'duration_seconds'], 'must be between 0.5 and 30');
      if (scenario === 'refused') return error(400, 'content_against_policy', 'The text violates the content policy.');
    }
    if (scenario === 'malformed') return { status: 200, headers: { 'content-type': 'audio/mpeg' }, body: Buffer.from('this is not audio at all, just text pretending to be audio') };
    const audio = request.path === '/v1/music' ? this.files[this.music] : this.files.effect;
    return { status: 200, headers: { 'content-type': 'audio/mpeg' }, body: audio };
  }
}

/** An answer that never comes (the connection stays open until the client gives up). */
const NEVER = new Promise<Reply>(() => undefined);

function error(status: number, code: string, message: string): Reply {
  return { status, body: { detail: { status: code, message } } };
}

function validation(loc: string[], msg: string): Reply {
  return { status: 422, body: { detail: [{ loc, msg, type: 'value_error' }] } };
}
