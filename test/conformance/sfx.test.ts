/**
 * The SoundEffectsLibrary conformance suite against the offline library and each cloud library on
 * its fake (Freesound, ElevenLabs sound effects).
 */
import { after } from 'node:test';
import { ElevenLabsSfxLibrary } from '../../src/providers/sfx/elevenlabs.adapter.js';
import { FreesoundLibrary } from '../../src/providers/sfx/freesound.adapter.js';
import { ProceduralSfxLibrary } from '../../src/providers/sfx/procedural.adapter.js';
import { FakeElevenLabsAudio } from '../support/fake-elevenlabs-audio.js';
import { FakeFreesound } from '../support/fake-freesound.js';
import { providerContext } from '../support/provider-context.js';
import { sfxConformance } from './sfx.conformance.js';

const freesound = await FakeFreesound.start({ apiKey: 'fs-conformance' });
const elevenlabs = await FakeElevenLabsAudio.start({ apiKey: 'xi-conformance' });
after(() => Promise.all([freesound.close(), elevenlabs.close()]));

const freesoundContext = await providerContext({ baseUrl: `${freesound.url}/apiv2`, apiKey: 'fs-conformance', model: 'apiv2' });
const elevenlabsContext = await providerContext({ baseUrl: elevenlabs.url, apiKey: 'xi-conformance', model: 'eleven_text_to_sound_v2' });

sfxConformance({ name: 'procedural', create: () => new ProceduralSfxLibrary() });

sfxConformance({
  name: 'freesound',
  create: () => new FreesoundLibrary(freesoundContext),
  apiKey: 'fs-conformance',
  reset: () => {
    freesound.scenario = 'ok';
  },
  failures: [
    { code: 'provider_auth', arrange: () => (freesound.scenario = 'unauthorized') },
    { code: 'provider_rate_limited', arrange: () => (freesound.scenario = 'rate-limited') },
    { code: 'provider_unavailable', arrange: () => (freesound.scenario = 'server-error') },
    { code: 'provider_bad_response', arrange: () => (freesound.scenario = 'malformed') },
    { code: 'provider_failed', arrange: () => (freesound.scenario = 'empty') },
  ],
});

sfxConformance({
  name: 'elevenlabs-sfx',
  create: () => new ElevenLabsSfxLibrary(elevenlabsContext, { sdkTimeoutMs: 2000 }),
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
