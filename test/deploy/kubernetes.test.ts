/**
 * deploy/kubernetes/, checked without a cluster: every manifest parses and is listed by the
 * kustomization (or named there as left out on purpose), and the keys the service depends on are
 * right — real AIPROD variables and CLI flags, probes on /health and /ready, a termination grace
 * longer than SHUTDOWN_GRACE_SEC, PDBs and autoscalers that point at real pods, and a KEDA query
 * that counts pg-boss's render jobs (run against pg-boss's own schema on PGlite).
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { test } from 'node:test';
import { loadEnv } from '../../src/config/env.js';
import { openPglite } from '../../src/db/database.js';
import { JOBS } from '../../src/queue/catalog.js';
import { PgBossQueue } from '../../src/queue/queue.js';
import {
  arr, assertRealCommandLine, dockerfile, dockerfileEnv, ENV_NAMES, isObj, obj, packageVersion, quantity, readText, readYaml, readYamlDocuments, repoPath, str,
  type Obj,
} from './deploy-files.js';

const DIR = ['deploy', 'kubernetes'] as const;
/** Files kustomization.yaml leaves out on purpose (and must say so): an example and an alternative. */
const NOT_LISTED = ['secret.example.yaml', 'worker-hpa-prometheus-adapter.yaml'];

const kustomization = obj(readYaml(...DIR, 'kustomization.yaml'), 'kustomization.yaml');
const listed = arr(kustomization.resources, 'resources').map((r) => str(r, 'resources'));

interface Manifest {
  file: string;
  doc: Obj;
  kind: string;
  name: string;
}
const load = (file: string): Manifest[] =>
  readYamlDocuments(...DIR, file).map((d, i) => {
    const doc = obj(d, `${file} document ${i + 1}`);
    const metadata = obj(doc.metadata, `${file}: metadata`);
    return { file, doc, kind: str(doc.kind, `${file}: kind`), name: str(metadata.name, `${file}: metadata.name`) };
  });
const manifests = listed.flatMap(load);
const extras = NOT_LISTED.flatMap(load);
const one = (kind: string, name: string, from = manifests): Manifest => {
  const found = from.filter((m) => m.kind === kind && m.name === name);
  assert.equal(found.length, 1, `expected one ${kind} ${name}, found ${found.length}`);
  return found[0] as Manifest;
};
const ofKind = (kind: string, from = manifests): Manifest[] => from.filter((m) => m.kind === kind);

const deployments = ofKind('Deployment');
const podSpec = (d: Manifest): Obj => obj(obj(obj(d.doc.spec, `${d.name}.spec`).template, `${d.name}.template`).spec, `${d.name}.template.spec`);
const podLabels = (d: Manifest): Obj => obj(obj(obj(obj(d.doc.spec, 'spec').template, 'template').metadata, 'template.metadata').labels, `${d.name}: pod labels`);
const podAnnotations = (d: Manifest): Obj => obj(obj(obj(obj(d.doc.spec, 'spec').template, 'template').metadata, 'template.metadata').annotations ?? {}, 'annotations');
const containersOf = (d: Manifest, init = false): Obj[] =>
  arr(podSpec(d)[init ? 'initContainers' : 'containers'] ?? [], `${d.name} containers`).map((c) => obj(c, `${d.name} container`));
const selects = (selector: Obj, labels: Obj): boolean =>
  Object.entries(obj(selector.matchLabels, 'matchLabels')).every(([k, v]) => labels[k] === v) && selector.matchExpressions === undefined;

const configMap = one('ConfigMap', 'aiprod-config');
const configData = obj(configMap.doc.data, 'ConfigMap data');
const secretExample = one('Secret', 'aiprod-secrets', extras);
const secretData = obj(secretExample.doc.stringData, 'Secret stringData');

