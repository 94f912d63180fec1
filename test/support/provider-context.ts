/**
 * A ProviderContext for adapter tests: real FFmpeg, the real SSRF-safe downloader (admitting the
 * fake server's loopback address, as a configured base URL is in production), and the fake's URL.
 *
 * @example
 *   const fake = await FakeElevenLabs.start();
 *   const ctx = await providerContext({ baseUrl: fake.url, apiKey: 'sk-test', model: 'eleven_multilingual_v2' });
 *   const tts = elevenLabsDescriptor.create(ctx);
 */
import { loadEnv } from '../../src/config/env.js';
import { createMediaTools } from '../../src/main/container.js';
import { providerDownload } from '../../src/pipeline/provider-download.js';
import type { ProviderContext } from '../../src/providers/provider.js';

let tools: Awaited<ReturnType<typeof createMediaTools>> | undefined;

export async function providerContext(options: { baseUrl: string; apiKey: string; model: string; settings?: Record<string, string | undefined>; source?: 'tenant' | 'operator' }): Promise<ProviderContext> {
  tools ??= await createMediaTools(loadEnv({}));
  const download = providerDownload({ maxBytes: 200 * 1024 * 1024, timeoutMs: 30_000, allowHosts: [], allowCidrs: [] });
  return {
    credentials: { apiKey: options.apiKey, baseUrl: options.baseUrl.replace(/\/+$/, ''), source: options.source ?? 'operator' },
    model: options.model,
    media: tools,
    download: download(options.baseUrl),
    settings: options.settings ?? {},
  };
}
