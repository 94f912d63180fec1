/**
 * What the text-prompted composers (ElevenLabs Music, Suno) are asked for: a description of an
 * instrumental bed in the storyboard's mood, with what the video is about. The same mood reads the
 * same way for every vendor; the brief is cut short and stripped of line breaks.
 */
import type { Mood } from '../../contract/brief.js';
import type { MusicRequest } from './music.port.js';

/** Style words per mood: genre, instruments, pace. No artists' names (vendors refuse them). */
export const MOOD_STYLES: Record<Mood, { style: string; tags: string }> = {
  uplifting: { style: 'uplifting, bright and hopeful pop with piano, acoustic guitar and light drums, about 120 BPM', tags: 'uplifting, bright, pop, piano, acoustic guitar, light drums' },
  calm: { style: 'calm, gentle ambient music with soft pads and sparse piano, slow, without drums', tags: 'calm, ambient, soft pads, piano, slow' },
  dramatic: { style: 'dramatic cinematic orchestral music with strings, brass and big percussion, building tension and release', tags: 'cinematic, orchestral, dramatic, strings, brass, epic percussion' },
  corporate: { style: 'clean, modern corporate background music with light synths, plucked guitar and a steady beat', tags: 'corporate, modern, clean, light synths, plucks, steady beat' },
  playful: { style: 'playful, quirky music with pizzicato strings, ukulele, glockenspiel and a bouncy rhythm', tags: 'playful, quirky, pizzicato, ukulele, glockenspiel, bouncy' },
  tense: { style: 'tense, suspenseful dark music with pulsing synths, low strings and ticking percussion', tags: 'tense, suspense, dark, pulsing synths, low strings, ticking' },
};

/** The brief as one line of at most `max` characters. */
export function briefLine(brief: string | undefined, max: number): string {
  const line = (brief ?? '').replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1).trimEnd()}…` : line;
}

/** A free-text prompt for an instrumental background bed. */
export function musicPrompt(request: MusicRequest): string {
  const about = briefLine(request.brief, 300);
  return [
    `Instrumental background music for a video: ${request.style ? `${request.style}; ` : ''}${MOOD_STYLES[request.mood].style}.`,
    'No vocals, no lyrics; steady level, suitable under a voice-over.',
    about ? `The video is about: ${about}` : '',
  ].filter(Boolean).join(' ');
}

/** A song title from the brief (vendors that require one), or the mood. */
export function musicTitle(request: MusicRequest, max = 80): string {
  return briefLine(request.brief, max) || `Background ${request.mood}`;
}
