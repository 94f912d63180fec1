/**
 * deploy/compose.yaml, the image it builds (deploy/Dockerfile, .dockerignore) and Prometheus'
 * configuration, checked without Docker: what `docker compose config` would refuse (unknown keys,
 * services without an image, dangling depends_on, undeclared volumes, malformed ports, missing
 * files and secrets), and what the stack needs to work (real AIPROD variables with values it
 * accepts, real CLI flags, the data volume, a grace period longer than the workers', every
 * worker scraped).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { test } from 'node:test';
import { loadEnv } from '../../src/config/env.js';
import {
  arr, assertRealCommandLine, dockerfile, dockerfileEnv, ENV_NAMES, isObj, obj, packageVersion, parseEnvFile, readText, readYaml, repoPath, repoRoot, str, type Obj,
} from './deploy-files.js';

// ── Compose's variable interpolation ($$, $VAR, ${VAR}, ${VAR:-default}, ${VAR:?error} …) ─────
const REFERENCE = /\$(\$|\{([^}]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g;

function interpolate(value: string, vars: ReadonlyMap<string, string>, where: string): string {
  return value.replace(REFERENCE, (whole, _any: string, braced: string | undefined, bare: string | undefined) => {
    if (whole === '$$') return '$';
    if (bare !== undefined) return vars.get(bare) ?? '';
    const match = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([\s\S]*))?$/.exec(braced ?? '');
    assert.ok(match, `${where}: malformed interpolation ${whole}`);
    const [, name = '', op, arg = ''] = match;
    const set = vars.has(name);
    const val = vars.get(name) ?? '';
    if (op === undefined) return val;
    if (op === ':-') return set && val !== '' ? val : arg;
    if (op === '-') return set ? val : arg;
    if (op === ':+') return set && val !== '' ? arg : '';
    if (op === '+') return set ? arg : '';
    if ((op === ':?' && (!set || val === '')) || (op === '?' && !set)) throw new Error(`required variable ${name} is missing a value: ${arg}`);
    return val;
  });
}

/** Every ${NAME…} and $NAME in the file's values (Compose leaves comments and keys alone), with its operator ('' for none). */
function references(node: unknown): { name: string; op: string }[] {
  if (Array.isArray(node)) return node.flatMap(references);
  if (isObj(node)) return Object.values(node).flatMap(references);
  if (typeof node !== 'string') return [];
  const found: { name: string; op: string }[] = [];
  for (const m of node.matchAll(REFERENCE)) {
    if (m[0] === '$$') continue;
    const inner = /^([A-Za-z_][A-Za-z0-9_]*)(:?[-?+])?/.exec(m[2] ?? m[3] ?? '');
    assert.ok(inner, `deploy/compose.yaml: malformed interpolation ${m[0]}`);
    found.push({ name: inner[1] ?? '', op: inner[2] ?? '' });
  }
  return found;
}

function interpolateAll(node: unknown, vars: ReadonlyMap<string, string>, where = ''): unknown {
  if (typeof node === 'string') return interpolate(node, vars, where);
  if (Array.isArray(node)) return node.map((v, i) => interpolateAll(v, vars, `${where}[${i}]`));
  if (isObj(node)) return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, interpolateAll(v, vars, `${where}.${k}`)]));
  return node;
}

const example = parseEnvFile(readText('deploy', '.env.example'));
const SECRET = /PASSWORD|SECRET|MASTER_KEY/;
/** deploy/.env as an operator fills it in: every empty secret given a value. */
const filled = new Map([...example].map(([k, v]): [string, string] => [k, v === '' && SECRET.test(k) ? `test-${k.toLowerCase()}` : v]));
const compose = obj(interpolateAll(readYaml('deploy', 'compose.yaml'), filled), 'compose.yaml');
const services = obj(compose.services, 'services');
const service = (name: string): Obj => obj(services[name], `services.${name}`);
const environment = (svc: Obj): Record<string, string> => {
  const env = svc.environment ?? {};
  if (Array.isArray(env)) return Object.fromEntries(env.map((e) => String(e).split(/=(.*)/s).slice(0, 2)));
  return Object.fromEntries(Object.entries(obj(env, 'environment')).map(([k, v]) => [k, v === null ? '' : String(v)]));
};