/** What a container sees: its envFrom (the ConfigMap; the Secret's keys are empty in the example) then its env. */
function containerEnv(c: Obj, where: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of arr(c.envFrom ?? [], `${where}.envFrom`).map((f) => obj(f, `${where}.envFrom`))) {
    if (from.configMapRef) Object.assign(env, obj(one('ConfigMap', str(obj(from.configMapRef, 'configMapRef').name, 'name')).doc.data, 'data'));
    if (from.secretRef) assert.equal(obj(from.secretRef, 'secretRef').name, secretExample.name, `${where}: reads a Secret the example does not describe`);
  }
  for (const e of arr(c.env ?? [], `${where}.env`).map((x) => obj(x, `${where}.env`))) env[str(e.name, 'env name')] = e.value === undefined ? '' : String(e.value);
  return env;
}
const argsOf = (c: Obj, where: string): string[] => arr(c.args, `${where}.args`).map((a) => str(a, `${where}.args`));

test('kustomization.yaml lists every manifest, and names the ones it leaves out', () => {
  const files = readdirSync(repoPath(...DIR)).filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml');
  assert.equal(new Set(listed).size, listed.length, 'a resource is listed twice');
  for (const f of listed) assert.ok(files.includes(f), `kustomization.yaml lists ${f}, which does not exist`);
  const raw = readText(...DIR, 'kustomization.yaml');
  for (const f of NOT_LISTED) {
    assert.ok(files.includes(f), `${f} is missing`);
    assert.ok(!listed.includes(f), `${f} must not be applied`);
    assert.ok(raw.includes(f), `kustomization.yaml should say why ${f} is not listed`);
  }
  for (const f of files) assert.ok(listed.includes(f) || NOT_LISTED.includes(f), `${f} is neither listed in kustomization.yaml nor named as left out`);
  for (const m of [...manifests, ...extras]) {
    assert.match(str(m.doc.apiVersion, `${m.file}: apiVersion`), /^([a-z0-9.-]+\/)?v\d+((alpha|beta)\d+)?$/);
    assert.match(m.name, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, `${m.file}: ${m.name} is not a DNS-1123 name`);
  }
});

test('everything lives in the namespace namespace.yaml makes', () => {
  const namespace = one('Namespace', str(kustomization.namespace, 'kustomization namespace'));
  for (const m of [...manifests, ...extras].filter((x) => x.kind !== 'Namespace')) {
    assert.equal(obj(m.doc.metadata, 'metadata').namespace, namespace.name, `${m.file}: ${m.kind} ${m.name} is not in namespace ${namespace.name}`);
  }
});

test('images are pinned to the package version', () => {
  const images = arr(kustomization.images, 'images').map((i) => obj(i, 'image'));
  assert.equal(images.length, 1);
  const image = images[0] as Obj;
  assert.equal(image.newTag, packageVersion, 'kustomization.yaml: newTag is package.json\'s version');
  for (const d of deployments) {
    for (const c of [...containersOf(d), ...containersOf(d, true)]) {
      assert.equal(c.image, `${str(image.name, 'images.name')}:${packageVersion}`, `${d.name}/${String(c.name)}: image`);
    }
  }
});

test('settings are variables of src/config/env.ts with values it accepts; secrets only in the Secret', () => {
  const secretLike = /KEY|SECRET|PASSWORD|TOKEN|DATABASE_URL|REDIS_URL/;
  for (const key of Object.keys(configData)) {
    assert.ok(ENV_NAMES.has(key), `ConfigMap: ${key} is not a variable of src/config/env.ts`);
    assert.doesNotMatch(key, secretLike, `ConfigMap: ${key} belongs in the Secret`);
  }
  assert.ok(!listed.includes(secretExample.file), 'the Secret example is never applied');
  assert.ok('DATABASE_URL' in secretData && 'AIPROD_MASTER_KEY' in secretData);
  for (const [key, value] of Object.entries(secretData)) {
    assert.ok(ENV_NAMES.has(key), `Secret example: ${key} is not a variable of src/config/env.ts`);
    assert.equal(value, '', `Secret example: ${key} must hold no value`);
  }
  for (const d of deployments) {
    for (const c of [...containersOf(d), ...containersOf(d, true)]) {
      const where = `${d.name}/${String(c.name)}`;
      for (const e of arr(c.env ?? [], `${where}.env`).map((x) => obj(x, 'env'))) {
        const name = str(e.name, `${where}: env name`);
        assert.ok(ENV_NAMES.has(name), `${where}: ${name} is not a variable of src/config/env.ts`);
        assert.ok(!(secretLike.test(name) && e.value !== undefined), `${where}: ${name} is a secret: take it from the Secret`);
      }
      const env = containerEnv(c, where);
      assert.doesNotThrow(() => loadEnv(env), `${where}: its environment does not parse`);
      assert.ok(arr(c.envFrom, `${where}.envFrom`).some((f) => isObj(f) && f.secretRef), `${where}: reads the Secret (DATABASE_URL)`);
    }
  }
});

