/**
 * The timeline: where each scene starts and how long it lasts, fixed once narration is known.
 * Every duration is a whole number of frames, so video segments concatenate without drift and
 * audio placed at a scene's start lines up with its first frame.
 */
import type { Storyboard } from '../contract/storyboard.js';

export interface SceneSlot {
  id: string;
  index: number;
  startSec: number;
  durationSec: number;
  /** Absolute time the narration starts, and its length (0 for a silent scene). */
  speechStartSec: number;
  speechDurationSec: number;
}

export interface Timeline {
  fps: number;
  /** Length of each scene-to-scene transition (a whole, even number of frames). */
  transitionSec: number;
  totalSec: number;
  scenes: SceneSlot[];
  /** Adjustments a reviewer should know about (e.g. a scene lengthened to fit its narration). */
  notes: string[];
}

export interface TimelineOptions {
  fps: number;
  targetDurationSec?: number;
  /** Silence before the narration starts in a scene. */
  leadSec?: number;
  /** Silence after it ends. */
  tailSec?: number;
  /** Length of a scene with neither narration nor a requested duration. */
  silentSceneSec?: number;
  transitionSec?: number;
}

const frames = (sec: number, fps: number): number => Math.max(1, Math.round(sec * fps));

export function buildTimeline(storyboard: Storyboard, speechSec: ReadonlyMap<string, number>, options: TimelineOptions): Timeline {
  const { fps, leadSec = 0.35, tailSec = 0.6, silentSceneSec = 3 } = options;
  const notes: string[] = [];
  const wanted = storyboard.scenes.map((scene) => {
    const speech = speechSec.get(scene.id) ?? 0;
    const needed = speech > 0 ? leadSec + speech + tailSec : 0;
    if (scene.durationSec !== undefined) {
      if (scene.durationSec < needed) {
        notes.push(`scene ${scene.id} lengthened from ${scene.durationSec} s to ${needed.toFixed(2)} s to fit its narration`);
        return { sec: needed, fixed: true };
      }
      return { sec: scene.durationSec, fixed: true };
    }
    return { sec: needed > 0 ? needed : silentSceneSec, fixed: false };
  });

  // Scenes sized by their narration stretch to meet a target length; explicit durations do not.
  const target = options.targetDurationSec;
  const total = wanted.reduce((s, w) => s + w.sec, 0);
  const flexible = wanted.filter((w) => !w.fixed).reduce((s, w) => s + w.sec, 0);
  if (target !== undefined && total < target && flexible > 0) {
    const scale = 1 + (target - total) / flexible;
    for (const w of wanted) if (!w.fixed) w.sec *= scale;
  } else if (target !== undefined && total > target * 1.15) {
    notes.push(`the narration needs ${total.toFixed(1)} s, longer than the ${target} s target`);
  }

  let startFrame = 0;
  const scenes: SceneSlot[] = storyboard.scenes.map((scene, index) => {
    const durFrames = frames(wanted[index]?.sec ?? silentSceneSec, fps);
    const speech = speechSec.get(scene.id) ?? 0;
    const slot: SceneSlot = {
      id: scene.id,
      index,
      startSec: startFrame / fps,
      durationSec: durFrames / fps,
      speechStartSec: startFrame / fps + (speech > 0 ? leadSec : 0),
      speechDurationSec: speech,
    };
    startFrame += durFrames;
    return slot;
  });

  const shortest = Math.min(...scenes.map((s) => s.durationSec));
  // A transition eats half of each neighbouring scene's edge; keep it under a third of the shortest.
  const wantedTransition = Math.min(options.transitionSec ?? 0.5, shortest / 3);
  const transitionFrames = scenes.length > 1 ? 2 * Math.floor(frames(wantedTransition, fps) / 2) : 0;

  return { fps, transitionSec: transitionFrames / fps, totalSec: startFrame / fps, scenes, notes };
}