/** Services that run the AIPROD image (built from deploy/Dockerfile). */
const aiprodServices = Object.entries(services).filter(([, s]) => isObj(s) && isObj(s.build) && s.build.dockerfile === 'deploy/Dockerfile');
const commandOf = (svc: Obj, where: string): string[] => arr(svc.command, `${where}.command`).map((a) => str(a, `${where}.command`));
/** A service that renders: `aiprod worker`, or `aiprod serve` without --role api. */
const renders = (argv: string[]): boolean => argv[0] === 'worker' || (argv[0] === 'serve' && !argv.join(' ').includes('--role api'));

function seconds(duration: unknown, what: string): number {
  const text = str(duration, what);
  assert.match(text, /^(\d+(\.\d+)?(h|m|s|ms|us))+$/, `${what}: "${text}" is not a Compose duration`);
  const unit: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 1e-3, us: 1e-6 };
  return [...text.matchAll(/(\d+(?:\.\d+)?)(h|ms|us|m|s)/g)].reduce((sum, m) => sum + Number(m[1]) * (unit[m[2] ?? 's'] ?? 0), 0);
}

// ── Compose's own rules ───────────────────────────────────────────────────────────────────────
const TOP_KEYS = new Set(['version', 'name', 'include', 'services', 'networks', 'volumes', 'secrets', 'configs', 'models']);
const SERVICE_KEYS = new Set(
  ('annotations attach build blkio_config cap_add cap_drop cgroup cgroup_parent command configs container_name cpu_count cpu_percent ' +
    'cpu_period cpu_quota cpu_rt_period cpu_rt_runtime cpu_shares cpus cpuset credential_spec depends_on deploy develop device_cgroup_rules ' +
    'devices dns dns_opt dns_search domainname entrypoint env_file environment expose extends external_links extra_hosts gpus group_add ' +
    'healthcheck hostname image init ipc isolation labels links logging mac_address mem_limit mem_reservation mem_swappiness memswap_limit ' +
    'network_mode networks oom_kill_disable oom_score_adj pid pids_limit platform ports post_start pre_stop privileged profiles pull_policy ' +
    'read_only restart runtime scale secrets security_opt shm_size stdin_open stop_grace_period stop_signal storage_opt sysctls tmpfs tty ' +
    'ulimits user userns_mode uts volumes volumes_from working_dir').split(' '),
);
const HEALTHCHECK_KEYS = new Set(['test', 'interval', 'timeout', 'retries', 'start_period', 'start_interval', 'disable']);
const CONDITIONS = new Set(['service_started', 'service_healthy', 'service_completed_successfully']);
const PORT = /^(?:(?:\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-fA-F:]+\]):)?(?:(\d+(?:-\d+)?):)?(\d+(?:-\d+)?)(?:\/(tcp|udp|sctp))?$/;

test('compose.yaml has only keys Compose knows, and every service an image', () => {
  for (const key of Object.keys(compose)) assert.ok(TOP_KEYS.has(key) || key.startsWith('x-'), `unknown top-level key ${key}`);
  assert.ok(Object.keys(services).length > 0);
  for (const [name, raw] of Object.entries(services)) {
    const svc = obj(raw, name);
    assert.match(name, /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, `service name ${name}`);
    for (const key of Object.keys(svc)) assert.ok(SERVICE_KEYS.has(key) || key.startsWith('x-'), `services.${name}: unknown key ${key}`);
    assert.ok(svc.image !== undefined || svc.build !== undefined, `services.${name} has neither image nor build`);
    if (svc.healthcheck !== undefined) {
      const hc = obj(svc.healthcheck, `${name}.healthcheck`);
      for (const key of Object.keys(hc)) assert.ok(HEALTHCHECK_KEYS.has(key), `services.${name}.healthcheck: unknown key ${key}`);
      const testCmd = hc.test;
      if (Array.isArray(testCmd)) assert.ok(['CMD', 'CMD-SHELL', 'NONE'].includes(String(testCmd[0])), `services.${name}.healthcheck.test must start with CMD, CMD-SHELL or NONE`);
      else str(testCmd, `services.${name}.healthcheck.test`);
      for (const key of ['interval', 'timeout', 'start_period']) if (hc[key] !== undefined) seconds(hc[key], `services.${name}.healthcheck.${key}`);
    }
    if (svc.stop_grace_period !== undefined) seconds(svc.stop_grace_period, `services.${name}.stop_grace_period`);
    if (svc.restart !== undefined) assert.match(str(svc.restart, `${name}.restart`), /^(no|always|on-failure(:\d+)?|unless-stopped)$/);
  }
});

