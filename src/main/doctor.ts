/**
 * `aiprod doctor`: what this machine gives the pipeline — which ffmpeg/ffprobe were found and their
 * versions, missing filters and their fallbacks, fonts per script, and the voices.
 */
import type { Env } from '../config/env.js';
import { SFX_KINDS } from '../contract/brief.js';
import { FALLBACKS, WANTED_ENCODERS, WANTED_FILTERS } from '../media/capabilities.js';
import { fontReport } from '../media/fonts.js';
import { EspeakSynthesizer } from '../providers/tts/espeak.adapter.js';
import { createMediaTools } from './container.js';

export interface DoctorReport {
  ok: boolean;
  lines: string[];
}

export async function runDoctor(env: Env, opts: { allVoices: boolean }): Promise<DoctorReport> {
  const lines: string[] = [];
  let ok = true;
  const media = await createMediaTools(env).catch((error: unknown) => {
    ok = false;
    lines.push(`✗ FFmpeg: ${(error as Error).message}`);
    return undefined;
  });
  if (media) {
    const { bins, caps } = media;
    lines.push(`✓ ffmpeg  ${caps.ffmpegVersion}  ${bins.ffmpeg}  (from ${bins.source.ffmpeg})`);
    lines.push(`✓ ffprobe ${caps.ffprobeVersion}  ${bins.ffprobe}  (from ${bins.source.ffprobe})`);
    for (const name of [...WANTED_FILTERS, ...WANTED_ENCODERS]) {
      const present = name in caps.filters ? caps.filters[name as keyof typeof caps.filters] : caps.encoders[name as keyof typeof caps.encoders];
      if (present) continue;
      const fallback = FALLBACKS[name];
      if (!fallback && name === 'libx264') ok = false;
      lines.push(`${fallback ? '!' : '✗'} missing ${name}${fallback ? `: ${fallback}` : ''}`);
    }
    const missingCount = [...WANTED_FILTERS].filter((f) => !caps.filters[f]).length + [...WANTED_ENCODERS].filter((e) => !caps.encoders[e]).length;
    if (missingCount === 0) lines.push('✓ every filter and encoder AIPROD uses is present');
  }
  for (const font of fontReport()) {
    if (font.path) lines.push(`✓ font ${font.script}/${font.weight}: ${font.path}`);
    else lines.push(`! font ${font.script}/${font.weight}: none installed (text in this script falls back to the Latin font)`);
  }
  const tts = new EspeakSynthesizer();
  const voices = await tts.voices();
  lines.push(`✓ voices: ${voices.length} (espeak-ng, offline)`);
  const shown = opts.allVoices ? voices : voices.filter((v) => /^(en|fr|es|de|it|pt|zh|cmn|ar|ja|hi|ru|nl)/.test(v.languages[0] ?? ''));
  for (const v of shown) lines.push(`    ${v.id.padEnd(24)} ${v.languages.join(', ').padEnd(28)} ${v.name}`);
  if (!opts.allVoices) lines.push('    (common languages shown; `aiprod doctor --voices` lists all)');
  lines.push(`✓ sound effects: ${SFX_KINDS.join(', ')} (procedural, offline)`);
  return { ok, lines };
}
