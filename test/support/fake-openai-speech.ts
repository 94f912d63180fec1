/**
 * A local OpenAI speech API (chat lives in fake-openai.ts), as documented in the API reference and
 * sent by the official `openai` SDK (v6):
 *
 * - `POST /v1/audio/speech` JSON `{ model, voice, input, response_format: mp3|wav|pcm|…, speed }`
 *   → the audio bytes (pcm: 24 kHz 16-bit signed little-endian mono, no header).
 * - `GET /v1/models` → `{ object: "list", data: [{ id, object: "model", created, owned_by }] }`.
 * - Auth: `Authorization: Bearer <key>`; a wrong key → 401 `invalid_api_key`.
 * - Errors: `{ error: { message, type, param, code } }`: 429 `rate_limit_exceeded` (Retry-After),
 *   500 `server_error`, 400 `content_policy_violation` for a refused input, 400 for invalid fields
 *   (unknown model or voice, input over 4096 characters, speed outside 0.25–4).
 *
 * Speech comes from eSpeak (fake-speech.ts); `truth` holds eSpeak's word timings, which an adapter
 * that measures timings from the audio should approach.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WordTiming } from '../../src/providers/tts/tts.port.js';
import { encode, readBody, speak, warmSpeech, type FakeScenario } from './fake-speech.js';

const MODELS = ['tts-1', 'tts-1-hd', 'gpt-4o-mini-tts'];
const VOICES = ['alloy', 'ash', 'ballad', 'coral', 'echo', 'fable', 'nova', 'onyx', 'sage', 'shimmer', 'verse'];
const FORMATS: Record<string, { type: string; encoding: 'pcm' | 'wav' | 'mp3' }> = {
  pcm: { type: 'audio/pcm', encoding: 'pcm' },
  wav: { type: 'audio/wav', encoding: 'wav' },
  mp3: { type: 'audio/mpeg', encoding: 'mp3' },
};

export interface OpenAiSpeechBody {
  model?: string;
  voice?: string;
  input?: string;
  response_format?: string;
  speed?: number;
}

export class FakeOpenAiSpeech {
  url = '';
  readonly keysSeen: Array<string | undefined> = [];
  readonly requests: string[] = [];
  readonly requestTimes: number[] = [];
  readonly bodies: OpenAiSpeechBody[] = [];
  readonly unexpected: string[] = [];
  truth: WordTiming[] = [];
  private failures: { scenario: FakeScenario; times: number } | undefined;
  private readonly server: Server;

  private constructor(private readonly apiKey: string) {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  /** `url` ends in /v1, as OPENAI_BASE_URL does. */
  static async start(options: { apiKey?: string } = {}): Promise<FakeOpenAiSpeech> {
    const fake = new FakeOpenAiSpeech(options.apiKey ?? 'sk-test-key');
    await warmSpeech();
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    fake.url = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}/v1`;
    return fake;
  }

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
    const auth = req.headers.authorization;
    const key = auth?.startsWith('Bearer ') ? auth.slice('Bearer '.length) : undefined;
    this.keysSeen.push(key);
    const raw = await readBody(req);
    const path = new URL(target, 'http://fake').pathname;
    if (key !== this.apiKey) {
      const shown = key ? `${key.slice(0, 3)}*****${key.slice(-2)}` : '';
      return openAiError(res, 401, key ? `Incorrect API key provided: ${shown}. You can find your API key at https://platform.openai.com/account/api-keys.` : "You didn't provide an API key.", 'invalid_request_error', key ? 'invalid_api_key' : null);
    }
    const failure = this.takeFailure();
    if (failure === 'hang') return;
    if (failure === 'rate_limited') return openAiError(res, 429, 'Rate limit reached for requests. Please try again in 1s.', 'requests', 'rate_limit_exceeded', { 'retry-after': '1' });
    if (failure === 'server_error') return openAiError(res, 500, 'The server had an error while processing your request. Sorry about that!', 'server_error', null);
    if (failure === 'malformed') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end('{"object": "audio", "data": ');
    }
    if (failure === 'refused') return openAiError(res, 400, 'Your request was rejected as a result of our safety system.', 'invalid_request_error', 'content_policy_violation');
    if (failure === 'invalid') return openAiError(res, 400, 'Invalid request.', 'invalid_request_error', null);

    if (req.method === 'GET' && path === '/v1/models') {
      const data = [...MODELS, 'gpt-4o-mini'].map((id) => ({ id, object: 'model', created: 1_700_000_000, owned_by: 'openai' }));
      return json(res, 200, { object: 'list', data });
    }
    if (req.method === 'POST' && path === '/v1/audio/speech') return this.speech(res, raw);
    this.unexpected.push(`${req.method} ${target}`);
    return openAiError(res, 501, `the fake does not implement ${req.method} ${path}`, 'invalid_request_error', null);
  }

  private async speech(res: ServerResponse, raw: string): Promise<void> {
    let body: OpenAiSpeechBody;
    try {
      body = JSON.parse(raw) as OpenAiSpeechBody;
    } catch {
      return openAiError(res, 400, 'We could not parse the JSON body of your request.', 'invalid_request_error', null);
    }
    this.bodies.push(body);
    if (!body.model || !MODELS.includes(body.model)) return openAiError(res, 400, `Invalid value for 'model' = ${body.model}.`, 'invalid_request_error', 'invalid_value', {}, 'model');
    if (!body.voice || !VOICES.includes(body.voice)) return openAiError(res, 400, `Invalid value for 'voice' = ${body.voice}.`, 'invalid_request_error', 'invalid_value', {}, 'voice');
    if (typeof body.input !== 'string' || body.input.length === 0) return openAiError(res, 400, "Missing required parameter: 'input'.", 'invalid_request_error', 'missing_required_parameter', {}, 'input');
    if (body.input.length > 4096) return openAiError(res, 400, `'input' is too long: ${body.input.length} characters, at most 4096.`, 'invalid_request_error', 'string_above_max_length', {}, 'input');
    const speed = body.speed ?? 1;
    if (speed < 0.25 || speed > 4) return openAiError(res, 400, `Invalid 'speed': ${speed}, expected 0.25 to 4.`, 'invalid_request_error', 'invalid_value', {}, 'speed');
    const format = FORMATS[body.response_format ?? 'mp3'];
    if (!format) return openAiError(res, 400, `Invalid value for 'response_format' = ${body.response_format}.`, 'invalid_request_error', 'invalid_value', {}, 'response_format');
    const speech = await speak(body.input, { rate: speed, sampleRate: 24_000 });
    this.truth = speech.words;
    const audio = await encode(speech, format.encoding);
    res.writeHead(200, { 'content-type': format.type, 'content-length': String(audio.length) });
    res.end(audio);
  }

  private takeFailure(): FakeScenario | undefined {
    if (!this.failures) return undefined;
    const { scenario } = this.failures;
    this.failures.times -= 1;
    if (this.failures.times <= 0) this.failures = undefined;
    return scenario;
  }
}

function openAiError(res: ServerResponse, status: number, message: string, type: string, code: string | null, headers: Record<string, string> = {}, param: string | null = null): void {
  json(res, status, { error: { message, type, param, code } }, headers);
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}