test('images are pinned to a version, and the AIPROD image is built from this repository at its version', () => {
  for (const [name, raw] of Object.entries(services)) {
    const svc = obj(raw, name);
    if (svc.image === undefined) continue;
    const image = str(svc.image, `${name}.image`);
    const tag = /:([^:/@]+)$/.exec(image)?.[1];
    assert.ok(tag, `services.${name}: image ${image} has no tag`);
    assert.notEqual(tag, 'latest', `services.${name}: image ${image} is not pinned`);
    assert.match(tag, /\d/, `services.${name}: tag of ${image} names no version`);
  }
  assert.ok(aiprodServices.length >= 3, 'the migration job, the API and the worker run the AIPROD image');
  for (const [name, raw] of aiprodServices) {
    const svc = obj(raw, name);
    assert.equal(svc.image, `aiprod:${packageVersion}`, `services.${name}: tag the built image with package.json's version`);
    const build = obj(svc.build, `${name}.build`);
    const context = posix.join('deploy', str(build.context, `${name}.build.context`));
    assert.equal(context, '.', `services.${name}: the build context is the repository root`);
    assert.ok(existsSync(repoPath(context, str(build.dockerfile, `${name}.build.dockerfile`))), `services.${name}: no Dockerfile at ${String(build.dockerfile)}`);
  }
});

test('depends_on names services that exist, with conditions they can meet', () => {
  for (const [name, raw] of Object.entries(services)) {
    const deps = obj(raw, name).depends_on;
    if (deps === undefined) continue;
    const entries = Array.isArray(deps) ? deps.map((d) => [String(d), { condition: 'service_started' }] as const) : Object.entries(obj(deps, `${name}.depends_on`));
    for (const [target, spec] of entries) {
      assert.ok(services[target], `services.${name} depends on ${target}, which is not a service`);
      assert.notEqual(target, name);
      const condition = String(obj(spec, `${name}.depends_on.${target}`).condition ?? 'service_started');
      assert.ok(CONDITIONS.has(condition), `services.${name}.depends_on.${target}: unknown condition ${condition}`);
      const other = service(target);
      if (condition === 'service_healthy') assert.ok(isObj(other.healthcheck) && other.healthcheck.disable !== true, `services.${name} waits for ${target} to be healthy, but ${target} has no healthcheck`);
      if (condition === 'service_completed_successfully') assert.equal(other.restart, 'no', `services.${name} waits for ${target} to complete: ${target} must be a one-shot job (restart: "no")`);
    }
  }
});

