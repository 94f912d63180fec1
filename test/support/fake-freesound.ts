/**
 * A local Freesound APIv2 (base `<url>/apiv2`), speaking the shapes of its documentation
 * (freesound.org/docs/api: Text Search, Sound instance, authentication):
 *
 * - Auth with an API key: `Authorization: Token <key>` or `?token=<key>`; a wrong or missing one →
 *   401 `{ "detail": "Invalid token." }` (Django REST framework's error shape, used for every error).
 * - `GET /apiv2/search/text/?query=&filter=&fields=&sort=&page_size=&page=` → `{ count, next, previous,
 *   results: [...] }`, each result holding only the `fields` asked for (id, name, username, license,
 *   duration, previews, url …). `license` is the licence's URL. The fake's catalogue holds five
 *   sounds per query, alternately CC0 and CC BY 4.0, plus one CC BY-NC sound a `license:` filter
 *   must exclude (it is returned when the filter does not name licences).
 * - `previews['preview-hq-mp3']` (and the others) point at `/data/previews/…` on the fake, as the
 *   real ones point at Freesound's CDN; they need no key.
 * - Throttling → 429 `{ "detail": "Request was throttled. Expected available in 1 second." }` with Retry-After.
 *
 * Scenarios (`scenario`, or `failNext(s, times)`): unauthorized, rate-limited, server-error, hang,
 * malformed (not JSON), empty (no results). Freesound serves recordings and does not refuse prompts,
 * so it has no content-policy scenario.
 *
 * @example
 *   const fake = await FakeFreesound.start({ apiKey: 'fs-test' });
 *   const ctx = await providerContext({ baseUrl: `${fake.url}/apiv2`, apiKey: 'fs-test', model: 'apiv2' });
 */
import type { IncomingMessage } from 'node:http';
import { fakeAudioFiles, type FakeAudioFiles } from './fake-audio-files.js';
import { FakeAudioVendor, type RecordedRequest, type Reply } from './fake-audio-vendor.js';

export type FreesoundScenario = 'ok' | 'unauthorized' | 'rate-limited' | 'server-error' | 'hang' | 'malformed' | 'empty';

const LICENCES = ['http://creativecommons.org/publicdomain/zero/1.0/', 'https://creativecommons.org/licenses/by/4.0/'];
const NON_COMMERCIAL = 'https://creativecommons.org/licenses/by-nc/4.0/';

export class FakeFreesound extends FakeAudioVendor {
  scenario: FreesoundScenario = 'ok';
  private queued: FreesoundScenario[] = [];
  private files!: FakeAudioFiles;

  private constructor(readonly apiKey: string) {
    super();
  }

  static async start(options: { apiKey: string }): Promise<FakeFreesound> {
    const fake = new FakeFreesound(options.apiKey);
    fake.files = await fakeAudioFiles();
    await fake.listen();
    return fake;
  }

  failNext(scenario: FreesoundScenario, times = 1): void {
    this.queued.push(...Array.from({ length: times }, () => scenario));
  }

  /** Search requests only (previews are not API calls). */
  get searches(): RecordedRequest[] {
    return this.requests.filter((r) => r.path === '/apiv2/search/text/');
  }

  protected keyOf(req: IncomingMessage, query: URLSearchParams): string | undefined {
    const match = /^Token (.+)$/.exec(req.headers.authorization ?? '');
    return match?.[1] ?? query.get('token') ?? undefined;
  }

  protected route(request: RecordedRequest): Reply | undefined | Promise<Reply> {
    if (request.method === 'GET' && /^\/data\/previews\/\d+_\d+-(hq|lq)\.mp3$/.test(request.path)) {
      return { status: 200, headers: { 'content-type': 'audio/mpeg' }, body: this.files.effect };
    }
    if (request.method !== 'GET' || request.path !== '/apiv2/search/text/') return undefined;
    if (request.key !== this.apiKey) return { status: 401, body: { detail: 'Invalid token.' } };
    const scenario = this.queued.shift() ?? this.scenario;
    if (scenario === 'hang') return NEVER;
    if (scenario === 'unauthorized') return { status: 401, body: { detail: 'Invalid token.' } };
    if (scenario === 'rate-limited') return { status: 429, headers: { 'retry-after': '1' }, body: { detail: 'Request was throttled. Expected available in 1 second.' } };
    if (scenario === 'server-error') return { status: 500, body: { detail: 'Server error.' } };
    if (scenario === 'malformed') return { status: 200, headers: { 'content-type': 'application/json' }, body: '{"count": 3, "results": [' };
    const query = request.query.get('query') ?? '';
    const filter = request.query.get('filter') ?? '';
    if (!query) return { status: 400, body: { detail: 'Invalid query: the query is empty.' } };
    const sizeText = request.query.get('page_size');
    const pageSize = sizeText === null ? 15 : Number(sizeText);
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 150) return { status: 400, body: { detail: 'Invalid page_size.' } };
    const fields = (request.query.get('fields') ?? 'id,name,tags,username,license').split(',');
    const sounds = scenario === 'empty' ? [] : this.catalogue(query).filter((s) => !/license:/.test(filter) || s.license !== NON_COMMERCIAL);
    const results = sounds.slice(0, pageSize).map((s) => Object.fromEntries(fields.filter((f) => f in s).map((f) => [f, s[f as keyof typeof s]])));
    return { status: 200, body: { count: sounds.length, next: sounds.length > pageSize ? `${this.url}/apiv2/search/text/?page=2` : null, previous: null, results } };
  }

  /** Six sounds per query, the same every time: ids derived from the words. */
  private catalogue(query: string) {
    let hash = 7;
    for (const c of query) hash = (hash * 31 + c.charCodeAt(0)) % 90_000;
    return Array.from({ length: 6 }, (_, i) => {
      const id = 100_000 + hash * 10 + i;
      const username = `recordist${i}`;
      return {
        id,
        name: `${query} ${i + 1}.wav`,
        username,
        license: i === 0 ? NON_COMMERCIAL : LICENCES[i % 2]!,
        duration: 0.8,
        url: `https://freesound.org/people/${username}/sounds/${id}/`,
        previews: {
          'preview-hq-mp3': `${this.url}/data/previews/${id}_${i}-hq.mp3`,
          'preview-lq-mp3': `${this.url}/data/previews/${id}_${i}-lq.mp3`,
          'preview-hq-ogg': `${this.url}/data/previews/${id}_${i}-hq.ogg`,
          'preview-lq-ogg': `${this.url}/data/previews/${id}_${i}-lq.ogg`,
        },
        tags: query.split(' '),
      };
    });
  }
}

const NEVER = new Promise<Reply>(() => undefined);
