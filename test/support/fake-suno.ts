/**
 * A local sunoapi.org (a third-party gateway to Suno; Suno has no public API), speaking the shapes
 * of its documentation (docs.sunoapi.org: Generate Music, Get Music Generation Details, Get
 * Remaining Credits):
 *
 * - Auth: `Authorization: Bearer <key>`.
 * - Every answer is HTTP 200 with `{ code, msg, data }`; `code` is the real status: 200 success,
 *   400 bad parameters, 401 unauthorised, 404 wrong path, 405 limit exceeded, 413 prompt too long,
 *   429 insufficient credits, 430 calls too frequent, 455 maintenance, 500 server error.
 * - `POST /api/v1/generate` `{ customMode, instrumental, style, title, model, callBackUrl, prompt? }`
 *   → `data: { taskId }`; callBackUrl is required (`code 400, "Please enter callBackUrl."`).
 * - `GET /api/v1/generate/record-info?taskId=` → `data: { taskId, status, response: { sunoData: [
 *   { id, audioUrl, streamAudioUrl, imageUrl, title, tags, duration, modelName } ] }, errorCode, errorMessage }`.
 *   status goes PENDING → TEXT_SUCCESS → FIRST_SUCCESS → SUCCESS over `pollsToFinish` polls, or ends
 *   in GENERATE_AUDIO_FAILED / SENSITIVE_WORD_ERROR (`outcome`).
 * - `GET /api/v1/generate/credit` → `data: <credits>`.
 * - The tracks are served by the fake itself at `/files/<id>.mp3` (`track`: 4 s or 20 s).
 *
 * Scenarios (`scenario`, or `failNext(s, times)`): unauthorized (code 401), rate-limited (code 430),
 * credits (code 429), maintenance (code 455), server-error (code 500), http-429 (a real HTTP 429 with
 * Retry-After: 1, as a proxy in front of the gateway answers), http-500, hang, malformed (not JSON).
 *
 * @example
 *   const fake = await FakeSuno.start({ apiKey: 'suno-test' });
 *   fake.outcome = 'sensitive';
 */
import type { IncomingMessage } from 'node:http';
import { fakeAudioFiles, type FakeAudioFiles } from './fake-audio-files.js';
import { FakeAudioVendor, type RecordedRequest, type Reply } from './fake-audio-vendor.js';

export type SunoScenario = 'ok' | 'unauthorized' | 'rate-limited' | 'credits' | 'maintenance' | 'server-error' | 'http-429' | 'http-500' | 'hang' | 'malformed';

const MODELS = ['V3_5', 'V4', 'V4_5', 'V4_5PLUS', 'V4_5ALL', 'V5'];

interface Task {
  id: string;
  polls: number;
  outcome: FakeSuno['outcome'];
  track: FakeSuno['track'];
  title: string;
  style: string;
  model: string;
}

export class FakeSuno extends FakeAudioVendor {
  scenario: SunoScenario = 'ok';
  /** How the next created task ends. */
  outcome: 'success' | 'audio-failed' | 'sensitive' | 'callback-exception' = 'success';
  /** Which track the next created task returns. */
  track: 'short' | 'long' = 'long';
  /**
   * The poll of record-info on which a task is finished; the polls before it answer PENDING,
   * TEXT_SUCCESS, then FIRST_SUCCESS (one track ready) on the poll just before.
   */
  pollsToFinish = 4;
  readonly tasks = new Map<string, Task>();
  private queued: SunoScenario[] = [];
  private files!: FakeAudioFiles;

  private constructor(readonly apiKey: string) {
    super();
  }

  static async start(options: { apiKey: string }): Promise<FakeSuno> {
    const fake = new FakeSuno(options.apiKey);
    fake.files = await fakeAudioFiles();
    await fake.listen();
    return fake;
  }

  failNext(scenario: SunoScenario, times = 1): void {
    this.queued.push(...Array.from({ length: times }, () => scenario));
  }

  protected keyOf(req: IncomingMessage): string | undefined {
    const match = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    return match?.[1];
  }

  protected route(request: RecordedRequest): Reply | undefined | Promise<Reply> {
    const file = /^\/files\/([\w-]+)\.mp3$/.exec(request.path);
    if (request.method === 'GET' && file) {
      const task = [...this.tasks.values()].find((t) => file[1]!.startsWith(t.id));
      return task ? { status: 200, headers: { 'content-type': 'audio/mpeg' }, body: this.files[task.track] } : { status: 404, body: 'not found' };
    }
    const known =
      (request.method === 'POST' && request.path === '/api/v1/generate') ||
      (request.method === 'GET' && (request.path === '/api/v1/generate/record-info' || request.path === '/api/v1/generate/credit'));
    if (!known) return undefined;
    const scenario = this.queued.shift() ?? this.scenario;
    if (scenario === 'hang') return NEVER;
    if (scenario === 'http-429') return { status: 429, headers: { 'retry-after': '1' }, body: { code: 430, msg: 'Your call frequency is too high. Please try again later.' } };
    if (scenario === 'http-500') return { status: 502, body: '<html>Bad Gateway</html>' };
    if (scenario === 'malformed') return { status: 200, headers: { 'content-type': 'application/json' }, body: '{"code": 200, "data": ' };
    if (request.key !== this.apiKey || scenario === 'unauthorized') return answer(401, 'You do not have access permissions');
    if (scenario === 'rate-limited') return answer(430, 'Your call frequency is too high. Please try again later.');
    if (scenario === 'credits') return answer(429, 'The current credits are insufficient. Please top up.');
    if (scenario === 'maintenance') return answer(455, 'The website is under maintenance.');
    if (scenario === 'server-error') return answer(500, 'Server exception, please try again later.');
    if (request.path === '/api/v1/generate/credit') return answer(200, 'success', 100);
    if (request.path === '/api/v1/generate') return this.generate(request.body as Record<string, unknown>);
    return this.recordInfo(request.query.get('taskId') ?? '');
  }