test('volumes, env files and secrets it uses exist; ports are well-formed', () => {
  const declaredVolumes = new Set(Object.keys(obj(compose.volumes ?? {}, 'volumes')));
  const declaredSecrets = new Set(Object.keys(obj(compose.secrets ?? {}, 'secrets')));
  const usedVolumes = new Set<string>();
  for (const [name, raw] of Object.entries(services)) {
    const svc = obj(raw, name);
    for (const v of (svc.volumes as unknown[] | undefined) ?? []) {
      const spec = str(v, `${name}.volumes`);
      const [source = '', target, mode] = spec.split(':');
      assert.ok(target?.startsWith('/'), `services.${name}: volume "${spec}" needs an absolute target`);
      if (mode !== undefined) assert.match(mode, /^(ro|rw|z|Z|cached|delegated|consistent|nocopy)(,.*)?$/, `services.${name}: volume "${spec}"`);
      if (/^[./~]/.test(source)) assert.ok(existsSync(join(repoRoot, 'deploy', source)), `services.${name} mounts ${posix.join('deploy', source)}, which does not exist`);
      else {
        assert.ok(declaredVolumes.has(source), `services.${name} uses volume ${source}, not declared under volumes:`);
        usedVolumes.add(source);
      }
    }
    const envFiles = svc.env_file === undefined ? [] : Array.isArray(svc.env_file) ? svc.env_file : [svc.env_file];
    for (const f of envFiles) {
      const path = isObj(f) ? str(f.path, `${name}.env_file.path`) : str(f, `${name}.env_file`);
      if (isObj(f) && f.required === false) continue;
      assert.ok(existsSync(join(repoRoot, 'deploy', path)), `services.${name}: env file deploy/${path} does not exist`);
    }
    for (const s of (svc.secrets as unknown[] | undefined) ?? []) {
      const secret = isObj(s) ? str(s.source, `${name}.secrets`) : str(s, `${name}.secrets`);
      assert.ok(declaredSecrets.has(secret), `services.${name} uses secret ${secret}, not declared under secrets:`);
    }
    for (const p of (svc.ports as unknown[] | undefined) ?? []) assert.match(String(p), PORT, `services.${name}: port "${String(p)}"`);
    for (const p of (svc.expose as unknown[] | undefined) ?? []) assert.match(String(p), /^\d+(-\d+)?(\/(tcp|udp|sctp))?$/, `services.${name}: expose "${String(p)}"`);
  }
  for (const v of declaredVolumes) assert.ok(usedVolumes.has(v), `volume ${v} is declared but no service uses it`);
});

test('every variable it interpolates is in deploy/.env.example; secrets have no default and no committed value', () => {
  const refs = references(readYaml('deploy', 'compose.yaml'));
  assert.ok(refs.length > 0);
  for (const { name, op } of refs) {
    assert.ok(example.has(name), `compose.yaml uses \${${name}}, which deploy/.env.example does not list`);
    if (SECRET.test(name)) {
      assert.equal(op, ':?', `\${${name}} must be required (\${${name}:?…}): a secret never falls back to a default`);
      assert.equal(example.get(name), '', `deploy/.env.example must not hold a value for the secret ${name}`);
    }
  }
  // As committed, the example is refused until the operator fills in the secrets, naming one.
  assert.throws(() => interpolateAll(readYaml('deploy', 'compose.yaml'), example), /required variable \w*(PASSWORD|SECRET|MASTER_KEY)\w* is missing/);
});

const ignored = (path: string): boolean => {
  try {
    execFileSync('git', ['check-ignore', '-q', path], { cwd: repoRoot });
    return true;
  } catch {
    return false;
  }
};

test('deploy/.env and the secret files are ignored by git; the example is not', () => {
  assert.ok(ignored('deploy/.env'), 'add deploy/.env to .gitignore');
  assert.ok(!ignored('deploy/.env.example'));
  const secrets = Object.entries(obj(compose.secrets ?? {}, 'secrets'));
  assert.ok(secrets.length > 0);
  for (const [name, raw] of secrets) {
    const file = str(obj(raw, `secrets.${name}`).file, `secrets.${name}.file: a file the operator writes`);
    const path = posix.join('deploy', file);
    assert.ok(ignored(path), `secrets.${name}: ${path} holds a secret: git must ignore it`);
    const used = Object.values(services).some((svc) => ((obj(svc, 'service').secrets as unknown[] | undefined) ?? []).some((x) => (isObj(x) ? x.source : x) === name));
    assert.ok(used, `secrets.${name} is declared but no service uses it`);
  }
});

test('AIPROD services set only variables of src/config/env.ts, with values it accepts, and run real CLI commands', async () => {
  for (const [name, raw] of aiprodServices) {
    const env = environment(obj(raw, name));
    for (const key of Object.keys(env)) assert.ok(ENV_NAMES.has(key), `services.${name}: ${key} is not a variable of src/config/env.ts`);
    assert.doesNotThrow(() => loadEnv(env), `services.${name}: its environment does not parse`);
    assert.ok(loadEnv(env).DATABASE_URL, `services.${name}: no DATABASE_URL`);
  }
  await Promise.all(aiprodServices.map(([name, raw]) => assertRealCommandLine(commandOf(obj(raw, name), name), `services.${name}`)));
});

