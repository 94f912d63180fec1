/**
 * A local OpenAI API for tests (node:http on 127.0.0.1, port 0), following the documented shapes
 * of the REST API and of the official `openai` SDK's requests:
 *
 * - Auth: `Authorization: Bearer <key>`; a missing or unknown key answers 401
 *   `{error:{message, type:"invalid_request_error", param:null, code:"invalid_api_key"}}`.
 *   Every request's key is recorded in `keysSeen`.
 * - `POST /v1/chat/completions` with `response_format: {type:"json_schema", json_schema:{name, strict, schema}}`:
 *   a strict schema is checked as OpenAI checks it (every object lists all its properties in
 *   `required` and sets `additionalProperties: false`; else 400 invalid_request_error, param
 *   response_format); reasoning models (o1…, gpt-5…) refuse a temperature other than 1. The answer is a `chat.completion` object (choices[0].message {role, content,
 *   refusal}, finish_reason, usage {prompt_tokens, completion_tokens, total_tokens}); its content is
 *   written by the deterministic planner model of fake-planner-model.ts from the request's messages.
 * - `GET /v1/models`: `{object:"list", data:[{id, object:"model", created, owned_by}]}`.
 * - Errors: `{error:{message, type, param, code}}`; 429 with `retry-after` and `x-ratelimit-*` headers.
 *
 * Routes live in a table (`route(method, path, handler)`) so other fakes of OpenAI endpoints
 * (speech, images) add theirs without touching chat. Scenarios are queued with `fail(scenario,
 * times)` and consumed by the next matching requests: the generic ones (unauthorized, rate_limited,
 * server_error, hang, malformed) apply to any route; the others are the route's to interpret
 * (chat: refusal, content_filter, length, invalid_storyboard). Unknown requests answer 501 and are
 * recorded in `unexpected`.
 *
 * @example
 *   const fake = await FakeOpenAI.start({ apiKey: 'sk-test' });
 *   const ctx = await providerContext({ baseUrl: `${fake.url}/v1`, apiKey: 'sk-test', model: 'gpt-4o-mini' });
 *   fake.fail('rate_limited');
 *   await fake.close();
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { brokenPlan, fakePlan, tokens, type FakeChatMessage } from './fake-planner-model.js';

export type OpenAIScenario =
  | 'unauthorized'
  | 'rate_limited'
  | 'server_error'
  | 'hang'
  | 'malformed'
  | 'refusal'
  | 'content_filter'
  | 'length'
  | 'invalid_storyboard'
  | (string & {});


export interface FakeRequest {
  method: string;
  /** Path below `/v1`, without the query: `/chat/completions`. */
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  /** The body parsed as JSON (undefined when empty or not JSON). */
  json: unknown;
  raw: Buffer;
  /** The scenario queued for this request, when the route is to act it out. */
  scenario?: OpenAIScenario;
}

export interface FakeAnswer {
  status: number;
  headers?: Record<string, string>;
  /** Sent as application/json. */
  json?: unknown;
  body?: Buffer | string;
}

export type FakeRoute = (request: FakeRequest, fake: FakeOpenAI) => FakeAnswer | Promise<FakeAnswer>;

export interface ChatRecord {
  /** The key the request carried. */
  key?: string;
  model: string;
  messages: FakeChatMessage[];
  body: Record<string, unknown>;
}

export const openaiError = (status: number, message: string, type: string, code: string | null = null, param: string | null = null): FakeAnswer => ({
  status,
  json: { error: { message, type, param, code } },
});

/** Scenarios any route acts out the same way (a hang is never answered: status -1). */
const GENERIC_ANSWERS: Record<string, () => FakeAnswer> = {
  unauthorized: () => openaiError(401, 'Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key'),
  rate_limited: () => ({
    ...openaiError(429, 'Rate limit reached for requests. Please try again in 1s.', 'requests', 'rate_limit_exceeded'),
    headers: { 'retry-after': '1', 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '1s' },
  }),
  server_error: () => openaiError(500, 'The server had an error while processing your request. Sorry about that!', 'server_error'),
  hang: () => ({ status: -1 }),
  malformed: () => ({ status: 200, headers: { 'content-type': 'application/json' }, body: '{"id": "chatcmpl-1", "choices": [' }),
};

