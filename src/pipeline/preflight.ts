/**
 * Checks that need the machine (files, voices, encoders) before anything is rendered, so a bad
 * brief fails at once with the field and the fix — never half-way through a render.
 */
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { AppError, type ErrorDetail } from '../contract/errors.js';
import type { ResolvedBrief } from '../contract/resolve.js';
import type { RenderProviders } from '../providers/registry.js';
import type { Voice } from '../providers/tts/tts.port.js';
import type { PipelineDeps } from './context.js';

export function resolveAsset(baseDir: string, src: string): string {
  return isAbsolute(src) ? src : resolve(baseDir, src);
}

function checkFile(baseDir: string, src: string, path: string, problems: ErrorDetail[]): boolean {
  const full = resolveAsset(baseDir, src);
  if (!existsSync(full) || !statSync(full).isFile()) {
    problems.push({ path, message: `file not found: ${full}; give a path relative to the brief file or an absolute path` });
    return false;
  }
  return true;
}

/** Opens each image and video with ffprobe: a corrupt file is refused now, not mid-render. */
async function checkMedia(items: { field: string; src: string; kind: 'image' | 'video' }[], deps: PipelineDeps, signal?: AbortSignal): Promise<void> {
  for (const item of items) {
    const probed = await deps.media.probe(item.src, signal).catch(() => undefined);
    const size = (probed?.video?.width ?? 0) * (probed?.video?.height ?? 0);
    const usable = size > 0 && (item.kind === 'image' || (probed?.durationSec ?? 0) > 0);
    if (!usable) {
      throw new AppError('asset_unreadable', `${item.field}: ${item.src} is not a readable ${item.kind}`, {
        details: [{ path: item.field, message: `give a valid ${item.kind === 'image' ? 'PNG, JPEG or WebP image' : 'video file with a picture'}` }],
      });
    }
  }
}

/** The brief's provider preferences; a cloud voice (`elevenlabs:…`) asks for its provider unless `providers.narrate` says otherwise. */
export function preferences(brief: Pick<ResolvedBrief, 'voice' | 'providers'>): ResolvedBrief['providers'] {
  const voiceProvider = brief.voice?.match(/^([a-z][a-z0-9-]*):/)?.[1];
  return { ...(voiceProvider ? { narrate: voiceProvider } : {}), ...brief.providers };
}

/**
 * The brief's voice against the narrate chain: a cloud voice id (`elevenlabs:…`) needs its provider
 * in the chain; the offline voice for the language must exist whatever the brief asks, since the
 * offline synthesizer is the chain's last fallback. Returns the offline voice.
 */
export async function checkVoice(brief: Pick<ResolvedBrief, 'language' | 'voice'>, providers: RenderProviders): Promise<Voice> {
  const members = providers.narrate.members;
  const offline = members[members.length - 1];
  if (!offline) throw new AppError('internal', 'the narrate chain is empty');
  const prefix = brief.voice?.match(/^([a-z][a-z0-9-]*):/)?.[1];
  if (prefix && !members.some((m) => m.name === prefix)) {
    throw new AppError('unknown_voice', `voice: "${brief.voice}" is a ${prefix} voice, and ${prefix} is not available to this render`, {
      details: [{ path: 'voice', message: `use a voice of an available provider (${members.map((m) => m.name).join(', ')}), or leave voice out for the language's default` }],
    });
  }
  return offline.provider.resolveVoice(brief.language, prefix ? undefined : brief.voice);
}

/** Throws the first problem as a 4xx AppError listing all of them; returns the offline narration voice. */
export async function preflight(brief: ResolvedBrief, baseDir: string, deps: PipelineDeps, providers: RenderProviders, signal?: AbortSignal): Promise<Voice> {
  const voice = await checkVoice(brief, providers);
  const problems: ErrorDetail[] = [];
  const media: { field: string; src: string; kind: 'image' | 'video' }[] = [];
  if (brief.source.kind === 'scenes') {
    brief.source.scenes.forEach((scene, i) => {
      const v = scene.visual;
      if (v && (v.type === 'image' || v.type === 'video')) {
        const field = `scenes.${i}.visual.src`;
        if (checkFile(baseDir, v.src, field, problems)) media.push({ field, src: resolveAsset(baseDir, v.src), kind: v.type });
      }
      scene.images?.forEach((image, k) => {
        const field = `scenes.${i}.images.${k}.src`;
        if (checkFile(baseDir, image.src, field, problems)) media.push({ field, src: resolveAsset(baseDir, image.src), kind: 'image' });
      });
    });
  }
  if (brief.brand?.logo) checkFile(baseDir, brief.brand.logo, 'brand.logo', problems);
  if (brief.brand?.font) checkFile(baseDir, brief.brand.font, 'brand.font', problems);
  const { encoders } = deps.media.caps;
  if (brief.outputs.includes('webm') && !(encoders['libvpx-vp9'] && encoders.libopus)) {
    problems.push({ path: 'outputs', message: 'this FFmpeg build has no VP9/Opus encoder: remove "webm" or install a fuller FFmpeg' });
  }
  if (!encoders.libx264) {
    problems.push({ path: 'outputs', message: 'this FFmpeg build has no libx264: install Debian\'s ffmpeg or set FFMPEG_PATH' });
  }
  const first = problems[0];
  if (first) {
    throw new AppError(first.message.startsWith('file not found') ? 'asset_not_found' : 'invalid_brief', `${first.path}: ${first.message}`, {
      details: problems,
    });
  }
  await checkMedia(media, deps, signal);
  return voice;
}