/** Time after SHUTDOWN_GRACE_SEC for a worker to hand its renders back and close its connections. */
const HAND_BACK_SEC = 10;

test('the API and the workers share the data volume, and workers get more time to stop than their renders', () => {
  const dataDir = dockerfileEnv().get('AIPROD_DATA_DIR');
  assert.ok(dataDir, 'deploy/Dockerfile sets AIPROD_DATA_DIR');
  const running = aiprodServices.filter(([name, s]) => commandOf(obj(s, name), name)[0] !== 'migrate');
  assert.ok(running.some(([name, s]) => renders(commandOf(obj(s, name), name))), 'a service renders');
  const dataVolumes = new Set<string>();
  for (const [name, raw] of running) {
    const svc = obj(raw, name);
    const env = loadEnv(environment(svc));
    const dir = env.AIPROD_DATA_DIR === 'data' ? dataDir : env.AIPROD_DATA_DIR;
    const mount = ((svc.volumes as string[] | undefined) ?? []).map((v) => v.split(':')).find(([, target]) => target === dir);
    assert.ok(mount && !/^[./]/.test(mount[0] ?? ''), `services.${name}: mount a named volume at the data directory ${dir}`);
    dataVolumes.add(mount[0] ?? '');
    if (renders(commandOf(svc, name))) {
      const grace = seconds(svc.stop_grace_period ?? '10s', `${name}.stop_grace_period`);
      assert.ok(
        grace >= env.SHUTDOWN_GRACE_SEC + HAND_BACK_SEC,
        `services.${name}: stop_grace_period (${grace} s) must be at least SHUTDOWN_GRACE_SEC (${env.SHUTDOWN_GRACE_SEC} s) + ${HAND_BACK_SEC} s, or Docker kills renders before they are handed back`,
      );
      assert.ok(env.WORKER_CONCURRENCY, `services.${name}: set WORKER_CONCURRENCY (the default takes half the host's cores)`);
    }
  }
  assert.equal(dataVolumes.size, 1, 'brief assets live in the data directory: the API and the workers must see the same one');
});

test('outputs go to the MinIO bucket minio-init makes, versioned, over path-style S3', () => {
  const [name, raw] = aiprodServices[0] ?? [];
  const env = loadEnv(environment(obj(raw, String(name))));
  const bucket = /^s3:\/\/([^/]+)/.exec(env.STORAGE_URL ?? '')?.[1];
  assert.ok(bucket, 'STORAGE_URL is an s3:// URL');
  const endpoint = new URL(env.S3_ENDPOINT ?? '');
  const minio = service(endpoint.hostname);
  assert.match(str(minio.image, 'minio.image'), /^minio\/minio:/);
  assert.ok(commandOf(minio, 'minio').join(' ').startsWith('server'), 'S3_ENDPOINT names the MinIO server');
  assert.equal(endpoint.port, '9000');
  assert.equal(env.S3_FORCE_PATH_STYLE, true);
  const init = service('minio-init');
  const script = commandOf(init, 'minio-init').join('\n');
  assert.match(script, new RegExp(`mc mb --ignore-existing local/${bucket}\\b`));
  assert.match(script, new RegExp(`mc version enable local/${bucket}\\b`));
  assert.equal(environment(init).S3_ACCESS_KEY_ID, env.S3_ACCESS_KEY_ID, 'minio-init makes the user AIPROD signs in as');
  assert.equal(obj(obj(service('api').depends_on, 'api.depends_on')['minio-init'], 'api.depends_on.minio-init').condition, 'service_completed_successfully');
});

// ── Prometheus, Alertmanager, Grafana ─────────────────────────────────────────────────────────
const mountsOf = (name: string): Map<string, string> =>
  new Map(((service(name).volumes as string[] | undefined) ?? []).map((v) => v.split(':')).map(([source = '', target = '']) => [target, source]));

