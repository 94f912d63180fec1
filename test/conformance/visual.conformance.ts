/**
 * What every VisualProvider must do, whatever makes the picture: the offline provider keeps the
 * storyboard's look ('planned'); a cloud one leaves a file inside the directory it was given that
 * ffprobe reads as the kind it claims (a still with a size, a clip with a length), in the frame's
 * orientation, reports what the vendor bills, credits stock authors, stops with 'aborted' when
 * the render is cancelled, and fails only with project error codes.
 *
 * @example
 *   visualConformance('runway', async () => ({ provider: new RunwayVisuals(ctx), stall: () => …, close: () => fake.close() }));
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadEnv } from '../../src/config/env.js';
import { AppError } from '../../src/contract/errors.js';
import { createMediaTools } from '../../src/main/container.js';
import type { BillingUnit } from '../../src/providers/provider.js';
import type { VisualProvider, VisualRequest, VisualResult } from '../../src/providers/visuals/visual.port.js';

export interface VisualSubject {
  provider: VisualProvider;
  /** The same provider with a key the vendor refuses (cloud providers). */
  withWrongKey?: VisualProvider;
  /** Makes the vendor stop answering; the returned function undoes it (cloud providers). */
  stall?: () => () => void;
  /** Stock libraries must credit the author and give the licence. */
  stock?: boolean;
  close?: () => Promise<void>;
}

const UNITS: readonly BillingUnit[] = ['inputTokens', 'outputTokens', 'characters', 'secondsOfAudio', 'secondsOfVideo', 'images', 'generations', 'requests'];
const PROJECT_CODES = /^(provider_(auth|rate_limited|unavailable|timeout|refused|bad_response|failed)|aborted)$/;

const request = (overrides: Partial<VisualRequest> = {}): VisualRequest => ({
  sceneId: 's2',
  prompt: 'a lighthouse on a rocky coast at dusk',
  style: 'muted teal and orange palette, cinematic',
  keywords: ['lighthouse', 'coast'],
  durationSec: 5,
  width: 1280,
  height: 720,
  aspectRatio: '16:9',
  seed: 3,
  prefer: 'video',
  ...overrides,
});

export function visualConformance(name: string, start: () => Promise<VisualSubject>): void {
  describe(`VisualProvider conformance: ${name}`, () => {
    let subject: VisualSubject;
    let dir: string;
    let tools: Awaited<ReturnType<typeof createMediaTools>>;

    before(async () => {
      subject = await start();
      dir = await mkdtemp(join(tmpdir(), 'aiprod-visual-conformance-'));
      tools = await createMediaTools(loadEnv({}));
    });
    after(async () => {
      await subject.close?.();
      await rm(dir, { recursive: true, force: true });
    });

    /** Checks a result against the port's promises and the file itself. */
    async function checkResult(result: VisualResult, asked: VisualRequest): Promise<void> {
      assert.ok(result.usage && typeof result.usage === 'object', 'usage is present');
      for (const [unit, amount] of Object.entries(result.usage)) {
        assert.ok(UNITS.includes(unit as BillingUnit), `unknown billing unit ${unit}`);
        assert.ok(typeof amount === 'number' && amount >= 0 && Number.isFinite(amount), `${unit} is a count`);
      }
      if (result.kind === 'planned') return;
      assert.ok(result.kind === 'image' || result.kind === 'video');
      assert.equal(dirname(result.path), dir, 'the file is inside the directory given');
      assert.ok(existsSync(result.path));
      const probe = await tools.probe(result.path);
      assert.ok(probe.video, 'ffprobe finds a picture');
      assert.ok((result.width ?? 0) > 0 && (result.height ?? 0) > 0, 'dimensions are given');
      assert.equal(result.width, probe.video.width);
      assert.equal(result.height, probe.video.height);
      if (result.kind === 'video') {
        assert.ok(probe.durationSec > 0.5, 'a clip has a length');
        assert.ok((result.durationSec ?? 0) > 0, 'the clip length is given');
        assert.ok(Math.abs((result.durationSec ?? 0) - probe.durationSec) < 0.2);
        assert.ok(!['png', 'mjpeg', 'webp'].includes(probe.video.codecName), `a clip is a video, not ${probe.video.codecName}`);
      } else {
        assert.equal(result.durationSec, undefined, 'a still has no length');
      }
      assert.ok(Object.keys(result.usage).length > 0, 'a picture from a vendor reports what it bills');
      if (subject.stock) {
        assert.ok(result.attribution?.source && result.attribution.licence, 'stock media is credited');
        assert.ok(result.attribution.author && result.attribution.url, 'stock media names its author and page');
      }
      const portrait = asked.aspectRatio === '9:16' || asked.aspectRatio === '4:5';
      if (portrait) assert.ok(result.height! > result.width!, `a ${asked.aspectRatio} frame gets a portrait picture`);
      if (asked.aspectRatio === '16:9') assert.ok(result.width! > result.height!, 'a 16:9 frame gets a landscape picture');
    }

    test('its id is a non-empty string', () => {
      assert.equal(typeof subject.provider.id, 'string');
      assert.ok(subject.provider.id.length > 0);
    });

    test('a scene that may be a clip: planned, or a file of the kind claimed', async () => {
      const asked = request({ prefer: 'video' });
      await checkResult(await subject.provider.generate(asked, dir, new AbortController().signal), asked);
    });

    test('a scene that wants a still: planned, or a file of the kind claimed', async () => {
      const asked = request({ prefer: 'image', seed: 4 });
      await checkResult(await subject.provider.generate(asked, dir, new AbortController().signal), asked);
    });

    test('a portrait frame (9:16) gets a portrait picture', async () => {
      const asked = request({ aspectRatio: '9:16', width: 720, height: 1280, prefer: 'image' });
      await checkResult(await subject.provider.generate(asked, dir), asked);
    });

    test('an already cancelled render: no work, or aborted', async () => {
      const controller = new AbortController();
      controller.abort();
      const outcome = await subject.provider.generate(request(), dir, controller.signal).then(
        (r) => r,
        (e: unknown) => e,
      );
      if (outcome instanceof Error) {
        assert.ok(outcome instanceof AppError, String(outcome));
        assert.equal(outcome.code, 'aborted');
      } else {
        assert.equal((outcome as VisualResult).kind, 'planned', 'only the offline provider may answer a cancelled render');
      }
    });

    test('cancelled while the vendor works: aborted', async (t) => {
      if (!subject.stall) return t.skip('offline: nothing to wait for');
      const undo = subject.stall();
      try {
        const controller = new AbortController();
        const pending = subject.provider.generate(request(), dir, controller.signal);
        setTimeout(() => controller.abort(), 50);
        const error = await pending.catch((e: unknown) => e);
        assert.ok(error instanceof AppError, String(error));
        assert.equal(error.code, 'aborted');
      } finally {
        undo();
      }
    });

    test('failures carry project error codes', async (t) => {
      if (!subject.withWrongKey) return t.skip('offline: nothing fails');
      const error = await subject.withWrongKey.generate(request(), dir).catch((e: unknown) => e);
      assert.ok(error instanceof AppError, String(error));
      assert.match(error.code, PROJECT_CODES);
      assert.equal(error.code, 'provider_auth');
    });
  });
}
