/**
 * A local ElevenLabs for the text-to-speech adapter (music and sound effects live in
 * fake-elevenlabs-audio.ts). Shapes as documented in the API reference and the official
 * `@elevenlabs/elevenlabs-js` SDK (v2.73 serializers):
 *
 * - `POST /v1/text-to-speech/{voice_id}/with-timestamps?output_format=pcm_24000|mp3_44100_128`,
 *   JSON `{ text, model_id, voice_settings: { speed } }` → `{ audio_base64, alignment,
 *   normalized_alignment }`, each alignment `{ characters, character_start_times_seconds,
 *   character_end_times_seconds }` (one entry per character of the text).
 * - `GET /v1/models` → `[{ model_id, name, can_do_text_to_speech, languages }]`.
 * - Auth: header `xi-api-key`; a missing or wrong key → 401 `{ detail: { status: "invalid_api_key", message } }`.
 * - Errors: `{ detail: { status, message } }`; request validation → 422 `{ detail: [{ loc, msg, type }] }`;
 *   unknown voice → 404 `voice_not_found`; 429 with Retry-After.
 *
 * The audio is real speech: eSpeak speaks the text (fake-speech.ts), and the character times come
 * from eSpeak's word timings, so `truth` holds the timings an adapter should find.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WordTiming } from '../../src/providers/tts/tts.port.js';
import { encode, readBody, speak, warmSpeech, type FakeScenario } from './fake-speech.js';

const VOICES = new Set(['21m00Tcm4TlvDq8EDUAs', 'EXAVITQu4vr4xnSDxMaL', 'pNInz6obpgDQGcFmaJgB', 'ErXwobaYiN019PkySvjV', 'onwK4e9ZLuTAKqWW03F9', 'XB0fDUnXU5powFXDhCwa']);
const MODELS = ['eleven_multilingual_v2', 'eleven_flash_v2_5', 'eleven_turbo_v2_5'];

export interface ElevenLabsSpeechCall {
  voiceId: string;
  outputFormat: string | null;
  body: { text?: string; model_id?: string; voice_settings?: { speed?: number } };
  at: number;
}

export class FakeElevenLabs {
  url = '';
  /** The key of every request, in order (undefined: none sent). */
  readonly keysSeen: Array<string | undefined> = [];
  /** Every request, as `METHOD /path?query`. */
  readonly requests: string[] = [];
  /** When each request arrived (ms since the epoch). */
  readonly requestTimes: number[] = [];
  readonly speechCalls: ElevenLabsSpeechCall[] = [];
  /** Requests the fake does not implement (answered 501); a test should expect none. */
  readonly unexpected: string[] = [];
  /** eSpeak's word timings of the last speech answered. */
  truth: WordTiming[] = [];
  private failures: { scenario: FakeScenario; times: number } | undefined;
  private readonly server: Server;

  private constructor(private readonly apiKey: string) {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  static async start(options: { apiKey?: string } = {}): Promise<FakeElevenLabs> {
    const fake = new FakeElevenLabs(options.apiKey ?? 'xi-test-key');
    await warmSpeech();
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    fake.url = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
    return fake;
  }

  /** The next `times` requests (default: all) fail with `scenario`. */
  fail(scenario: FakeScenario, times = Number.POSITIVE_INFINITY): void {
    this.failures = { scenario, times };
  }

  ok(): void {
    this.failures = undefined;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = req.url ?? '/';
    this.requests.push(`${req.method} ${target}`);
    this.requestTimes.push(Date.now());
    const key = req.headers['xi-api-key'];
    this.keysSeen.push(typeof key === 'string' ? key : undefined);
    const body = await readBody(req);
    const url = new URL(target, 'http://fake');
    if (key !== this.apiKey) return json(res, 401, { detail: { status: 'invalid_api_key', message: 'Invalid API key' } });
    const failure = this.takeFailure();
    if (failure === 'hang') return;
    if (failure === 'rate_limited') return json(res, 429, { detail: { status: 'too_many_concurrent_requests', message: 'Too many concurrent requests.' } }, { 'retry-after': '1' });
    if (failure === 'server_error') return json(res, 500, { detail: { status: 'internal_error', message: 'An internal error occurred.' } });
    if (failure === 'malformed') return send(res, 200, 'application/json', '{"audio_base64": "AAAA", "alignment": ');
    if (failure === 'refused') {
      return json(res, 400, { detail: { status: 'content_against_policy', message: 'This request was flagged by our content policy (moderation).' } });
    }
    if (failure === 'invalid') return json(res, 400, { detail: { status: 'invalid_request', message: 'The request is invalid.' } });

    if (req.method === 'GET' && url.pathname === '/v1/models') {
      return json(res, 200, MODELS.map((id) => ({ model_id: id, name: id, can_do_text_to_speech: true, languages: [{ language_id: 'en', name: 'English' }] })));
    }
    const match = /^\/v1\/text-to-speech\/([^/]+)\/with-timestamps$/.exec(url.pathname);
    if (req.method === 'POST' && match) return this.speech(res, decodeURIComponent(match[1] as string), url, body);
    this.unexpected.push(`${req.method} ${target}`);
    return json(res, 501, { detail: { status: 'not_implemented', message: `the fake does not implement ${req.method} ${url.pathname}` } });
  }

  private async speech(res: ServerResponse, voiceId: string, url: URL, raw: string): Promise<void> {
    let body: ElevenLabsSpeechCall['body'];
    try {
      body = JSON.parse(raw) as ElevenLabsSpeechCall['body'];
    } catch {
      return json(res, 400, { detail: { status: 'invalid_json', message: 'Request body is not valid JSON.' } });
    }
    const outputFormat = url.searchParams.get('output_format');
    this.speechCalls.push({ voiceId, outputFormat, body, at: Date.now() });
    if (typeof body.text !== 'string' || body.text.length === 0) {
      return json(res, 422, { detail: [{ loc: ['body', 'text'], msg: 'field required', type: 'value_error.missing' }] });
    }
    if (body.model_id !== undefined && !MODELS.includes(body.model_id)) {
      return json(res, 400, { detail: { status: 'model_not_found', message: `A model with model ID ${body.model_id} does not exist.` } });
    }
    if (!VOICES.has(voiceId)) return json(res, 404, { detail: { status: 'voice_not_found', message: `A voice with voice_id ${voiceId} was not found.` } });
    const speed = body.voice_settings?.speed ?? 1;
    if (speed < 0.7 || speed > 1.2) return json(res, 422, { detail: [{ loc: ['body', 'voice_settings', 'speed'], msg: 'ensure this value is between 0.7 and 1.2', type: 'value_error' }] });
    const format = outputFormat ?? 'mp3_44100_128';
    const pcmRate = /^pcm_(\d+)$/.exec(format);
    const speech = await speak(body.text, { rate: speed, sampleRate: pcmRate ? Number(pcmRate[1]) : 44_100 });
    this.truth = speech.words;
    const audio = await encode(speech, pcmRate ? 'pcm' : 'mp3');
    const alignment = characterAlignment(body.text, speech.words);
    return json(res, 200, { audio_base64: audio.toString('base64'), alignment, normalized_alignment: alignment });
  }

  private takeFailure(): FakeScenario | undefined {
    if (!this.failures) return undefined;
    const { scenario } = this.failures;
    this.failures.times -= 1;
    if (this.failures.times <= 0) this.failures = undefined;
    return scenario;
  }
}

/** One entry per character: characters inside a word share its time linearly; others sit between words. */
function characterAlignment(text: string, words: readonly WordTiming[]): { characters: string[]; character_start_times_seconds: number[]; character_end_times_seconds: number[] } {
  const characters: string[] = [];
  const starts: number[] = [];
  const ends: number[] = [];
  let offset = 0;
  let last = 0;
  for (const ch of text) {
    const word = words.find((w) => offset >= w.charStart && offset < w.charEnd);
    let start = last;
    let end = last;
    if (word) {
      const span = Math.max(1, word.charEnd - word.charStart);
      const per = (word.endSec - word.startSec) / span;
      start = word.startSec + per * (offset - word.charStart);
      end = start + per * ch.length;
    }
    characters.push(ch);
    starts.push(Math.round(start * 1000) / 1000);
    ends.push(Math.round(end * 1000) / 1000);
    last = end;
    offset += ch.length;
  }
  return { characters, character_start_times_seconds: starts, character_end_times_seconds: ends };
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  send(res, status, 'application/json', JSON.stringify(body), headers);
}

function send(res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': type, 'content-length': String(Buffer.byteLength(body)), ...headers });
  res.end(body);
}
