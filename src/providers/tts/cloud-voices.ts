/**
 * What the cloud voice adapters share: voice ids prefixed with the provider's name
 * ("elevenlabs:21m00Tcm4TlvDq8EDUAs", "google-tts:en-US-Neural2-F", "openai-tts:alloy"), and the
 * rules for choosing one (an explicit id of this provider is used as given; another provider's id
 * or an eSpeak id falls back to this provider's default for the language).
 */
import { AppError } from '../../contract/errors.js';

/** The vendor's own id inside a prefixed voice id, when the id belongs to `provider`. */
export function ownVoiceId(provider: string, voice: string | undefined): string | undefined {
  if (!voice?.startsWith(`${provider}:`)) return undefined;
  const id = voice.slice(provider.length + 1).trim();
  return id.length > 0 ? id : undefined;
}

export function unsupportedLanguage(provider: string, language: string, spoken: readonly string[]): AppError {
  return new AppError('unsupported_language', `${provider} has no voice for language "${language}"`, {
    details: [{ path: 'language', message: `${provider} speaks ${spoken.join(', ')}; other languages use the offline voice` }],
  });
}

/** The primary subtag of a BCP-47 tag, lower-cased ("pt-BR" → "pt"). */
export const primaryLanguage = (tag: string): string => (tag.toLowerCase().split(/[-_]/)[0] ?? '').trim();

export const cancelled = (): AppError => new AppError('aborted', 'speech synthesis was cancelled');