test('containers run real aiprod commands, non-root, with the writable directories they need', async () => {
  const user = dockerfile().filter((s) => s.op === 'USER').at(-1)?.args.split(':')[0];
  const imageEnv = dockerfileEnv();
  const checks: Promise<void>[] = [];
  for (const d of deployments) {
    const security = obj(podSpec(d).securityContext, `${d.name}.securityContext`);
    assert.equal(security.runAsNonRoot, true, `${d.name}: runAsNonRoot`);
    assert.equal(String(security.runAsUser), user, `${d.name}: runAsUser is the image's user`);
    const volumes = new Map(arr(podSpec(d).volumes ?? [], 'volumes').map((v) => [str(obj(v, 'volume').name, 'volume name'), obj(v, 'volume')]));
    for (const c of [...containersOf(d), ...containersOf(d, true)]) {
      const where = `${d.name}/${String(c.name)}`;
      checks.push(assertRealCommandLine(argsOf(c, where), where));
      const mounts = new Map(arr(c.volumeMounts ?? [], `${where}.volumeMounts`).map((m) => [str(obj(m, 'mount').mountPath, 'mountPath'), str(obj(m, 'mount').name, 'mount name')]));
      for (const name of mounts.values()) {
        const volume = volumes.get(name);
        assert.ok(volume, `${where} mounts volume ${name}, which the pod does not declare`);
        const claim = volume.persistentVolumeClaim;
        if (claim) one('PersistentVolumeClaim', str(obj(claim, 'claim').claimName, 'claimName'));
      }
      const env = loadEnv({ AIPROD_DATA_DIR: imageEnv.get('AIPROD_DATA_DIR'), AIPROD_CACHE_DIR: imageEnv.get('AIPROD_CACHE_DIR'), ...containerEnv(c, where) });
      const container = obj(c.securityContext, `${where}.securityContext`);
      assert.equal(container.allowPrivilegeEscalation, false, `${where}: allowPrivilegeEscalation`);
      if (container.readOnlyRootFilesystem === true) {
        assert.ok(mounts.has('/tmp'), `${where}: a read-only root needs /tmp mounted (tsx's cache)`);
        assert.ok(mounts.has(env.AIPROD_DATA_DIR), `${where}: a read-only root needs the data directory ${env.AIPROD_DATA_DIR} mounted`);
        const cacheUnder = [...mounts.keys()].some((m) => env.AIPROD_CACHE_DIR === m || env.AIPROD_CACHE_DIR.startsWith(`${m}/`));
        assert.ok(cacheUnder, `${where}: the cache directory ${env.AIPROD_CACHE_DIR} is not on a mounted volume`);
      }
    }
  }
  await Promise.all(checks);
});

test('the API: liveness on /health, readiness on /ready, on the port the Service reaches', () => {
  const api = one('Deployment', 'aiprod-api');
  const [container] = containersOf(api);
  assert.ok(container);
  assert.deepEqual(argsOf(container, 'api').slice(0, 3), ['serve', '--role', 'api']);
  const port = loadEnv(containerEnv(container, 'api')).PORT;
  const ports = arr(container.ports, 'api ports').map((p) => obj(p, 'port'));
  const http = ports.find((p) => p.containerPort === port);
  assert.ok(http, `the API listens on ${port} (PORT): declare that containerPort`);
  const probe = (kind: string): { path: string; port: unknown } => {
    const get = obj(obj(container[kind], `api.${kind}`).httpGet, `api.${kind}.httpGet`);
    assert.ok(get.port === http.name || get.port === port, `api.${kind} probes port ${String(get.port)}, not the API's`);
    return { path: str(get.path, `api.${kind}.path`), port: get.port };
  };
  assert.equal(probe('livenessProbe').path, '/health', 'liveness on /health: a database outage must not restart the API');
  assert.equal(probe('readinessProbe').path, '/ready');
  if (container.startupProbe) assert.equal(probe('startupProbe').path, '/health');
  assert.equal(podAnnotations(api)['prometheus.io/port'], String(port));
  assert.equal(podAnnotations(api)['prometheus.io/path'], '/metrics');

  const service = one('Service', 'aiprod-api');
  const spec = obj(service.doc.spec, 'service spec');
  assert.ok(Object.entries(obj(spec.selector, 'selector')).every(([k, v]) => podLabels(api)[k] === v), 'the Service selects the API pods');
  for (const p of arr(spec.ports, 'service ports').map((x) => obj(x, 'service port'))) {
    assert.ok(p.targetPort === http.name || p.targetPort === port, `the Service sends to ${String(p.targetPort)}, not the API's port`);
  }
});

