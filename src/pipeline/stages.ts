/**
 * The order of the pipeline, in one place. `parallel` runs lanes side by side; a lane is one
 * stage or several in sequence. The audio lane (music, effects, then the mix) needs nothing from
 * the picture, so it runs while FFmpeg encodes the video; compose waits for both.
 *
 *   plan → narrate → ┬ visualize ──────────────┬→ compose → qa
 *                    └ score → foley → mix ─────┘
 */
import type { Stage } from './context.js';
import { composeStage } from './stages/compose.stage.js';
import { foleyStage } from './stages/foley.stage.js';
import { mixStage } from './stages/mix.stage.js';
import { narrateStage } from './stages/narrate.stage.js';
import { planStage } from './stages/plan.stage.js';
import { qaStage } from './stages/qa.stage.js';
import { scoreStage } from './stages/score.stage.js';
import { visualizeStage } from './stages/visualize.stage.js';

export interface Parallel {
  parallel: (Stage | Stage[])[];
}

export type Step = Stage | Parallel;

export const PIPELINE: readonly Step[] = [
  planStage,
  narrateStage,
  { parallel: [visualizeStage, [scoreStage, foleyStage, mixStage]] },
  composeStage,
  qaStage,
];

/** Every stage, in a stable order (for progress weights and listings). */
export function allStages(pipeline: readonly Step[] = PIPELINE): Stage[] {
  return pipeline.flatMap((step) => ('parallel' in step ? step.parallel.flat() : [step]));
}