test('promtool check config accepts prometheus.yml (.ci/run installs promtool)', () => {
  const result = spawnSync('promtool', ['check', 'config', '--syntax-only', repoPath('deploy', 'prometheus', 'prometheus.yml')], { encoding: 'utf8' });
  assert.ifError(result.error);
  assert.equal(result.status, 0, `promtool check config:\n${result.stdout}${result.stderr}`);
});

test('Prometheus loads rule files that exist and scrapes the API and every worker', () => {
  const mounts = mountsOf('prometheus');
  const configArg = commandOf(service('prometheus'), 'prometheus').find((a) => a.startsWith('--config.file='))?.split('=')[1];
  assert.equal(mounts.get(configArg ?? ''), './prometheus/prometheus.yml', 'the config Prometheus reads is deploy/prometheus/prometheus.yml');
  const config = obj(readYaml('deploy', 'prometheus', 'prometheus.yml'), 'prometheus.yml');

  const ruleFiles = arr(config.rule_files, 'rule_files').map((r) => str(r, 'rule_files'));
  assert.ok(ruleFiles.includes('/etc/prometheus/rules/*.yml'));
  for (const glob of ruleFiles) {
    const dir = posix.dirname(glob);
    const source = mounts.get(dir);
    assert.ok(source, `rule_files ${glob}: nothing is mounted at ${dir}`);
    const local = join(repoRoot, 'deploy', source);
    assert.ok(existsSync(local) && statSync(local).isDirectory(), `rule_files ${glob}: ${posix.join('deploy', source)} (mounted at ${dir}) does not exist`);
    const pattern = new RegExp(`^${posix.basename(glob).replace(/[.]/g, '\\.').replace(/\*/g, '[^/]*')}$`);
    const files = readdirSync(local).filter((f) => pattern.test(f));
    assert.ok(files.length > 0, `rule_files ${glob}: no file in ${posix.join('deploy', source)} matches`);
    // Prometheus refuses to start on a file that is not a rule file (a promtool test, say).
    for (const f of files) arr(obj(readYaml('deploy', source, f), f).groups, `${posix.join('deploy', source, f)}: groups`);
  }

  const alertTargets = arr(obj(config.alerting, 'alerting').alertmanagers, 'alertmanagers').flatMap((a) =>
    arr(obj(a, 'alertmanager').static_configs, 'static_configs').flatMap((s) => arr(obj(s, 'static_config').targets, 'targets')),
  );
  assert.deepEqual(alertTargets, ['alertmanager:9093']);
  assert.ok(arr(service('alertmanager').ports, 'alertmanager.ports').some((p) => String(p).endsWith(':9093')));

  const jobs = arr(config.scrape_configs, 'scrape_configs').map((j) => obj(j, 'scrape_config'));
  const targetsOf = (job: Obj): { host: string; port: number }[] => [
    ...((job.dns_sd_configs as unknown[] | undefined) ?? []).flatMap((d) => {
      const sd = obj(d, 'dns_sd_config');
      assert.equal(sd.type ?? 'SRV', 'A', 'an A lookup of the service name returns every container of a scaled service');
      return arr(sd.names, 'names').map((n) => ({ host: String(n), port: Number(sd.port) }));
    }),
    ...((job.static_configs as unknown[] | undefined) ?? []).flatMap((s) =>
      arr(obj(s, 'static_config').targets, 'targets').map((t) => ({ host: String(t).split(':')[0] ?? '', port: Number(String(t).split(':')[1]) })),
    ),
  ];
  for (const job of jobs) for (const { host } of targetsOf(job)) assert.ok(host === 'localhost' || services[host], `scrape job ${String(job.job_name)}: ${host} is not a service`);
  const scrapes = (name: string, port: number): boolean =>
    jobs.some((job) => (job.metrics_path ?? '/metrics') === '/metrics' && targetsOf(job).some((t) => t.host === name && t.port === port));
  const api = loadEnv(environment(service('api')));
  assert.ok(scrapes('api', api.PORT), `no scrape job reads api:${api.PORT}/metrics`);
  const worker = service('worker');
  const metricsPort = loadEnv(environment(worker)).WORKER_METRICS_PORT;
  assert.equal(metricsPort, 9464);
  assert.ok(arr(worker.expose, 'worker.expose').map(String).includes(String(metricsPort)));
  const workerJob = jobs.find((job) => targetsOf(job).some((t) => t.host === 'worker' && t.port === metricsPort));
  assert.ok(workerJob?.dns_sd_configs, 'workers are found by DNS, so every replica of --scale worker=N is scraped');
});