export class FakeOpenAI {
  url = '';
  /** The key each request carried (undefined: none), in order. */
  readonly keysSeen: Array<string | undefined> = [];
  /** Every request: `METHOD /path` and when it arrived (ms since the epoch). */
  readonly requests: { method: string; path: string; at: number }[] = [];
  readonly unexpected: string[] = [];
  /** Chat completion requests, as sent. */
  readonly chats: ChatRecord[] = [];
  /** Model ids `GET /v1/models` lists. */
  models = ['gpt-4o-mini', 'gpt-4o'];
  private readonly routes = new Map<string, FakeRoute>();
  private readonly queue: { scenario: OpenAIScenario; times: number; path?: RegExp }[] = [];
  private readonly server: Server;

  private constructor(private readonly keys: readonly string[]) {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.route('POST', '/chat/completions', chatCompletions);
    this.route('GET', '/models', (_req, fake) => ({
      status: 200,
      json: { object: 'list', data: fake.models.map((id) => ({ id, object: 'model', created: 1_700_000_000, owned_by: 'openai' })) },
    }));
  }

  /** `apiKey`/`apiKeys`: the keys accepted (several for tenant-key tests). */
  static async start(options: { apiKey?: string; apiKeys?: string[] } = {}): Promise<FakeOpenAI> {
    const fake = new FakeOpenAI([...(options.apiKeys ?? []), ...(options.apiKey ? [options.apiKey] : options.apiKeys ? [] : ['sk-test'])]);
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    fake.url = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
    return fake;
  }

  /** Adds or replaces the handler of `METHOD /path` (below /v1). */
  route(method: string, path: string, handler: FakeRoute): void {
    this.routes.set(`${method} ${path}`, handler);
  }

  /** The next `times` requests (to paths matching `path`, default any) act out `scenario`. */
  fail(scenario: OpenAIScenario, times = 1, path?: RegExp): void {
    this.queue.push({ scenario, times, path });
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve, reject) => this.server.close((error) => (error ? reject(error) : resolve())));
  }

  private take(path: string): OpenAIScenario | undefined {
    const index = this.queue.findIndex((q) => !q.path || q.path.test(path));
    const entry = this.queue[index];
    if (!entry) return undefined;
    if (--entry.times <= 0) this.queue.splice(index, 1);
    return entry.scenario;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readAll(req);
    const target = new URL(req.url ?? '/', 'http://fake');
    const method = req.method ?? 'GET';
    const path = target.pathname.replace(/^\/v1(?=\/)/, '');
    this.requests.push({ method, path, at: Date.now() });
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    this.keysSeen.push(bearer);
    let answer: FakeAnswer;
    try {
      answer = await this.answer(method, path, target, req, raw, bearer);
    } catch (error) {
      this.unexpected.push(`${method} ${path}: ${error instanceof Error ? error.message : String(error)}`);
      answer = openaiError(500, 'The server had an error while processing your request.', 'server_error');
    }
    if (answer.status < 0) return; // hang: never answered
    const body = answer.json !== undefined ? JSON.stringify(answer.json) : answer.body;
    res.writeHead(answer.status, {
      ...(answer.json !== undefined ? { 'content-type': 'application/json' } : {}),
      'x-request-id': `req_${this.requests.length}`,
      ...answer.headers,
    });
    res.end(body);
  }

  private async answer(method: string, path: string, target: URL, req: IncomingMessage, raw: Buffer, bearer: string | undefined): Promise<FakeAnswer> {
    const handler = this.routes.get(`${method} ${path}`);
    if (!handler) {
      this.unexpected.push(`${method} ${target.pathname}`);
      return openaiError(501, `Unrecognized request URL (${method}: ${target.pathname}).`, 'invalid_request_error');
    }
    if (!bearer) return openaiError(401, "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth.", 'invalid_request_error');
    if (!this.keys.includes(bearer)) return openaiError(401, 'Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.', 'invalid_request_error', 'invalid_api_key');
    const scenario = this.take(path);
    const generic = scenario ? GENERIC_ANSWERS[scenario] : undefined;
    if (generic) return generic();
    let json: unknown;
    try {
      json = raw.length > 0 ? JSON.parse(raw.toString('utf8')) : undefined;
    } catch {
      return openaiError(400, 'We could not parse the JSON body of your request.', 'invalid_request_error');
    }
    return handler({ method, path, query: target.searchParams, headers: req.headers, json, raw, scenario }, this);
  }
}