test('workers: one render per pod with two cores and a GiB, metrics scraped, spot-friendly', () => {
  const worker = one('Deployment', 'aiprod-worker');
  const [container] = containersOf(worker);
  assert.ok(container);
  assert.equal(argsOf(container, 'worker')[0], 'worker');
  const env = loadEnv(containerEnv(container, 'worker'));
  const concurrency = env.WORKER_CONCURRENCY;
  assert.ok(concurrency, 'set WORKER_CONCURRENCY: Node sees the node\'s cores, not the pod\'s limit');
  assert.ok(env.FFMPEG_THREADS > 0, 'set FFMPEG_THREADS for the same reason');
  const resources = obj(container.resources, 'worker resources');
  for (const side of ['requests', 'limits'] as const) {
    const r = obj(resources[side], `worker ${side}`);
    assert.ok(quantity(r.cpu, `worker ${side}.cpu`) >= 2 * concurrency, `worker ${side}: two cores per render`);
    assert.ok(quantity(r.memory, `worker ${side}.memory`) >= 2 ** 30 * concurrency, `worker ${side}: 1 GiB per render`);
  }
  assert.ok(!container.livenessProbe || obj(obj(container.livenessProbe, 'liveness').httpGet ?? {}, 'httpGet').path !== '/ready');

  const metrics = arr(container.ports, 'worker ports').map((p) => obj(p, 'port')).find((p) => p.containerPort === env.WORKER_METRICS_PORT);
  assert.ok(metrics, `WORKER_METRICS_PORT (${String(env.WORKER_METRICS_PORT)}) is a declared containerPort`);
  assert.equal(podAnnotations(worker)['prometheus.io/scrape'], 'true');
  assert.equal(podAnnotations(worker)['prometheus.io/port'], String(env.WORKER_METRICS_PORT));

  const spec = podSpec(worker);
  const tolerations = arr(spec.tolerations, 'tolerations').map((t) => obj(t, 'toleration'));
  assert.ok(tolerations.some((t) => /spot|preemptible/.test(`${String(t.key)}=${String(t.value)}`)), 'tolerate spot nodes\' taints');
  const affinity = obj(obj(spec.affinity, 'affinity').nodeAffinity, 'nodeAffinity');
  assert.equal(affinity.requiredDuringSchedulingIgnoredDuringExecution, undefined, 'prefer spot nodes, never require them');
  const preferred = arr(affinity.preferredDuringSchedulingIgnoredDuringExecution, 'preferred').map((p) => JSON.stringify(p));
  assert.ok(preferred.some((p) => /spot/i.test(p)), 'prefer nodes labelled as spot');
});

/** Time after SHUTDOWN_GRACE_SEC for a worker to hand its renders back and close its connections. */
const HAND_BACK_SEC = 10;

