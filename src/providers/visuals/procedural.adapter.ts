/**
 * The offline visual provider: keeps the storyboard's own look, which visualize draws itself
 * (a gradient or colour, or the user's media). Always last in the chain, so a render never fails
 * for want of a picture.
 */
import type { VisualProvider, VisualRequest, VisualResult } from './visual.port.js';

export class ProceduralVisuals implements VisualProvider {
  readonly id = 'procedural-visuals@1';

  async generate(_request: VisualRequest, _dir: string): Promise<VisualResult> {
    return { kind: 'planned', usage: {} };
  }
}
