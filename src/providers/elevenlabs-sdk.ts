/**
 * The ElevenLabs SDK (`@elevenlabs/elevenlabs-js`), loaded when a call first needs it. Importing it
 * costs about 105 MiB of memory and 1.4 s in every process that does (measured on Node 20), and
 * the voice, music and effects adapters are built for every render whether or not a key is set, so
 * an installation without ElevenLabs keys never loads it.
 */
import type { ElevenLabsClient } from '@elevenlabs/elevenlabs-js';

export type { ElevenLabsClient };

export type ElevenLabsOptions = NonNullable<ConstructorParameters<typeof ElevenLabsClient>[0]>;

/** A client made on the first call (the SDK imported then), the same one after. */
export function lazyElevenLabs(options: ElevenLabsOptions): () => Promise<ElevenLabsClient> {
  let client: Promise<ElevenLabsClient> | undefined;
  return () => (client ??= import('@elevenlabs/elevenlabs-js').then((sdk) => new sdk.ElevenLabsClient(options)));
}