test('terminationGracePeriodSeconds exceeds SHUTDOWN_GRACE_SEC plus any preStop pause; every container has resources', () => {
  assert.ok(deployments.length >= 2);
  for (const d of deployments) {
    const spec = podSpec(d);
    const period = Number(spec.terminationGracePeriodSeconds ?? 30);
    for (const c of containersOf(d)) {
      const where = `${d.name}/${String(c.name)}`;
      const grace = loadEnv(containerEnv(c, where)).SHUTDOWN_GRACE_SEC;
      const preStop = isObj(c.lifecycle) && isObj(c.lifecycle.preStop) ? c.lifecycle.preStop : undefined;
      const command = preStop && isObj(preStop.exec) ? arr(preStop.exec.command, 'preStop command').map(String) : [];
      const pause = command[0] === 'sleep' ? Number(command[1]) : isObj(preStop?.sleep) ? Number(preStop.sleep.seconds) : 0;
      assert.ok(
        period >= grace + pause + HAND_BACK_SEC,
        `${where}: terminationGracePeriodSeconds (${period}) must be at least SHUTDOWN_GRACE_SEC (${grace}) + preStop (${pause}) + ${HAND_BACK_SEC} s to hand renders back, or they are killed first`,
      );
    }
    for (const c of [...containersOf(d), ...containersOf(d, true)]) {
      const r = obj(c.resources, `${d.name}/${String(c.name)}.resources`);
      const requests = obj(r.requests, 'requests');
      const limits = obj(r.limits, 'limits');
      assert.ok(requests.cpu !== undefined && requests.memory !== undefined && limits.memory !== undefined, `${d.name}/${String(c.name)}: cpu and memory requests, a memory limit`);
      assert.ok(quantity(limits.memory, 'limits.memory') >= quantity(requests.memory, 'requests.memory'));
    }
  }
  const workerEnv = loadEnv(containerEnv(containersOf(one('Deployment', 'aiprod-worker'))[0] ?? {}, 'worker'));
  assert.notEqual(workerEnv.SHUTDOWN_GRACE_SEC, 30, 'the worker sets SHUTDOWN_GRACE_SEC beside its grace period');
});

test('each Deployment selects its own pods and has a PodDisruptionBudget that selects them', () => {
  const pdbs = ofKind('PodDisruptionBudget');
  for (const d of deployments) {
    assert.ok(selects(obj(obj(d.doc.spec, 'spec').selector, 'selector'), podLabels(d)), `${d.name}: its selector does not match its pod labels`);
    const covering = pdbs.filter((p) => selects(obj(obj(p.doc.spec, 'spec').selector, 'selector'), podLabels(d)));
    assert.equal(covering.length, 1, `${d.name}: expected one PodDisruptionBudget selecting its pods, found ${covering.length}`);
  }
  for (const p of pdbs) {
    const matched = deployments.filter((d) => selects(obj(obj(p.doc.spec, 'spec').selector, 'selector'), podLabels(d)));
    assert.equal(matched.length, 1, `PodDisruptionBudget ${p.name} selects the pods of ${matched.length} Deployments`);
    const spec = obj(p.doc.spec, 'spec');
    assert.ok((spec.minAvailable === undefined) !== (spec.maxUnavailable === undefined), `${p.name}: minAvailable or maxUnavailable`);
  }
});

const targetOf = (m: Manifest): string => str(obj(obj(m.doc.spec, 'spec').scaleTargetRef, 'scaleTargetRef').name, `${m.name}: scaleTargetRef.name`);