/** Every value of a `…_file` key (Alertmanager's way to read a secret from a file). */
const filesNamedIn = (node: unknown): string[] =>
  Array.isArray(node)
    ? node.flatMap(filesNamedIn)
    : isObj(node)
      ? Object.entries(node).flatMap(([k, v]) => (k.endsWith('_file') && typeof v === 'string' ? [v] : filesNamedIn(v)))
      : [];

test('Alertmanager and Grafana get their configuration from files in deploy/, and every file it names is mounted', () => {
  const alertmanager = mountsOf('alertmanager');
  const configArg = commandOf(service('alertmanager'), 'alertmanager').find((a) => a.startsWith('--config.file='))?.split('=')[1];
  assert.equal(alertmanager.get(configArg ?? ''), './alertmanager/alertmanager.yml');
  assert.ok(existsSync(repoPath('deploy', 'alertmanager', 'alertmanager.yml')), 'deploy/alertmanager/alertmanager.yml is mounted but missing');
  const secretTargets = new Set(
    ((service('alertmanager').secrets as unknown[] | undefined) ?? []).map((x) => (isObj(x) && typeof x.target === 'string' ? x.target : `/run/secrets/${String(isObj(x) ? x.source : x)}`)),
  );
  const named = filesNamedIn(readYaml('deploy', 'alertmanager', 'alertmanager.yml'));
  assert.ok(named.length > 0, 'alertmanager.yml reads its receivers\' credentials from files');
  for (const file of named) assert.ok(secretTargets.has(file) || alertmanager.has(file), `alertmanager.yml reads ${file}, which compose.yaml does not mount`);
  const grafana = mountsOf('grafana');
  assert.equal(grafana.get('/etc/grafana/provisioning'), './grafana/provisioning');
  assert.equal(grafana.get('/var/lib/grafana/dashboards'), './grafana/dashboards');
  for (const dir of ['provisioning', 'dashboards']) assert.ok(existsSync(repoPath('deploy', 'grafana', dir)), `deploy/grafana/${dir} is mounted but missing`);
});

// ── the image ─────────────────────────────────────────────────────────────────────────────────
test('the Dockerfile: two stages on Node 20 bookworm-slim, production dependencies from npm ci', () => {
  const steps = dockerfile();
  const args = new Map(steps.filter((s) => s.op === 'ARG').map((s) => [s.args.split('=')[0] ?? '', s.args.split('=')[1] ?? '']));
  const resolve = (text: string): string => text.replace(/\$\{(\w+)\}/g, (_m, n: string) => args.get(n) ?? '');
  const froms = steps.filter((s) => s.op === 'FROM').map((s) => resolve(s.args).split(/\s+/));
  assert.ok(froms.length >= 2, 'multi-stage');
  const runtimeImage = froms[froms.length - 1]?.[0] ?? '';
  assert.match(runtimeImage, /^node:20(\.\d+){0,2}-bookworm-slim$/, 'the runtime runs on node:20-bookworm-slim');
  const buildStage = froms[0]?.[2];
  assert.equal(froms[0]?.[0], runtimeImage, 'dependencies are installed on the image they run on (native modules, glibc)');
  const fromAt = steps.flatMap((s, i) => (s.op === 'FROM' ? [i] : []));
  const buildSteps = steps.slice(fromAt[0], fromAt[1]);
  assert.ok(buildSteps.some((s) => s.op === 'RUN' && /\bnpm ci\b.*--omit=dev/.test(s.args)), 'the build stage runs npm ci --omit=dev');
  assert.ok(steps.some((s) => s.op === 'COPY' && s.args.includes(`--from=${String(buildStage)}`) && s.args.includes('node_modules')));
  const pkg = JSON.parse(readText('package.json')) as { dependencies: Record<string, string>; bin: Record<string, string> };
  assert.ok(pkg.dependencies.tsx, 'tsx runs the service: it must be a runtime dependency, or npm ci --omit=dev leaves it out');
});

