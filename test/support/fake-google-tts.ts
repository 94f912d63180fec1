/**
 * A local Google Cloud Text-to-Speech (REST), as documented in the API reference
 * (texttospeech.googleapis.com, v1beta1 `text.synthesize`, v1 `voices.list`):
 *
 * - `POST /v1beta1/text:synthesize` with `{ input: { text | ssml }, voice: { languageCode, name },
 *   audioConfig: { audioEncoding: "LINEAR16" | "MP3", sampleRateHertz, speakingRate },
 *   enableTimePointing: ["SSML_MARK"] }` → `{ audioContent (base64; LINEAR16 includes the WAV
 *   header), timepoints: [{ markName, timeSeconds }], audioConfig }`.
 * - `GET /v1/voices?languageCode=` → `{ voices: [{ languageCodes, name, ssmlGender, naturalSampleRateHertz }] }`.
 * - API key in `x-goog-api-key` or `?key=`; none → 403 PERMISSION_DENIED; a wrong one → 400
 *   INVALID_ARGUMENT with reason API_KEY_INVALID (Google's behaviour, not 401).
 * - Errors: `{ error: { code, message, status, details? } }`; malformed SSML, input over 5,000 bytes
 *   and unknown voices are 400 INVALID_ARGUMENT; 429 RESOURCE_EXHAUSTED (with Retry-After here); 500 INTERNAL.
 *
 * Speech comes from eSpeak (fake-speech.ts); each mark's time is the start of the word eSpeak
 * speaks at the mark's position, so `truth` holds the timings an adapter should find. Google has
 * no content refusal for speech: the `refused` scenario answers a plain 400 INVALID_ARGUMENT.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WordTiming } from '../../src/providers/tts/tts.port.js';
import { encode, readBody, speak, warmSpeech, type FakeScenario } from './fake-speech.js';

const VOICE_NAME = /^([a-z]{2,3}-[A-Z]{2})-(Standard|Wavenet|Neural2)-[A-Z]$/;

export interface GoogleSynthesizeBody {
  input?: { text?: string; ssml?: string };
  voice?: { languageCode?: string; name?: string };
  audioConfig?: { audioEncoding?: string; sampleRateHertz?: number; speakingRate?: number };
  enableTimePointing?: string[];
}

export class FakeGoogleTts {
  url = '';
  readonly keysSeen: Array<string | undefined> = [];
  readonly requests: string[] = [];
  readonly requestTimes: number[] = [];
  readonly bodies: GoogleSynthesizeBody[] = [];
  readonly unexpected: string[] = [];
  /** eSpeak's word timings of the last speech, offsets into the SSML's plain text. */
  truth: WordTiming[] = [];
  /** The plain text of the last SSML spoken. */
  lastPlainText = '';
  private failures: { scenario: FakeScenario; times: number } | undefined;
  private readonly server: Server;

  private constructor(private readonly apiKey: string) {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  static async start(options: { apiKey?: string } = {}): Promise<FakeGoogleTts> {
    const fake = new FakeGoogleTts(options.apiKey ?? 'AIza-test-key');
    await warmSpeech();
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    fake.url = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
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
    this.requests.push(`${req.method} ${target.replace(/key=[^&]*/, 'key=…')}`);
    this.requestTimes.push(Date.now());
    const url = new URL(target, 'http://fake');
    const header = req.headers['x-goog-api-key'];
    const key = typeof header === 'string' ? header : (url.searchParams.get('key') ?? undefined);
    this.keysSeen.push(key);
    const raw = await readBody(req);
    if (key === undefined) {
      return googleError(res, 403, 'PERMISSION_DENIED', "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.");
    }
    if (key !== this.apiKey) {
      return googleError(res, 400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.', [
        { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com' },
      ]);
    }
    const failure = this.takeFailure();
    if (failure === 'hang') return;
    if (failure === 'rate_limited') return googleError(res, 429, 'RESOURCE_EXHAUSTED', 'Quota exceeded for quota metric \'Requests\'.', undefined, { 'retry-after': '1' });
    if (failure === 'server_error') return googleError(res, 500, 'INTERNAL', 'Internal error encountered.');
    if (failure === 'malformed') return send(res, 200, '{"audioContent": "UklGRg==", "timepoints": [');
    if (failure === 'refused' || failure === 'invalid') return googleError(res, 400, 'INVALID_ARGUMENT', 'Request contains an invalid argument.');

    if (req.method === 'GET' && url.pathname === '/v1/voices') {
      const lang = url.searchParams.get('languageCode') ?? 'en-US';
      const voices = ['Standard-C', 'Wavenet-F', 'Neural2-F'].map((v) => ({ languageCodes: [lang], name: `${lang}-${v}`, ssmlGender: 'FEMALE', naturalSampleRateHertz: 24_000 }));
      return send(res, 200, JSON.stringify({ voices }));
    }
    if (req.method === 'POST' && url.pathname === '/v1beta1/text:synthesize') return this.synthesize(res, raw);
    this.unexpected.push(`${req.method} ${url.pathname}`);
    return googleError(res, 501, 'UNIMPLEMENTED', `the fake does not implement ${req.method} ${url.pathname}`);
  }

  private async synthesize(res: ServerResponse, raw: string): Promise<void> {
    let body: GoogleSynthesizeBody;
    try {
      body = JSON.parse(raw) as GoogleSynthesizeBody;
    } catch {
      return googleError(res, 400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.');
    }
    this.bodies.push(body);
    const name = body.voice?.name ?? '';
    const voice = VOICE_NAME.exec(name);
    if (!voice || voice[1] !== body.voice?.languageCode) return googleError(res, 400, 'INVALID_ARGUMENT', `Voice '${name}' does not exist. Is it misspelled?`);
    const input = body.input?.ssml ?? body.input?.text ?? '';
    if (Buffer.byteLength(input) > 5000) return googleError(res, 400, 'INVALID_ARGUMENT', 'Either `input.text` or `input.ssml` is longer than the limit of 5000 bytes.');
    let parsed: { text: string; marks: { name: string; at: number }[] };
    if (body.input?.ssml !== undefined) {
      const ssml = parseSsml(body.input.ssml);
      if (!ssml) return googleError(res, 400, 'INVALID_ARGUMENT', 'Invalid SSML: the input is not well-formed XML.');
      parsed = ssml;
    } else if (body.input?.text) {
      parsed = { text: body.input.text, marks: [] };
    } else {
      return googleError(res, 400, 'INVALID_ARGUMENT', 'Either `input.text` or `input.ssml` needs to be set.');
    }
    if (parsed.text.trim().length === 0) return googleError(res, 400, 'INVALID_ARGUMENT', 'Empty text input.');
    const rate = body.audioConfig?.speakingRate ?? 1;
    const sampleRate = body.audioConfig?.sampleRateHertz ?? 24_000;
    const speech = await speak(parsed.text, { rate, sampleRate });
    this.truth = speech.words;
    this.lastPlainText = parsed.text;
    const audio = await encode(speech, body.audioConfig?.audioEncoding === 'MP3' ? 'mp3' : 'wav');
    const pointing = body.enableTimePointing?.includes('SSML_MARK') ?? false;
    const timepoints = pointing ? parsed.marks.map((m) => ({ markName: m.name, timeSeconds: timeAt(speech.words, m.at) })) : [];
    return send(res, 200, JSON.stringify({ audioContent: audio.toString('base64'), timepoints, audioConfig: body.audioConfig }));
  }

  private takeFailure(): FakeScenario | undefined {
    if (!this.failures) return undefined;
    const { scenario } = this.failures;
    this.failures.times -= 1;
    if (this.failures.times <= 0) this.failures = undefined;
    return scenario;
  }
}

/** The start of the word spoken at a text position (interpolated inside a word). */
function timeAt(words: readonly WordTiming[], at: number): number {
  const word = words.find((w) => w.charEnd > at);
  if (!word) return words.at(-1)?.endSec ?? 0;
  if (word.charStart >= at) return word.startSec;
  return word.startSec + ((word.endSec - word.startSec) * (at - word.charStart)) / Math.max(1, word.charEnd - word.charStart);
}

/** SSML's plain text and mark positions; undefined when it is not well-formed (a bare & or <). */
function parseSsml(ssml: string): { text: string; marks: { name: string; at: number }[] } | undefined {
  const trimmed = ssml.trim();
  if (!trimmed.startsWith('<speak>') || !trimmed.endsWith('</speak>')) return undefined;
  const inner = trimmed.slice('<speak>'.length, -'</speak>'.length);
  const marks: { name: string; at: number }[] = [];
  let text = '';
  for (const part of inner.split(/(<[^>]*>)/)) {
    if (part.startsWith('<')) {
      const mark = /^<mark\s+name="([^"]*)"\s*\/>$/.exec(part);
      if (mark) marks.push({ name: mark[1] as string, at: text.length });
      else if (!/^<\/?(break|emphasis|prosody|say-as|sub|p|s)\b[^<]*>$/.test(part)) return undefined;
      continue;
    }
    if (/[<>]/.test(part) || /&(?!(amp|lt|gt|quot|apos);)/.test(part)) return undefined;
    text += part.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
  }
  return { text, marks };
}

function googleError(res: ServerResponse, code: number, status: string, message: string, details?: unknown[], headers: Record<string, string> = {}): void {
  send(res, code, JSON.stringify({ error: { code, message, status, ...(details ? { details } : {}) } }), headers);
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': String(Buffer.byteLength(body)), ...headers });
  res.end(body);
}
