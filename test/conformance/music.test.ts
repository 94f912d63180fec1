/**
 * The MusicComposer conformance suite against the offline composer and each cloud composer on its
 * fake (ElevenLabs Music, Suno through sunoapi.org).
 */
import { after } from 'node:test';
import { ElevenLabsComposer } from '../../src/providers/music/elevenlabs.adapter.js';
import { ProceduralComposer } from '../../src/providers/music/procedural.adapter.js';
import { SunoComposer } from '../../src/providers/music/suno.adapter.js';
import { FakeElevenLabsAudio } from '../support/fake-elevenlabs-audio.js';
import { FakeSuno } from '../support/fake-suno.js';
import { providerContext } from '../support/provider-context.js';
import { musicConformance } from './music.conformance.js';

const elevenlabs = await FakeElevenLabsAudio.start({ apiKey: 'xi-conformance' });
const suno = await FakeSuno.start({ apiKey: 'suno-conformance' });
after(() => Promise.all([elevenlabs.close(), suno.close()]));

const elevenlabsContext = await providerContext({ baseUrl: elevenlabs.url, apiKey: 'xi-conformance', model: 'music_v1' });
const sunoContext = await providerContext({ baseUrl: suno.url, apiKey: 'suno-conformance', model: 'V5', settings: { SUNO_POLL_INTERVAL_MS: '20' } });

musicConformance({ name: 'procedural', create: () => new ProceduralComposer() });

musicConformance({
  name: 'elevenlabs-music',
  create: () => new ElevenLabsComposer(elevenlabsContext, { sdkTimeoutMs: 2000 }),
  apiKey: 'xi-conformance',
  reset: () => {
    elevenlabs.scenario = 'ok';
  },
  failures: [
    { code: 'provider_auth', arrange: () => (elevenlabs.scenario = 'unauthorized') },
    { code: 'provider_rate_limited', arrange: () => (elevenlabs.scenario = 'rate-limited') },
    { code: 'provider_unavailable', arrange: () => (elevenlabs.scenario = 'server-error') },
    { code: 'provider_bad_response', arrange: () => (elevenlabs.scenario = 'malformed') },
    { code: 'provider_refused', arrange: () => (elevenlabs.scenario = 'refused') },
  ],
});

musicConformance({
  name: 'suno',
  create: () => new SunoComposer(sunoContext),
  apiKey: 'suno-conformance',
  reset: () => {
    suno.scenario = 'ok';
    suno.outcome = 'success';
    suno.track = 'short';
  },
  failures: [
    { code: 'provider_auth', arrange: () => (suno.scenario = 'unauthorized') },
    { code: 'provider_rate_limited', arrange: () => (suno.scenario = 'rate-limited') },
    { code: 'provider_unavailable', arrange: () => (suno.scenario = 'maintenance') },
    { code: 'provider_bad_response', arrange: () => (suno.scenario = 'malformed') },
    { code: 'provider_failed', arrange: () => (suno.outcome = 'audio-failed') },
    { code: 'provider_refused', arrange: () => (suno.outcome = 'sensitive') },
  ],
});