test('the Dockerfile: FFmpeg and the fonts CI installs, a non-root user, the data volume, a fetch healthcheck, the aiprod entrypoint', () => {
  const steps = dockerfile();
  const runtime = steps.slice(steps.map((s) => s.op).lastIndexOf('FROM'));
  const installs = runtime.filter((s) => s.op === 'RUN' && s.args.includes('apt-get install')).map((s) => s.args).join(' ');
  // What renders need from .ci/run's list (FFmpeg and the fonts; CI's own checkers stay out).
  const ciPackages = [...readText('.ci', 'run').matchAll(/need\+=\(([\w.-]+)\)/g)].map((m) => m[1] ?? '').filter((p) => p === 'ffmpeg' || p.startsWith('fonts-'));
  assert.ok(ciPackages.includes('ffmpeg') && ciPackages.length >= 4, '.ci/run lists FFmpeg and the fonts');
  for (const p of [...ciPackages, 'util-linux']) assert.match(installs, new RegExp(`\\s${p.replace(/[.]/g, '\\.')}\\s`), `the image installs ${p}`);

  const user = runtime.filter((s) => s.op === 'USER').at(-1)?.args ?? '';
  assert.match(user, /^[1-9]\d*(:\d+)?$/, 'USER is a numeric, non-root uid (runAsNonRoot can only check numbers)');
  const env = dockerfileEnv();
  for (const key of env.keys()) assert.ok(ENV_NAMES.has(key), `ENV ${key} is not a variable of src/config/env.ts`);
  const volume = runtime.find((s) => s.op === 'VOLUME')?.args ?? '';
  assert.ok(volume.includes(`"${env.get('AIPROD_DATA_DIR') ?? '?'}"`), 'the data directory is a volume');

  const healthcheck = runtime.find((s) => s.op === 'HEALTHCHECK')?.args ?? '';
  assert.match(healthcheck, /CMD \["node", "-e", ".*fetch\(.*\/health/, "HEALTHCHECK asks /health with node's fetch");
  assert.doesNotMatch(healthcheck, /curl|wget/, 'slim images have neither curl nor wget');

  const entrypoint = JSON.parse(runtime.find((s) => s.op === 'ENTRYPOINT')?.args ?? '[]') as string[];
  assert.equal(entrypoint.at(-1), 'aiprod', 'ENTRYPOINT runs the aiprod bin');
  const pkg = JSON.parse(readText('package.json')) as { bin: Record<string, string> };
  assert.ok(runtime.some((s) => s.op === 'RUN' && s.args.includes(`ln -s /app/${pkg.bin.aiprod ?? '?'} /usr/local/bin/aiprod`)), 'aiprod on PATH is package.json\'s bin');
});

test('.dockerignore lets in what the Dockerfile copies and nothing else', () => {
  const rules = readText('.dockerignore').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  assert.equal(rules[0], '*', 'start from nothing: a .env, data directory or node_modules never reaches the builder');
  const included = rules.filter((r) => r.startsWith('!')).map((r) => r.slice(1).replace(/\/$/, ''));
  for (const i of included) assert.ok(!/^(\.env|node_modules|data|deploy|\.aiprod-cache)/.test(i), `.dockerignore lets in ${i}`);
  for (const copy of dockerfile().filter((s) => s.op === 'COPY' && !s.args.startsWith('--from'))) {
    const sources = copy.args.split(/\s+/).slice(0, -1);
    for (const source of sources) {
      assert.ok(existsSync(repoPath(source)), `COPY ${source}: not in the repository`);
      assert.ok(included.includes(source), `COPY ${source}: .dockerignore leaves it out`);
    }
  }
});
