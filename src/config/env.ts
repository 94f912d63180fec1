/**
 * Every environment variable AIPROD reads, with its meaning and default. This is the only file
 * that touches `process.env`; a bad value stops the start with the variable's name in the message.
 */
import { z } from 'zod';

const optionalPath = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

export const envSchema = z.object({
  /** Searched for ffmpeg/ffprobe when FFMPEG_PATH/FFPROBE_PATH are not set. */
  PATH: z.string().optional(),
  /** Path of the ffmpeg binary. Default: `ffmpeg` on PATH, else the npm build (@ffmpeg-installer/ffmpeg). */
  FFMPEG_PATH: optionalPath,
  /** Path of the ffprobe binary. Default: `ffprobe` on PATH, else the npm build (@ffprobe-installer/ffprobe). */
  FFPROBE_PATH: optionalPath,
  /** Directory for content-addressed stage outputs (re-used across renders). */
  AIPROD_CACHE_DIR: z.string().trim().min(1).default('.aiprod-cache'),
  /** Seconds after which one FFmpeg process is killed. */
  FFMPEG_TIMEOUT_SEC: z.coerce.number().int().min(10).max(86_400).default(3600),
  /** Threads FFmpeg may use for encoding; 0 lets FFmpeg decide. */
  FFMPEG_THREADS: z.coerce.number().int().min(0).max(256).default(0),
  /**
   * x264 preset of the video encode. superfast: motion graphics (flat colour, gradients, text)
   * look the same at CRF 20 as with veryfast, encode 40 % faster, in files about half again larger
   * (docs/benchmarks.md). Choose veryfast or slower for smaller files.
   */
  AIPROD_X264_PRESET: z
    .enum(['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow'])
    .default('superfast'),
  /** Log verbosity of the CLI: error, warn, info or debug. */
  LOG_LEVEL: z.enum(['error', 'warn', 'info', 'debug']).default('info'),
});

export type Env = z.infer<typeof envSchema>;

/** Parses an environment (default: process.env); throws naming every bad variable. */
export function loadEnv(source: Record<string, string | undefined> = process.env): Env {
  const result = envSchema.safeParse(source);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  throw new Error(`invalid configuration: ${problems.join('; ')}`);
}
