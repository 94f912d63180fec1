/**
 * narrate: each scene's narration through the speech port, one cached unit per scene (keyed by
 * text, voice, rate and provider), then the timeline and captions that follow from the speech.
 */
import { join } from 'node:path';
import { AppError } from '../../contract/errors.js';
import { buildCaptions, type SceneSpeech } from '../captions.js';
import type { NarratedScene, Stage } from '../context.js';
import { buildTimeline } from '../timeline.js';

export const narrateStage: Stage = {
  name: 'narrate',
  weight: 10,
  async run(state, ctx) {
    const { brief, storyboard, voice } = state;
    if (!storyboard || !voice) throw new AppError('internal', 'narrate needs a storyboard and a voice');
    const tts = ctx.deps.providers.tts;
    const narration: Record<string, NarratedScene> = {};
    let characters = 0;
    for (const [i, scene] of storyboard.scenes.entries()) {
      const text = scene.narration.trim();
      if (text.length === 0) {
        narration[scene.id] = { text: '', durationSec: 0, words: [] };
        continue;
      }
      const unit = await ctx.deps.cache.memo(
        'narrate',
        { provider: tts.id, text, voice: voice.id, rate: brief.speechRate },
        async (dir) => {
          const result = await tts.synthesize({ text, voiceId: voice.id, rate: brief.speechRate }, join(dir, 'speech.wav'), ctx.signal);
          return { path: result.path, durationSec: result.durationSec, words: result.words };
        },
        { signal: ctx.signal, note: (m) => ctx.note(m) },
      );
      ctx.unit(unit.hit);
      characters += text.length;
      narration[scene.id] = { text, ...unit.value, key: unit.key };
      ctx.progress((i + 1) / storyboard.scenes.length, `scene ${i + 1}/${storyboard.scenes.length}`);
    }
    ctx.record(tts.id, { characters });

    const speechSec = new Map(Object.entries(narration).map(([id, n]) => [id, n.durationSec]));
    const timeline = buildTimeline(storyboard, speechSec, { fps: brief.fps, targetDurationSec: brief.targetDurationSec });
    for (const note of timeline.notes) ctx.note(note);
    const speech = new Map<string, SceneSpeech>(Object.entries(narration).map(([id, n]) => [id, { text: n.text, words: n.words }]));
    return { narration, timeline, captions: buildCaptions(timeline, speech) };
  },
};
