/**
 * The plan stage on Google's Gemini API (generativelanguage.googleapis.com) through the official
 * `@google/genai` SDK: `POST /v1beta/models/{model}:generateContent` with the key in the
 * `x-goog-api-key` header, the storyboard's JSON Schema as `responseJsonSchema`. The answer is
 * checked and repaired once by llm-planner.ts.
 *
 * @example
 *   const writer = geminiPlanDescriptor.create(context);
 *   const { storyboard, usage } = await writer.plan(brief, signal);
 */
import { GoogleGenAI, type Content, type GenerateContentResponse } from '@google/genai';
import type { AppError } from '../../contract/errors.js';
import type { ResolvedBrief } from '../../contract/resolve.js';
import { providerErrorFromSdk } from '../http.js';
import { ProviderError, providerErrorFromHttp } from '../provider-error.js';
import { providerId, type ProviderContext, type ProviderDescriptor } from '../provider.js';
import { planTemperature, planWithModel, redact, type ChatMessage, type ModelAnswer } from './llm-planner.js';
import { LLM_STORYBOARD_JSON_SCHEMA } from './llm-storyboard.js';
import type { PlanResult, ScriptWriter } from './script.port.js';

const NAME = 'gemini';

/** Reasons Gemini gives for withholding a prompt or an answer on policy grounds. */
const REFUSED = new Set(['SAFETY', 'PROHIBITED_CONTENT', 'BLOCKLIST', 'SPII', 'RECITATION', 'IMAGE_SAFETY', 'IMAGE_PROHIBITED_CONTENT', 'MODEL_ARMOR']);

function client(context: ProviderContext): GoogleGenAI {
  // vertexai false: the Gemini API with a key, whatever GOOGLE_GENAI_USE_VERTEXAI says. One attempt: our policy retries.
  return new GoogleGenAI({
    vertexai: false,
    apiKey: context.credentials.apiKey,
    httpOptions: { baseUrl: context.credentials.baseUrl, retryOptions: { attempts: 1 } },
  });
}

/**
 * Maps what the SDK throws. Its ApiError keeps the status and the body (as its message) but not
 * the headers, so a 429's wait comes from Google's RetryInfo detail (`"retryDelay": "20s"`); an
 * invalid key is a 400 whose ErrorInfo reason is API_KEY_INVALID.
 */
export function geminiError(error: unknown, signal: AbortSignal, apiKey: string): AppError {
  if (error instanceof SyntaxError) return new ProviderError('provider_bad_response', NAME, `the answer is not JSON: ${error.message}`, { cause: error });
  const status = (error as { status?: unknown } | null)?.status;
  if (typeof status !== 'number' || !(error instanceof Error)) return redact(providerErrorFromSdk(NAME, error, signal), apiKey);
  const body = error.message;
  const delay = /"retryDelay"\s*:\s*"(\d+(?:\.\d+)?)s"/.exec(body)?.[1];
  const mapped =
    status === 400 && /API_KEY_INVALID|API key not valid/.test(body)
      ? new ProviderError('provider_auth', NAME, 'the key was refused (HTTP 400 API_KEY_INVALID)', { httpStatus: status })
      : providerErrorFromHttp(NAME, status, delay ? { 'retry-after': delay } : {}, body);
  return redact(mapped, apiKey);
}

export class GeminiScriptWriter implements ScriptWriter {
  readonly id: string;
  private readonly client: GoogleGenAI;

  constructor(private readonly context: ProviderContext) {
    this.id = providerId(NAME, context.model);
    this.client = client(context);
  }

  async plan(brief: ResolvedBrief, signal: AbortSignal = new AbortController().signal): Promise<PlanResult> {
    return planWithModel(NAME, brief, (messages) => this.generate(brief, messages, signal));
  }

  private async generate(brief: ResolvedBrief, messages: ChatMessage[], signal: AbortSignal): Promise<ModelAnswer> {
    const system = messages.filter((m) => m.role === 'system').map((m) => m.content).join('\n\n');
    const contents: Content[] = messages
      .filter((m) => m.role !== 'system')
      .map((m) => ({ role: m.role === 'assistant' ? 'model' : 'user', parts: [{ text: m.content }] }));
    let response: GenerateContentResponse;
    try {
      response = await this.client.models.generateContent({
        model: this.context.model,
        contents,
        config: {
          systemInstruction: system,
          responseMimeType: 'application/json',
          responseJsonSchema: LLM_STORYBOARD_JSON_SCHEMA,
          temperature: planTemperature(brief),
          seed: brief.seed,
          abortSignal: signal,
        },
      });
    } catch (error) {
      throw geminiError(error, signal, this.context.credentials.apiKey);
    }
    return readResponse(response);
  }
}

/** The JSON text of the first candidate, or the refusal or failure it stands for. */
function readResponse(response: GenerateContentResponse): ModelAnswer {
  const blocked = response.promptFeedback?.blockReason;
  if (blocked) throw new ProviderError('provider_refused', NAME, `the prompt was blocked (${blocked})${response.promptFeedback?.blockReasonMessage ? `: ${response.promptFeedback.blockReasonMessage}` : ''}`);
  const candidate = response.candidates?.[0];
  if (!candidate) throw new ProviderError('provider_bad_response', NAME, 'the answer has no candidate');
  const reason = candidate.finishReason;
  if (reason && REFUSED.has(reason)) throw new ProviderError('provider_refused', NAME, `the answer was withheld (${reason})`);
  if (reason === 'MAX_TOKENS') throw new ProviderError('provider_bad_response', NAME, 'the storyboard was cut off at the output token limit');
  // Thought summaries (thinking models) are not the answer.
  const text = (candidate.content?.parts ?? []).filter((p) => typeof p.text === 'string' && !p.thought).map((p) => p.text).join('');
  if (!text) throw new ProviderError('provider_bad_response', NAME, `the answer is empty (finish reason ${reason ?? 'none'})`);
  const meta = response.usageMetadata;
  // Thinking tokens are billed at the output rate.
  return { text, usage: { inputTokens: meta?.promptTokenCount ?? 0, outputTokens: (meta?.candidatesTokenCount ?? 0) + (meta?.thoughtsTokenCount ?? 0) } };
}

export const geminiPlanDescriptor: ProviderDescriptor<ScriptWriter> = {
  name: NAME,
  stage: 'plan',
  vendor: 'Google Gemini API',
  keyEnv: 'GEMINI_API_KEY',
  tenantKey: 'gemini',
  baseUrlEnv: 'GEMINI_BASE_URL',
  defaultBaseUrl: 'https://generativelanguage.googleapis.com',
  models: { economy: 'gemini-2.5-flash-lite', standard: 'gemini-2.5-flash', premium: 'gemini-2.5-pro' },
  timeoutMs: 120_000,
  sends: "The brief's text (prompt, script or scenes' narration and titles), its language, length, frame shape, music mood and brand colours.",
  create: (context) => new GeminiScriptWriter(context),
  async probe(context, signal) {
    try {
      const model = await client(context).models.get({ model: context.model, config: { abortSignal: signal } });
      return `${model.name ?? context.model} is available${model.outputTokenLimit ? ` (output limit ${model.outputTokenLimit} tokens)` : ''}`;
    } catch (error) {
      throw geminiError(error, signal, context.credentials.apiKey);
    }
  },
};