test('autoscaling: the API on CPU, workers on the render queue (KEDA, or the HPA alternative on the exported metric)', () => {
  const scalers = [...ofKind('HorizontalPodAutoscaler'), ...ofKind('ScaledObject')];
  const targets = scalers.map(targetOf);
  assert.equal(new Set(targets).size, targets.length, 'two autoscalers on one Deployment fight');
  for (const t of targets) one('Deployment', t);
  for (const d of deployments) assert.equal(obj(d.doc.spec, 'spec').replicas, undefined, `${d.name}: its autoscaler owns replicas`);

  const apiHpa = ofKind('HorizontalPodAutoscaler').find((h) => targetOf(h) === 'aiprod-api');
  assert.ok(apiHpa, 'an HPA scales the API');
  const apiMetrics = arr(obj(apiHpa.doc.spec, 'spec').metrics, 'metrics').map((m) => obj(m, 'metric'));
  assert.ok(apiMetrics.some((m) => m.type === 'Resource' && obj(m.resource, 'resource').name === 'cpu'));

  const scaled = one('ScaledObject', 'aiprod-worker');
  assert.equal(targetOf(scaled), 'aiprod-worker');
  assert.ok(Number(obj(scaled.doc.spec, 'spec').minReplicaCount) >= 1, 'keep a worker: workers also deliver webhooks and sweep stalls');
  const [trigger] = arr(obj(scaled.doc.spec, 'spec').triggers, 'triggers').map((t) => obj(t, 'trigger'));
  assert.equal(trigger?.type, 'postgresql');
  const auth = one('TriggerAuthentication', str(obj(trigger.authenticationRef, 'authenticationRef').name, 'authenticationRef.name'));
  const refs = arr(obj(auth.doc.spec, 'spec').secretTargetRef, 'secretTargetRef').map((r) => obj(r, 'ref'));
  const connection = refs.find((r) => r.parameter === 'connection');
  assert.ok(connection, 'the scaler gets its connection string from the Secret');
  assert.equal(connection.name, secretExample.name);
  assert.ok(str(connection.key, 'key') in secretData, `the Secret has no ${String(connection.key)}`);
  const worker = one('Deployment', 'aiprod-worker');
  const concurrency = loadEnv(containerEnv(containersOf(worker)[0] ?? {}, 'worker')).WORKER_CONCURRENCY;
  assert.equal(Number(obj(trigger.metadata, 'metadata').targetQueryValue), concurrency, 'one replica per WORKER_CONCURRENCY jobs');

  const alternative = one('HorizontalPodAutoscaler', 'aiprod-worker', extras);
  assert.equal(targetOf(alternative), 'aiprod-worker');
  const [external] = arr(obj(alternative.doc.spec, 'spec').metrics, 'metrics').map((m) => obj(m, 'metric'));
  assert.equal(external?.type, 'External');
  const rule = readText(...DIR, alternative.file);
  // Metrics are registered by name, as string literals, in src/.
  const sources = readdirSync(repoPath('src'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .map((f) => readText('src', f))
    .join('\n');
  for (const name of ['aiprod_queue_waiting_jobs', 'aiprod_worker_slots_busy']) {
    assert.ok(rule.includes(name), `the prometheus-adapter rule reads ${name}`);
    assert.ok(sources.includes(`'${name}'`), `${name} is not a metric AIPROD exports (no metric of that name in src/)`);
  }
  const metricName = str(obj(obj(external.external, 'external').metric, 'metric').name, 'external metric name');
  assert.ok(rule.includes(`as: ${metricName}`), 'the HPA reads the metric the adapter rule defines');
});

test('the KEDA query counts the render jobs pg-boss holds that a worker renders or could start', async () => {
  const scaled = one('ScaledObject', 'aiprod-worker');
  const [trigger] = arr(obj(scaled.doc.spec, 'spec').triggers, 'triggers').map((t) => obj(t, 'trigger'));
  const query = str(obj(trigger?.metadata, 'metadata').query, 'query');
  assert.ok(query.includes('pgboss.job'), 'pg-boss keeps jobs in pgboss.job (the schema src/queue/queue.ts uses)');
  assert.ok(query.includes(`'${JOBS.render.queue}'`), `the render queue is ${JOBS.render.queue} (src/queue/catalog.ts)`);

  const database = await openPglite();
  const queue = await PgBossQueue.start(database, { supervise: false });
  try {
    const count = async (): Promise<number> => Number(Object.values((await database.executeSql(query)).rows[0] as Obj)[0]);
    assert.equal(await count(), 0);
    const ready = await queue.enqueue('render', { productionId: 'ready' });
    await queue.enqueue('render', { productionId: 'deferred' }, { startAfterSec: 3600 });
    await queue.enqueue('webhook', { deliveryId: 'd1' });
    assert.equal(await count(), 1, 'a render job that can start counts; a deferred one and other queues do not');
    await database.executeSql(`update pgboss.job set state = 'active', started_on = now() where id = $1`, [ready]);
    assert.equal(await count(), 1, 'a job being rendered still needs its worker');
    await database.executeSql(`update pgboss.job set state = 'completed', completed_on = now() where id = $1`, [ready]);
    assert.equal(await count(), 0);
  } finally {
    await queue.stop();
    await database.close();
  }
});
