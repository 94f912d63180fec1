/**
 * The plan stage on any OpenAI-compatible chat-completions endpoint: OpenAI itself, and with only
 * the base URL changed Ollama, vLLM, OpenRouter or Gemini's OpenAI endpoint. The storyboard comes
 * back as structured output (`response_format: json_schema`, strict), checked and repaired once by
 * llm-planner.ts.
 *
 * @example
 *   const writer = openaiPlanDescriptor.create(context);
 *   const { storyboard, usage } = await writer.plan(resolveBrief(parseBrief({ prompt: 'a 20-second ad for a bakery' })), signal);
 */
import OpenAI from 'openai';
import type { AppError } from '../../contract/errors.js';
import type { ResolvedBrief } from '../../contract/resolve.js';
import { providerErrorFromSdk } from '../http.js';
import { ProviderError } from '../provider-error.js';
import { providerId, type ProviderContext, type ProviderDescriptor } from '../provider.js';
import { planTemperature, planWithModel, redact, type ChatMessage, type ModelAnswer } from './llm-planner.js';
import { LLM_STORYBOARD_JSON_SCHEMA, LLM_STORYBOARD_NAME } from './llm-storyboard.js';
import type { PlanResult, ScriptWriter } from './script.port.js';

const NAME = 'openai';
const REASONING_MODEL = /^(?:o\d|gpt-5)/;

export class OpenAIScriptWriter implements ScriptWriter {
  readonly id: string;
  private readonly client: OpenAI;

  constructor(private readonly context: ProviderContext) {
    this.id = providerId(NAME, context.model);
    // Organisation and project are passed as null so the SDK reads nothing from the environment.
    this.client = new OpenAI({ apiKey: context.credentials.apiKey, baseURL: context.credentials.baseUrl, maxRetries: 0, organization: null, project: null });
  }

  async plan(brief: ResolvedBrief, signal: AbortSignal = new AbortController().signal): Promise<PlanResult> {
    return planWithModel(NAME, brief, (messages) => this.complete(brief, messages, signal));
  }

  private async complete(brief: ResolvedBrief, messages: ChatMessage[], signal: AbortSignal): Promise<ModelAnswer> {
    let completion: OpenAI.ChatCompletion;
    try {
      completion = await this.client.chat.completions.create(
        {
          model: this.context.model,
          messages,
          response_format: { type: 'json_schema', json_schema: { name: LLM_STORYBOARD_NAME, strict: true, schema: LLM_STORYBOARD_JSON_SCHEMA } },
          // Reasoning models (o1…, gpt-5…) accept only their default temperature.
          ...(REASONING_MODEL.test(this.context.model) ? {} : { temperature: planTemperature(brief) }),
          seed: brief.seed,
        },
        { signal },
      );
    } catch (error) {
      throw sdkError(error, signal, this.context.credentials.apiKey);
    }
    const choice = completion.choices?.[0];
    if (!choice?.message) throw new ProviderError('provider_bad_response', NAME, 'the answer has no choice');
    if (choice.message.refusal) throw new ProviderError('provider_refused', NAME, `the model refused: ${choice.message.refusal.slice(0, 300)}`);
    if (choice.finish_reason === 'content_filter') throw new ProviderError('provider_refused', NAME, 'the answer was withheld by the content filter');
    if (choice.finish_reason === 'length') throw new ProviderError('provider_bad_response', NAME, 'the storyboard was cut off at the output token limit');
    const text = choice.message.content;
    if (!text) throw new ProviderError('provider_bad_response', NAME, 'the answer is empty');
    return { text, usage: { inputTokens: completion.usage?.prompt_tokens ?? 0, outputTokens: completion.usage?.completion_tokens ?? 0 } };
  }
}

/** What the SDK throws, as a ProviderError; a body that is not JSON reaches us as its SyntaxError. */
function sdkError(error: unknown, signal: AbortSignal, apiKey: string): AppError {
  if (error instanceof SyntaxError) return new ProviderError('provider_bad_response', NAME, `the answer is not JSON: ${error.message}`, { cause: error });
  return redact(providerErrorFromSdk(NAME, error, signal), apiKey);
}

export const openaiPlanDescriptor: ProviderDescriptor<ScriptWriter> = {
  name: NAME,
  stage: 'plan',
  vendor: 'OpenAI (or any OpenAI-compatible chat-completions endpoint)',
  keyEnv: 'OPENAI_API_KEY',
  tenantKey: 'openai',
  baseUrlEnv: 'OPENAI_BASE_URL',
  defaultBaseUrl: 'https://api.openai.com/v1',
  models: { economy: 'gpt-4o-mini', standard: 'gpt-4o-mini', premium: 'gpt-4o' },
  modelEnv: 'AIPROD_LLM_MODEL',
  timeoutMs: 120_000,
  sends: "The brief's text (prompt, script or scenes' narration and titles), its language, length, frame shape, music mood and brand colours.",
  create: (context) => new OpenAIScriptWriter(context),
  async probe(context, signal) {
    const client = new OpenAI({ apiKey: context.credentials.apiKey, baseURL: context.credentials.baseUrl, maxRetries: 0, organization: null, project: null });
    try {
      const page = await client.models.list({ signal });
      const listed = page.data.some((m) => m.id === context.model);
      return `${page.data.length} models listed; ${context.model} ${listed ? 'is available' : 'is not listed (a compatible server may still serve it)'}`;
    } catch (error) {
      throw sdkError(error, signal, context.credentials.apiKey);
    }
  },
};
