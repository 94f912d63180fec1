/**
 * The timeline cut into video segments, one per scene: a scene's segment opens with the
 * transition from the previous scene and runs until the next transition begins. Frame arithmetic
 * only; each segment says which part of its scene (and of the previous one) it shows.
 */
import type { Timeline } from '../timeline.js';

export interface SceneCut {
  sceneIndex: number;
  /** Scene-local frame of the cut's first frame (negative inside an incoming cross-fade). */
  localStartFrame: number;
  frames: number;
}

export interface SegmentCut {
  startFrame: number;
  frames: number;
  /** The segment's own scene. */
  scene: SceneCut;
  /** The end of the previous scene, blended into the start of this one. */
  incoming?: SceneCut;
}

/**
 * With a transition of τ frames (even, h = τ/2) the cut falls in its middle, so scene i's segment
 * covers [start_i − h, start_{i+1} − h). A cross-fade blends the previous scene's frames around
 * the cut with this scene's first τ frames (the scene starts h frames early); a dip to black fades
 * the previous scene's last h frames out and this scene's first h frames in.
 */
export function cutSegments(timeline: Timeline, mode: 'xfade' | 'dip'): SegmentCut[] {
  const { fps } = timeline;
  const h = Math.round(timeline.transitionSec * fps) / 2;
  const starts = timeline.scenes.map((s) => Math.round(s.startSec * fps));
  const lengths = timeline.scenes.map((s) => Math.round(s.durationSec * fps));
  const last = timeline.scenes.length - 1;
  return timeline.scenes.map((_, i) => {
    const start = starts[i] as number;
    const length = lengths[i] as number;
    const head = i > 0 ? h : 0;
    const tail = i < last ? h : 0;
    const frames = head + length - tail;
    if (i === 0 || h === 0) return { startFrame: start, frames: length - tail, scene: { sceneIndex: i, localStartFrame: 0, frames: length - tail } };
    const prevLength = lengths[i - 1] as number;
    return mode === 'xfade'
      ? {
          startFrame: start - h,
          frames,
          scene: { sceneIndex: i, localStartFrame: -h, frames },
          incoming: { sceneIndex: i - 1, localStartFrame: prevLength - h, frames: 2 * h },
        }
      : {
          startFrame: start - h,
          frames,
          scene: { sceneIndex: i, localStartFrame: 0, frames: length - tail },
          incoming: { sceneIndex: i - 1, localStartFrame: prevLength - h, frames: h },
        };
  });
}
