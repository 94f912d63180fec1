/**
 * The motion gate, measured on the delivered file: FFmpeg's freezedetect (media/args/analysis.ts)
 * reports every run over 2 s in which the picture did not change, and each run is put on the
 * timeline to name the scenes it lies in.
 *
 * AIPROD draws most pictures — colour and gradient backgrounds, decorations, text that moves, and
 * the Ken Burns movement over stills — and every such scene must move: a still run over 2 s there
 * is our defect and fails the render (`motion`). Some pictures are the brief's own and may be
 * still on purpose: a video (the user's or stock footage) that is itself still, or a still image
 * the brief or storyboard asked to hold (motion "none", which is also what fit "contain" defaults
 * to). The time a run spends in such scenes is taken out of it before it is judged, as planned
 * black is for the black check; a run that only passes that way is reported as a warning
 * (`motion_held`), so a person still sees it.
 */
import type { Interval } from '../../media/args/analysis.js';
import type { Timeline } from '../timeline.js';
import type { QaCheck } from './checks.js';

export const MOTION_LIMITS = { stillSec: 2 };

/** Why a scene may be still, by scene id (see heldStillScenes in the qa stage). */
export type HeldScenes = ReadonlyMap<string, string>;

const overlap = (a: Interval, b: Interval): number => Math.max(0, Math.min(a.endSec, b.endSec) - Math.max(a.startSec, b.startSec));

export interface StillRun extends Interval {
  /** The scenes it lies in, in order. */
  sceneIds: string[];
  /** Its length once the time in held scenes is taken out. */
  drawnSec: number;
}

/** Each still run with the scenes it covers and the part of it in scenes AIPROD draws. */
export function placeStillRuns(freezes: readonly Interval[], timeline: Timeline, held: HeldScenes): StillRun[] {
  return freezes.map((run) => {
    const slots = timeline.scenes.filter((s) => overlap(run, { startSec: s.startSec, endSec: s.startSec + s.durationSec }) > 1e-3);
    const heldSec = slots.filter((s) => held.has(s.id)).reduce((sum, s) => sum + overlap(run, { startSec: s.startSec, endSec: s.startSec + s.durationSec }), 0);
    return { ...run, sceneIds: slots.map((s) => s.id), drawnSec: run.endSec - run.startSec - heldSec };
  });
}

const runText = (r: StillRun, held: HeldScenes): string =>
  `${r.startSec.toFixed(2)}–${r.endSec.toFixed(2)} s (${(r.endSec - r.startSec).toFixed(2)} s) in ${r.sceneIds.length === 1 ? 'scene' : 'scenes'} ${r.sceneIds
    .map((id) => (held.has(id) ? `${id} (${held.get(id)})` : id))
    .join(', ')}`;

export function evaluateMotion(freezes: readonly Interval[], timeline: Timeline, held: HeldScenes): QaCheck[] {
  const limit = MOTION_LIMITS.stillSec;
  const runs = placeStillRuns(freezes, timeline, held).filter((r) => r.endSec - r.startSec > limit);
  const drawn = runs.filter((r) => r.drawnSec > limit);
  const excused = runs.filter((r) => r.drawnSec <= limit);
  const list = (rs: StillRun[]): string => `${rs.length} run(s)${rs.length > 0 ? `: ${rs.slice(0, 4).map((r) => runText(r, held)).join('; ')}${rs.length > 4 ? `; and ${rs.length - 4} more` : ''}` : ''}`;
  return [
    {
      name: 'motion',
      hard: true,
      passed: drawn.length === 0,
      expected: `no still run over ${limit} s in a scene AIPROD draws (colours, gradients, decorations, text, moved stills)`,
      measured: list(drawn),
    },
    {
      name: 'motion_held',
      hard: false,
      passed: excused.length === 0,
      expected: `no still run over ${limit} s; a warning only where the brief's own picture is still (a video, or a still image with motion "none")`,
      measured: list(excused),
    },
  ];
}
