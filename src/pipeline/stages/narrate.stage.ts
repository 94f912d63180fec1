/**
 * narrate: each scene's narration through the narrate chain, one cached unit per scene (keyed by
 * text, voice, rate and provider), then the timeline and captions that follow from the speech.
 * One voice narrates the whole video: when the preferred provider fails part-way, the next one in
 * the chain narrates every scene (scenes already made stay cached for the next render).
 */
import { join } from 'node:path';
import { AppError } from '../../contract/errors.js';
import { addUsage, type Usage } from '../../providers/provider.js';
import { buildCaptions, type SceneSpeech } from '../captions.js';
import type { NarratedScene, Stage } from '../context.js';
import { buildTimeline } from '../timeline.js';

export const narrateStage: Stage = {
  name: 'narrate',
  weight: 10,
  async run(state, ctx) {
    const { brief, storyboard, voice: offlineVoice } = state;
    if (!storyboard || !offlineVoice) throw new AppError('internal', 'narrate needs a storyboard and a voice');
    const scenes = storyboard.scenes;
    // What each provider billed, kept outside the attempt: scenes a failed provider made before it failed were paid for too.
    const billedBy = new Map<string, { usage: Usage; characters: number }>();
    const { value, member } = await ctx.providers.narrate.run(
      async (m, guarded) => {
        const tts = m.provider;
        const voice = m.offline ? offlineVoice : await tts.resolveVoice(brief.language, brief.voice);
        const narration: Record<string, NarratedScene> = {};
        const usage: Usage = {};
        let characters = 0;
        for (const [i, scene] of scenes.entries()) {
          const text = scene.narration.trim();
          if (text.length === 0) {
            narration[scene.id] = { text: '', durationSec: 0, words: [] };
            continue;
          }
          const unit = await ctx.deps.cache.memo(
            'narrate',
            { provider: tts.id, scope: m.scope, text, voice: voice.id, rate: brief.speechRate },
            async (dir) => {
              const result = await guarded((signal) => tts.synthesize({ text, voiceId: voice.id, rate: brief.speechRate }, join(dir, 'speech.wav'), signal));
              return { path: result.path, durationSec: result.durationSec, words: result.words, usage: result.usage ?? (m.offline ? {} : { characters: result.characters }) };
            },
            { signal: ctx.signal, note: (n) => ctx.note(n) },
          );
          ctx.unit(unit.hit);
          characters += text.length;
          if (!unit.hit) {
            addUsage(usage, unit.value.usage);
            const billed = billedBy.get(tts.id) ?? { usage: {}, characters: 0 };
            billedBy.set(tts.id, billed);
            addUsage(billed.usage, unit.value.usage);
            billed.characters += text.length;
          }
          const { usage: _billed, ...speech } = unit.value;
          narration[scene.id] = { text, ...speech, key: unit.key };
          ctx.progress((i + 1) / scenes.length, `scene ${i + 1}/${scenes.length}`);
        }
        return { narration, usage, characters, voice };
      },
      { signal: ctx.signal, onFallback: (f) => ctx.fallback(f) },
    );
    const { narration, usage, characters } = value;
    if (brief.voice && !brief.voice.startsWith(`${member.name}:`) && !member.offline) {
      ctx.note(`voice "${brief.voice}" belongs to another provider; ${member.name}'s ${value.voice.name} narrated instead`);
    }
    ctx.record(member.provider.id, { characters }, usage);
    for (const [provider, billed] of billedBy) if (provider !== member.provider.id) ctx.record(provider, { characters: billed.characters }, billed.usage);

    const speechSec = new Map(Object.entries(narration).map(([id, n]) => [id, n.durationSec]));
    const timeline = buildTimeline(storyboard, speechSec, { fps: brief.fps, targetDurationSec: brief.targetDurationSec });
    for (const note of timeline.notes) ctx.note(note);
    const speech = new Map<string, SceneSpeech>(Object.entries(narration).map(([id, n]) => [id, { text: n.text, words: n.words }]));
    return { narration, timeline, captions: buildCaptions(timeline, speech), voice: value.voice };
  },
};