/** OpenAI's strict-mode rules for a response schema; the first breach, or undefined. */
export function strictSchemaError(node: unknown, context = '()'): string | undefined {
  if (node === null || typeof node !== 'object') return undefined;
  const schema = node as Record<string, unknown>;
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  if (types.includes('object')) {
    const keys = Object.keys((schema.properties as object | undefined) ?? {});
    const required = Array.isArray(schema.required) ? (schema.required as string[]) : [];
    if (schema.additionalProperties !== false) return `In context=${context}, 'additionalProperties' is required to be supplied and to be false.`;
    const missing = keys.find((k) => !required.includes(k));
    if (missing) return `In context=${context}, 'required' is required to be supplied and to be an array including every key in properties. Missing '${missing}'.`;
    for (const key of keys) {
      const inner = strictSchemaError((schema.properties as Record<string, unknown>)[key], `('properties', '${key}')`);
      if (inner) return inner;
    }
  }
  if (schema.items) return strictSchemaError(schema.items, `${context}, 'items'`);
  for (const option of (schema.anyOf as unknown[] | undefined) ?? []) {
    const inner = strictSchemaError(option, `${context}, 'anyOf'`);
    if (inner) return inner;
  }
  return undefined;
}

const chatCompletions: FakeRoute = (request, fake) => {
  const body = (request.json ?? {}) as Record<string, unknown>;
  const model = typeof body.model === 'string' ? body.model : '';
  const messages = Array.isArray(body.messages) ? (body.messages as FakeChatMessage[]) : [];
  if (!model) return openaiError(400, 'you must provide a model parameter', 'invalid_request_error', null, 'model');
  if (messages.length === 0) return openaiError(400, "[] is too short - 'messages'", 'invalid_request_error', null, 'messages');
  if (/^(?:o\d|gpt-5)/.test(model) && body.temperature !== undefined && body.temperature !== 1) {
    return openaiError(400, `Unsupported value: 'temperature' does not support ${String(body.temperature)} with this model. Only the default (1) value is supported.`, 'invalid_request_error', 'unsupported_value', 'temperature');
  }
  const format = body.response_format as { type?: string; json_schema?: { name?: string; strict?: boolean; schema?: unknown } } | undefined;
  if (format?.type === 'json_schema') {
    const name = format.json_schema?.name ?? '';
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) return openaiError(400, "Invalid 'response_format.json_schema.name'.", 'invalid_request_error', 'invalid_value', 'response_format');
    const breach = format.json_schema?.strict ? strictSchemaError(format.json_schema.schema) : undefined;
    if (breach) return openaiError(400, `Invalid schema for response_format '${name}': ${breach}`, 'invalid_request_error', null, 'response_format');
  }
  fake.chats.push({ key: /^Bearer (.+)$/.exec(String(request.headers.authorization ?? ''))?.[1], model, messages, body });

  let content: string | null = JSON.stringify(request.scenario === 'invalid_storyboard' ? brokenPlan(messages) : fakePlan(messages));
  let refusal: string | null = null;
  let finish = 'stop';
  if (request.scenario === 'refusal') [content, refusal] = [null, "I'm sorry, but I can't help with that request."];
  if (request.scenario === 'content_filter') [content, finish] = [null, 'content_filter'];
  if (request.scenario === 'length') [content, finish] = [(content ?? '').slice(0, 40), 'length'];
  const prompt = tokens(messages.map((m) => m.content).join('\n'));
  const completion = tokens(content ?? refusal ?? '');
  return {
    status: 200,
    json: {
      id: `chatcmpl-${fake.chats.length}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model,
      choices: [{ index: 0, message: { role: 'assistant', content, refusal, annotations: [] }, logprobs: null, finish_reason: finish }],
      usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
      system_fingerprint: 'fp_fake',
    },
  };
};

function readAll(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