  private generate(body: Record<string, unknown>): Reply {
    if (!body || typeof body !== 'object') return answer(400, 'Invalid parameters.');
    if (typeof body.callBackUrl !== 'string' || !/^https?:\/\//.test(body.callBackUrl)) return answer(400, 'Please enter callBackUrl.');
    if (typeof body.customMode !== 'boolean' || typeof body.instrumental !== 'boolean') return answer(400, 'customMode and instrumental are required.');
    if (typeof body.model !== 'string' || !MODELS.includes(body.model)) return answer(400, `model must be one of ${MODELS.join(', ')}`);
    if (body.customMode && (typeof body.style !== 'string' || typeof body.title !== 'string' || !body.style || !body.title)) return answer(400, 'style and title are required in custom mode.');
    if (body.customMode && !body.instrumental && typeof body.prompt !== 'string') return answer(400, 'prompt is required in custom mode with vocals.');
    if (typeof body.title === 'string' && body.title.length > 80) return answer(413, 'The title is too long.');
    const styleMax = body.model === 'V3_5' || body.model === 'V4' ? 200 : 1000;
    if (typeof body.style === 'string' && body.style.length > styleMax) return answer(413, 'The style is too long.');
    const id = `task${this.tasks.size + 1}x${Math.random().toString(16).slice(2, 8)}`;
    this.tasks.set(id, { id, polls: 0, outcome: this.outcome, track: this.track, title: String(body.title), style: String(body.style), model: body.model });
    return answer(200, 'success', { taskId: id });
  }

  private recordInfo(taskId: string): Reply {
    const task = this.tasks.get(taskId);
    if (!task) return answer(400, 'The task does not exist.');
    task.polls++;
    const base = { taskId, parentMusicId: '', param: JSON.stringify({ style: task.style, title: task.title, customMode: true, instrumental: true, model: task.model }), type: 'GENERATE' };
    const duration = task.track === 'short' ? 4 : 20;
    const song = (n: number, ready: boolean) => ({
      id: `${task.id}-${n}`,
      audioUrl: ready ? `${this.url}/files/${task.id}-${n}.mp3` : '',
      streamAudioUrl: `${this.url}/stream/${task.id}-${n}`,
      imageUrl: `${this.url}/files/${task.id}-${n}.jpeg`,
      prompt: '[Instrumental]',
      modelName: 'chirp-v4',
      title: task.title,
      tags: task.style,
      createTime: '2026-12-01 00:00:00',
      duration: ready ? duration : null,
    });
    if (task.polls < this.pollsToFinish) {
      // A task that will fail never gets a finished track first.
      const steps = task.outcome === 'success' || task.outcome === 'callback-exception' ? ['PENDING', 'TEXT_SUCCESS', 'FIRST_SUCCESS'] : ['PENDING', 'PENDING', 'PENDING'];
      const left = this.pollsToFinish - task.polls; // 1: the poll before the end
      const status = steps[Math.max(0, steps.length - left)]!;
      const sunoData = status === 'PENDING' ? [] : status === 'TEXT_SUCCESS' ? [song(1, false), song(2, false)] : [song(1, true), song(2, false)];
      return answer(200, 'success', { ...base, response: { taskId, sunoData }, status, errorCode: null, errorMessage: null });
    }
    if (task.outcome === 'audio-failed') {
      return answer(200, 'success', { ...base, response: { taskId, sunoData: [] }, status: 'GENERATE_AUDIO_FAILED', errorCode: 501, errorMessage: 'Audio generation failed.' });
    }
    if (task.outcome === 'sensitive') {
      return answer(200, 'success', { ...base, response: null, status: 'SENSITIVE_WORD_ERROR', errorCode: 400, errorMessage: 'The description contains sensitive words.' });
    }
    const status = task.outcome === 'callback-exception' ? 'CALLBACK_EXCEPTION' : 'SUCCESS';
    return answer(200, 'success', { ...base, response: { taskId, sunoData: [song(1, true), song(2, true)] }, status, errorCode: null, errorMessage: null });
  }
}

const NEVER = new Promise<Reply>(() => undefined);

function answer(code: number, msg: string, data: unknown = null): Reply {
  return { status: 200, body: { code, msg, data } };
}
