/**
 * A local Gemini API (generativelanguage.googleapis.com) for tests (node:http on 127.0.0.1,
 * port 0), following the documented REST shapes and what the official `@google/genai` SDK sends:
 *
 * - Auth: the `x-goog-api-key` header (recorded in `keysSeen`). No key: 403 PERMISSION_DENIED;
 *   an unknown key: 400 INVALID_ARGUMENT "API key not valid" with an ErrorInfo reason API_KEY_INVALID,
 *   as Google answers.
 * - `POST /v1beta/models/{model}:generateContent` with `{contents:[{role, parts:[{text}]}],
 *   systemInstruction, generationConfig:{responseMimeType, responseJsonSchema, temperature, seed}}`:
 *   a GenerateContentResponse `{candidates:[{content:{role:"model", parts:[{text}]}, finishReason,
 *   index}], usageMetadata:{promptTokenCount, candidatesTokenCount, totalTokenCount}, modelVersion,
 *   responseId}`; the text is written by the deterministic planner model of fake-planner-model.ts.
 * - `GET /v1beta/models/{model}` and `GET /v1beta/models`: Model resources `{name:"models/…", …}`.
 * - Errors: `{error:{code, message, status, details?}}`; 429 RESOURCE_EXHAUSTED carries a
 *   google.rpc.RetryInfo detail (`retryDelay: "1s"`) and a Retry-After header.
 *
 * Scenarios, queued with `fail(scenario, times)`: unauthorized (401 UNAUTHENTICATED),
 * rate_limited, server_error (500 INTERNAL), unavailable (503), hang, malformed, blocked
 * (promptFeedback.blockReason SAFETY, no candidates), safety (finishReason SAFETY, no text),
 * max_tokens, invalid_storyboard. Requests the fake does not implement answer 501 UNIMPLEMENTED and are
 * recorded in `unexpected`; an unknown model is 404 NOT_FOUND, as Google answers.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { brokenPlan, fakePlan, tokens, type FakeChatMessage } from './fake-planner-model.js';

export type GeminiScenario =
  | 'unauthorized'
  | 'rate_limited'
  | 'server_error'
  | 'unavailable'
  | 'hang'
  | 'malformed'
  | 'blocked'
  | 'safety'
  | 'max_tokens'
  | 'invalid_storyboard';

interface Answer {
  status: number;
  headers?: Record<string, string>;
  json?: unknown;
  body?: string;
}

const googleError = (code: number, status: string, message: string, details?: unknown[]): Answer => ({
  status: code,
  json: { error: { code, message, status, ...(details ? { details } : {}) } },
});

/** Scenarios every path acts out the same way (a hang is never answered: status -1). */
const GENERIC_ANSWERS: Partial<Record<GeminiScenario, () => Answer>> = {
  unauthorized: () => googleError(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.'),
  rate_limited: () => ({
    ...googleError(429, 'RESOURCE_EXHAUSTED', 'You exceeded your current quota, please check your plan and billing details.', [
      { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '1s' },
    ]),
    headers: { 'retry-after': '1' },
  }),
  server_error: () => googleError(500, 'INTERNAL', 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting'),
  unavailable: () => googleError(503, 'UNAVAILABLE', 'The model is overloaded. Please try again later.'),
  hang: () => ({ status: -1 }),
  malformed: () => ({ status: 200, body: '{"candidates": [{"content": ' }),
};

export interface GenerateRecord {
  model: string;
  /** systemInstruction first (as role "system"), then the contents, roles as sent ("user", "model"). */
  messages: FakeChatMessage[];
  body: Record<string, unknown>;
}

export class FakeGemini {
  url = '';
  readonly keysSeen: Array<string | undefined> = [];
  readonly requests: { method: string; path: string; at: number }[] = [];
  readonly unexpected: string[] = [];
  readonly generations: GenerateRecord[] = [];
  models = ['gemini-2.5-flash-lite', 'gemini-2.5-flash', 'gemini-2.5-pro'];
  private readonly queue: { scenario: GeminiScenario; times: number }[] = [];
  private readonly server: Server;

  private constructor(private readonly keys: readonly string[]) {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  static async start(options: { apiKey?: string; apiKeys?: string[] } = {}): Promise<FakeGemini> {
    const fake = new FakeGemini([...(options.apiKeys ?? []), ...(options.apiKey ? [options.apiKey] : options.apiKeys ? [] : ['gm-test'])]);
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    fake.url = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
    return fake;
  }

  fail(scenario: GeminiScenario, times = 1): void {
    this.queue.push({ scenario, times });
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve, reject) => this.server.close((error) => (error ? reject(error) : resolve())));
  }

  private take(): GeminiScenario | undefined {
    const entry = this.queue[0];
    if (!entry) return undefined;
    if (--entry.times <= 0) this.queue.shift();
    return entry.scenario;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readAll(req);
    const method = req.method ?? 'GET';
    const path = new URL(req.url ?? '/', 'http://fake').pathname;
    this.requests.push({ method, path, at: Date.now() });
    const key = typeof req.headers['x-goog-api-key'] === 'string' ? req.headers['x-goog-api-key'] : undefined;
    this.keysSeen.push(key);
    let answer: Answer;
    try {
      answer = this.answer(method, decodeURIComponent(path), raw, key);
    } catch (error) {
      this.unexpected.push(`${method} ${path}: ${error instanceof Error ? error.message : String(error)}`);
      answer = googleError(500, 'INTERNAL', 'An internal error has occurred.');
    }
    if (answer.status < 0) return; // hang
    res.writeHead(answer.status, { 'content-type': 'application/json; charset=UTF-8', ...answer.headers });
    res.end(answer.json !== undefined ? JSON.stringify(answer.json) : answer.body);
  }

  private answer(method: string, path: string, raw: Buffer, key: string | undefined): Answer {
    const generate = /^\/v1beta\/models\/([^/:]+):generateContent$/.exec(path);
    const getModel = /^\/v1beta\/models\/([^/:]+)$/.exec(path);
    const known = (method === 'POST' && generate) || (method === 'GET' && (getModel || path === '/v1beta/models'));
    if (!known) {
      this.unexpected.push(`${method} ${path}`);
      return googleError(501, 'UNIMPLEMENTED', `The fake does not implement ${method} ${path}.`);
    }
    if (!key) return googleError(403, 'PERMISSION_DENIED', "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.");
    if (!this.keys.includes(key)) {
      return googleError(400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.', [
        { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com', metadata: { service: 'generativelanguage.googleapis.com' } },
      ]);
    }
    const scenario = this.take();
    const generic = scenario ? GENERIC_ANSWERS[scenario] : undefined;
    if (generic) return generic();
    if (getModel) {
      const name = getModel[1] ?? '';
      if (!this.models.includes(name)) return googleError(404, 'NOT_FOUND', `models/${name} is not found for API version v1beta, or is not supported for generateContent.`);
      return { status: 200, json: modelResource(name) };
    }
    if (path === '/v1beta/models') return { status: 200, json: { models: this.models.map(modelResource) } };
    return this.generate(generate?.[1] ?? '', raw, scenario);
  }

  private generate(model: string, raw: Buffer, scenario: GeminiScenario | undefined): Answer {
    if (!this.models.includes(model)) return googleError(404, 'NOT_FOUND', `models/${model} is not found for API version v1beta, or is not supported for generateContent.`);
    const body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
    const contents = (body.contents ?? []) as { role?: string; parts?: { text?: string }[] }[];
    const system = body.systemInstruction as { parts?: { text?: string }[] } | undefined;
    const config = (body.generationConfig ?? {}) as Record<string, unknown>;
    if (contents.length === 0) return googleError(400, 'INVALID_ARGUMENT', '* GenerateContentRequest.contents: contents is not specified');
    if (config.responseJsonSchema !== undefined && config.responseMimeType !== 'application/json') {
      return googleError(400, 'INVALID_ARGUMENT', 'responseMimeType must be application/json when a response schema is set.');
    }
    const text = (parts?: { text?: string }[]): string => (parts ?? []).map((p) => p.text ?? '').join('');
    const messages: FakeChatMessage[] = [
      ...(system ? [{ role: 'system', content: text(system.parts) }] : []),
      ...contents.map((c) => ({ role: c.role ?? 'user', content: text(c.parts) })),
    ];
    this.generations.push({ model, messages, body });
    const promptTokens = tokens(messages.map((m) => m.content).join('\n'));
    if (scenario === 'blocked') {
      return {
        status: 200,
        json: {
          promptFeedback: { blockReason: 'SAFETY', safetyRatings: [{ category: 'HARM_CATEGORY_DANGEROUS_CONTENT', probability: 'HIGH', blocked: true }] },
          usageMetadata: { promptTokenCount: promptTokens, totalTokenCount: promptTokens },
          modelVersion: model,
        },
      };
    }
    let answer = JSON.stringify(scenario === 'invalid_storyboard' ? brokenPlan(messages) : fakePlan(messages));
    let finishReason = 'STOP';
    if (scenario === 'safety') [answer, finishReason] = ['', 'SAFETY'];
    if (scenario === 'max_tokens') [answer, finishReason] = [answer.slice(0, 40), 'MAX_TOKENS'];
    const outputTokens = tokens(answer);
    return {
      status: 200,
      json: {
        candidates: [{ content: { role: 'model', parts: answer ? [{ text: answer }] : [] }, finishReason, index: 0 }],
        usageMetadata: { promptTokenCount: promptTokens, candidatesTokenCount: outputTokens, thoughtsTokenCount: 7, totalTokenCount: promptTokens + outputTokens + 7 },
        modelVersion: model,
        responseId: `resp-${this.generations.length}`,
      },
    };
  }
}

const modelResource = (name: string): Record<string, unknown> => ({
  name: `models/${name}`,
  version: '001',
  displayName: name,
  inputTokenLimit: 1_048_576,
  outputTokenLimit: 65_536,
  supportedGenerationMethods: ['generateContent', 'countTokens'],
});

function readAll(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
