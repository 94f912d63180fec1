/**
 * A local Pexels API (api.pexels.com) for tests, following the Pexels API documentation:
 * - the key as a bare `Authorization: <key>` header (no scheme); a missing or wrong key is 401;
 * - GET /videos/search?query&orientation&size&per_page → `{ page, per_page, total_results, url,
 *   videos: [{ id, width, height, url, duration, user: { name, url }, video_files: [{ id, quality,
 *   file_type, width, height, fps, link }] }] }`;
 * - GET /v1/search?query&orientation&size&per_page → `{ page, per_page, total_results, photos:
 *   [{ id, width, height, url, photographer, photographer_url, src: { original, large2x, large,
 *   medium, small, portrait, landscape, tiny } }] }`;
 * - every answer carries X-Ratelimit-Limit / -Remaining / -Reset; 429 when the quota is spent.
 * Pexels documents no error body; the fake answers `{ "error": "…" }`.
 * Orientation decides the served media's shape (landscape 16:9, portrait 9:16, square 1:1).
 * `noVideos` / `noPhotos` empty the result lists. Pexels has no refusal or task scenario.
 */
import type { IncomingMessage } from 'node:http';
import { FakeVendor, expect, type Answer, type RouteInput } from './fake-vendor.js';
import { clipSize, fakeClip, fakeImage, stillSize } from './fake-media.js';

const SHAPE: Record<string, number> = { landscape: 16 / 9, portrait: 9 / 16, square: 1 };

export class FakePexels extends FakeVendor {
  noVideos = false;
  noPhotos = false;
  remaining = 19_999;
  /** Links each search served, by kind, for tests to check which one was taken. */
  readonly served: { videos: Array<{ page: string; files: Array<{ quality: string; width: number; height: number; link: string }> }>; photos: Array<{ page: string; large2x: string; original: string }> } = {
    videos: [],
    photos: [],
  };

  static async start(apiKey = 'pexels-test-key'): Promise<FakePexels> {
    const fake = new FakePexels(apiKey);
    await fake.listen();
    return fake;
  }

  protected keyOf(req: IncomingMessage): string | undefined {
    return req.headers.authorization;
  }

  protected authError(): Answer {
    return { status: 401, json: { error: 'Unauthorized' } };
  }

  protected errorJson(_status: number, message: string): unknown {
    return { error: message };
  }

  protected async route({ method, path, query }: RouteInput): Promise<Answer | undefined> {
    if (method !== 'GET' || (path !== '/videos/search' && path !== '/v1/search')) return undefined;
    expect(query.get('query'), 'query is required');
    const orientation = query.get('orientation') ?? 'landscape';
    expect(orientation in SHAPE, `orientation ${orientation} is not one of landscape, portrait, square`);
    expect(['small', 'medium', 'large', null].includes(query.get('size')), `size ${String(query.get('size'))} is not one of small, medium, large`);
    const perPage = Number(query.get('per_page') ?? 15);
    expect(perPage >= 1 && perPage <= 80, 'per_page must be 1-80');
    this.remaining -= 1;
    const headers = { 'x-ratelimit-limit': '20000', 'x-ratelimit-remaining': String(this.remaining), 'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 3600) };
    const shape = SHAPE[orientation] ?? 16 / 9;
    const count = Math.min(perPage, 3);
    if (path === '/videos/search') {
      const videos = this.noVideos ? [] : await Promise.all(Array.from({ length: count }, (_, i) => this.video(1000 + i, shape)));
      return { status: 200, headers, json: { page: 1, per_page: perPage, total_results: videos.length, url: 'https://www.pexels.com/videos/', videos } };
    }
    const photos = this.noPhotos ? [] : await Promise.all(Array.from({ length: count }, (_, i) => this.photo(2000 + i, shape)));
    return { status: 200, headers, json: { page: 1, per_page: perPage, total_results: photos.length, photos } };
  }

  private async video(id: number, shape: number): Promise<unknown> {
    const { width, height } = clipSize(shape);
    const bytes = await fakeClip(width, height);
    const scaled = (f: number): { width: number; height: number } => ({ width: Math.round(width * f), height: Math.round(height * f) });
    // Pexels lists several renditions; all serve the same clip here, the test checks which link was taken.
    const files = [
      { id: id * 10 + 1, quality: 'sd', file_type: 'video/mp4', ...scaled(0.5), fps: 24, link: this.serve(bytes, 'video/mp4', 'mp4') },
      { id: id * 10 + 2, quality: 'hd', file_type: 'video/mp4', ...scaled(1), fps: 24, link: this.serve(bytes, 'video/mp4', 'mp4') },
      { id: id * 10 + 3, quality: 'uhd', file_type: 'video/mp4', ...scaled(3), fps: 24, link: this.serve(bytes, 'video/mp4', 'mp4') },
      { id: id * 10 + 4, quality: null, file_type: 'application/x-mpegURL', width: null, height: null, fps: null, link: 'https://player.vimeo.com/external/x.m3u8' },
    ];
    const page = `https://www.pexels.com/video/scene-${id}/`;
    this.served.videos.push({ page, files: files.filter((f) => f.quality !== null) as Array<{ quality: string; width: number; height: number; link: string }> });
    return { id, width: width * 3, height: height * 3, url: page, image: '', duration: id % 2 === 0 ? 12 : 3, user: { id: 7, name: `Videographer ${id}`, url: 'https://www.pexels.com/@someone' }, video_files: files, video_pictures: [] };
  }

  private async photo(id: number, shape: number): Promise<unknown> {
    const { width, height } = stillSize(shape);
    const large2x = this.serve(await fakeImage('jpg', width, height), 'image/jpeg', 'jpg');
    const original = this.serve(await fakeImage('jpg', width, height), 'image/jpeg', 'jpg');
    const page = `https://www.pexels.com/photo/scene-${id}/`;
    this.served.photos.push({ page, large2x, original });
    return {
      id,
      width: width * 4,
      height: height * 4,
      url: page,
      photographer: `Photographer ${id}`,
      photographer_url: 'https://www.pexels.com/@someone',
      photographer_id: 9,
      avg_color: '#7E7E7E',
      src: { original, large2x, large: large2x, medium: large2x, small: large2x, portrait: large2x, landscape: large2x, tiny: large2x },
      liked: false,
      alt: 'a test picture',
    };
  }
}
