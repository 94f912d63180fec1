/**
 * Render progress for people: on a terminal, one live line with a bar and the running stages;
 * elsewhere (CI logs, pipes), plain lines when a stage starts and ends.
 */
import type { PipelineEvent, StageName } from '../pipeline/context.js';
import { overallProgress } from '../pipeline/run.js';

export interface ProgressSink {
  handle(event: PipelineEvent): void;
  finish(): void;
}

const BAR = 28;

export function createProgress(stream: NodeJS.WriteStream, quiet: boolean): ProgressSink {
  const fractions: Partial<Record<StageName, number>> = {};
  const running = new Set<StageName>();
  const started = performance.now();
  const tty = stream.isTTY === true;
  let lastDraw = 0;

  const draw = (force = false): void => {
    const now = performance.now();
    if (!force && now - lastDraw < 80) return;
    lastDraw = now;
    const p = overallProgress(fractions);
    const filled = Math.round(p * BAR);
    const bar = `${'█'.repeat(filled)}${'░'.repeat(BAR - filled)}`;
    const elapsed = ((now - started) / 1000).toFixed(1);
    const line = `${bar} ${String(Math.round(p * 100)).padStart(3)}%  ${[...running].join(', ') || 'done'}  ${elapsed}s`;
    stream.write(`\r\x1b[2K${line.slice(0, (stream.columns ?? 100) - 1)}`);
  };

  const print = (line: string): void => {
    if (tty) stream.write('\r\x1b[2K');
    stream.write(`${line}\n`);
    if (tty) draw(true);
  };

  return {
    handle(event) {
      if (quiet) return;
      switch (event.type) {
        case 'stage-start':
          running.add(event.stage);
          fractions[event.stage] = 0;
          if (!tty) print(`▶ ${event.stage}`);
          else draw(true);
          break;
        case 'stage-progress':
          fractions[event.stage] = event.fraction;
          if (tty) draw();
          break;
        case 'stage-end': {
          running.delete(event.stage);
          fractions[event.stage] = 1;
          const reused = event.cachedUnits > 0 ? ` (${event.cachedUnits}/${event.totalUnits} from cache)` : '';
          print(`✓ ${event.stage.padEnd(9)} ${event.wallSec.toFixed(2)} s${reused}`);
          break;
        }
        case 'note':
          print(`  note: ${event.message}`);
          break;
        case 'fallback':
          // Its note (printed above) says what failed and what was used instead.
          break;
      }
    },
    finish() {
      if (tty && !quiet) stream.write('\r\x1b[2K');
    },
  };
}
