/**
 * deploy/grafana/: the provisioning files and every dashboard, checked without Grafana. Each
 * dashboard has a uid, a title and panels with unique ids on a grid without overlaps; every
 * panel and template variable queries the provisioned datasource, with PromQL that parses
 * (Prometheus's own grammar) and names only series AIPROD exports; the provider loads the
 * directory deploy/compose.yaml mounts the dashboards at, and the datasource reaches the compose
 * service that runs Prometheus. The last tests break a copy of each file one way at a time and
 * expect the check to say so.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { posix } from 'node:path';
import { before, test } from 'node:test';
import { exportedSeries } from '../support/exported-metrics.js';
import { metricNamesIn, withoutGrafanaVariables } from '../support/promql.js';
import { arr, isObj, obj, readText, readYaml, repoPath, str, type Obj } from './deploy-files.js';

const PANEL_TYPES = new Set(['row', 'timeseries', 'stat', 'bargauge', 'table']);
const GRID_COLUMNS = 24;
/** Where Grafana reads provisioning files unless GF_PATHS_PROVISIONING says otherwise. */
const GRAFANA_PROVISIONING = '/etc/grafana/provisioning';

interface Context { exported: ReadonlySet<string>; datasourceUid: string }

/** The problems of one PromQL expression: does not parse, or names a series AIPROD does not export. */
function exprProblems(expr: string, exported: ReadonlySet<string>): string[] {
  let names: string[];
  try {
    names = metricNamesIn(withoutGrafanaVariables(expr));
  } catch (error) {
    return [(error as Error).message];
  }
  if (names.length === 0) return [`queries no metric: ${expr}`];
  return names.filter((n) => !exported.has(n)).map((n) => `${n} is not a series AIPROD exports (in: ${expr})`);
}

/** Template variables an expression uses ($tier, ${tier}, ${tier:regex}), Grafana's own $__… left out. */
function variablesIn(text: string): string[] {
  return [...text.matchAll(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g)].map((m) => m[1] ?? m[2] ?? '').filter((n) => !n.startsWith('__'));
}

function datasourceProblems(value: unknown, where: string, uid: string): string[] {
  if (!isObj(value)) return [`${where}: no datasource`];
  return value.type === 'prometheus' && value.uid === uid ? [] : [`${where}: datasource ${JSON.stringify(value)} is not {type: "prometheus", uid: "${uid}"}`];
}

/** Every panel, those inside collapsed rows too. */
function allPanels(dashboard: Obj): Obj[] {
  const top = Array.isArray(dashboard.panels) ? dashboard.panels.filter(isObj) : [];
  return top.flatMap((p) => [p, ...(Array.isArray(p.panels) ? p.panels.filter(isObj) : [])]);
}

/** Everything wrong with one dashboard, as sentences; [] when it is fine. */
function dashboardProblems(dashboard: Obj, ctx: Context): string[] {
  const problems: string[] = [];
  const name = typeof dashboard.title === 'string' ? dashboard.title : String(dashboard.uid);
  if (typeof dashboard.uid !== 'string' || !/^[A-Za-z0-9_-]{1,40}$/.test(dashboard.uid)) problems.push(`${name}: uid ${JSON.stringify(dashboard.uid)} is not a stable uid (1–40 of A-Z a-z 0-9 _ -)`);
  if (typeof dashboard.title !== 'string' || dashboard.title.trim() === '') problems.push(`${name}: no title`);
  if (dashboard.schemaVersion !== 39) problems.push(`${name}: schemaVersion ${String(dashboard.schemaVersion)}, expected 39`);
  if (!Array.isArray(dashboard.tags) || !dashboard.tags.includes('aiprod')) problems.push(`${name}: tags do not include "aiprod"`);

  const variables = new Set<string>();
  const templating = isObj(dashboard.templating) && Array.isArray(dashboard.templating.list) ? dashboard.templating.list.filter(isObj) : [];
  for (const v of templating) {
    const where = `${name}: variable ${String(v.name)}`;
    variables.add(String(v.name));
    if (v.type !== 'query') continue;
    problems.push(...datasourceProblems(v.datasource, where, ctx.datasourceUid));
    const query = isObj(v.query) ? v.query.query : v.query;
    const labelValues = /^label_values\((.+),\s*(\w+)\)$/.exec(String(query));
    const selector = labelValues ? labelValues[1] ?? '' : /^query_result\((.+)\)$/.exec(String(query))?.[1];
    if (selector === undefined) problems.push(`${where}: query ${JSON.stringify(query)} is neither label_values(…) nor query_result(…)`);
    else problems.push(...exprProblems(selector, ctx.exported).map((p) => `${where}: ${p}`));
  }

  const panels = allPanels(dashboard);
  if (panels.length === 0) problems.push(`${name}: no panels`);
  const ids = new Set<unknown>();
  const placed: { title: string; x: number; y: number; w: number; h: number }[] = [];
  for (const panel of panels) {
    const where = `${name}: panel ${String(panel.id)} "${String(panel.title)}"`;
    if (!Number.isInteger(panel.id)) problems.push(`${where}: id is not an integer`);
    else if (ids.has(panel.id)) problems.push(`${where}: id ${String(panel.id)} is used twice`);
    ids.add(panel.id);
    if (typeof panel.title !== 'string' || panel.title === '') problems.push(`${where}: no title`);
    if (!PANEL_TYPES.has(String(panel.type))) problems.push(`${where}: type ${String(panel.type)} is not one of ${[...PANEL_TYPES].join(', ')}`);

    const g = isObj(panel.gridPos) ? panel.gridPos : {};
    const [x, y, w, h] = [g.x, g.y, g.w, g.h];
    if (![x, y, w, h].every(Number.isInteger)) problems.push(`${where}: gridPos ${JSON.stringify(panel.gridPos)} needs integer x, y, w, h`);
    else if ((x as number) < 0 || (y as number) < 0 || (w as number) < 1 || (h as number) < 1 || (x as number) + (w as number) > GRID_COLUMNS) {
      problems.push(`${where}: gridPos ${JSON.stringify(panel.gridPos)} is off the ${GRID_COLUMNS}-column grid`);
    } else {
      const box = { title: String(panel.title), x: x as number, y: y as number, w: w as number, h: h as number };
      const hit = placed.find((o) => box.x < o.x + o.w && o.x < box.x + box.w && box.y < o.y + o.h && o.y < box.y + box.h);
      if (hit) problems.push(`${where}: overlaps "${hit.title}"`);
      placed.push(box);
    }

    if (panel.type === 'row') continue;
    problems.push(...datasourceProblems(panel.datasource, where, ctx.datasourceUid));
    const targets = Array.isArray(panel.targets) ? panel.targets.filter(isObj) : [];
    if (targets.length === 0) problems.push(`${where}: no targets`);
    const refIds = new Set<unknown>();
    for (const target of targets) {
      const at = `${where} target ${String(target.refId)}`;
      if (refIds.has(target.refId)) problems.push(`${at}: refId used twice`);
      refIds.add(target.refId);
      if (target.datasource !== undefined) problems.push(...datasourceProblems(target.datasource, at, ctx.datasourceUid));
      if (typeof target.expr !== 'string' || target.expr.trim() === '') {
        problems.push(`${at}: no expr`);
        continue;
      }
      problems.push(...exprProblems(target.expr, ctx.exported).map((p) => `${at}: ${p}`));
      for (const v of variablesIn(target.expr)) if (!variables.has(v)) problems.push(`${at}: uses $${v}, which is not a template variable`);
    }
  }
  return problems;
}

// ── Provisioning and compose ─────────────────────────────────────────────────────────────────

interface Mount { source: string; target: string }

/** A compose service's bind mounts (short "src:target[:mode]" or long syntax), sources resolved against deploy/. */
function bindMounts(service: Obj): Mount[] {
  const volumes = Array.isArray(service.volumes) ? service.volumes : [];
  return volumes.flatMap((v): Mount[] => {
    const [source, target] = typeof v === 'string' ? v.split(':') : isObj(v) ? [v.source, v.target] : [];
    if (typeof source !== 'string' || typeof target !== 'string' || !/^\.{0,2}\//.test(source)) return [];
    return [{ source: posix.normalize(posix.join('deploy', source)), target: posix.normalize(target) }];
  });
}

interface Provisioning { compose: Obj; datasources: Obj; providers: Obj; scrapeInterval: unknown }

/** What is wrong with the provisioning files against compose; also returns the datasource uid and the repository dir of the dashboards Grafana loads. */
function provisioningProblems(p: Provisioning): { problems: string[]; datasourceUid: string; dashboardsDir?: string } {
  const problems: string[] = [];
  const services = obj(p.compose.services, 'compose services');
  const grafana = Object.values(services).find((s) => isObj(s) && typeof s.image === 'string' && s.image.startsWith('grafana/'));
  if (!isObj(grafana)) return { problems: ['compose.yaml: no service runs grafana/grafana'], datasourceUid: '' };
  const mounts = bindMounts(grafana);

  if (!mounts.some((m) => m.source === 'deploy/grafana/provisioning' && m.target === GRAFANA_PROVISIONING)) {
    problems.push(`compose.yaml: grafana does not mount deploy/grafana/provisioning at ${GRAFANA_PROVISIONING} (mounts: ${JSON.stringify(mounts)})`);
  }

  const datasources = Array.isArray(p.datasources.datasources) ? p.datasources.datasources.filter(isObj) : [];
  const prometheus = datasources.filter((d) => d.type === 'prometheus');
  if (prometheus.length !== 1) problems.push(`datasources/prometheus.yml: ${prometheus.length} prometheus datasources, expected 1`);
  const ds = prometheus[0] ?? {};
  const datasourceUid = typeof ds.uid === 'string' ? ds.uid : '';
  if (datasourceUid === '') problems.push('datasources/prometheus.yml: the datasource has no fixed uid');
  let url: URL | undefined;
  try {
    url = new URL(String(ds.url));
  } catch {
    problems.push(`datasources/prometheus.yml: url ${String(ds.url)} is not a URL`);
  }
  if (url) {
    const target = services[url.hostname];
    if (!isObj(target) || typeof target.image !== 'string' || !target.image.startsWith('prom/prometheus')) {
      problems.push(`datasources/prometheus.yml: ${url.hostname} is not the compose service running prom/prometheus`);
    } else {
      const listen = (Array.isArray(target.command) ? target.command : []).map(String).find((a) => a.startsWith('--web.listen-address='));
      const port = listen ? listen.split(':').pop() : '9090';
      if (url.port !== port) problems.push(`datasources/prometheus.yml: port ${url.port} but Prometheus listens on ${String(port)}`);
    }
  }
  const jsonData = isObj(ds.jsonData) ? ds.jsonData : {};
  if (jsonData.timeInterval !== p.scrapeInterval) problems.push(`datasources/prometheus.yml: timeInterval ${String(jsonData.timeInterval)} is not Prometheus' scrape_interval ${String(p.scrapeInterval)}`);

  const providers = Array.isArray(p.providers.providers) ? p.providers.providers.filter(isObj) : [];
  if (providers.length !== 1 || providers[0]?.type !== 'file') problems.push('dashboards/aiprod.yml: expected one provider of type file');
  const path = isObj(providers[0]?.options) ? providers[0].options.path : undefined;
  const mounted = mounts.find((m) => m.target === path);
  if (!mounted) problems.push(`dashboards/aiprod.yml: path ${String(path)} is not where compose mounts a directory into grafana (${mounts.map((m) => m.target).join(', ')})`);
  return { problems, datasourceUid, dashboardsDir: mounted?.source };
}

// ── The tests ────────────────────────────────────────────────────────────────────────────────

let exported: ReadonlySet<string>;
let provisioning: Provisioning;
const dashboards = new Map<string, Obj>();
let ctx: Context;

before(async () => {
  exported = await exportedSeries();
  const prometheusConfig = obj(readYaml('deploy', 'prometheus', 'prometheus.yml'), 'prometheus.yml');
  provisioning = {
    compose: obj(readYaml('deploy', 'compose.yaml'), 'compose.yaml'),
    datasources: obj(readYaml('deploy', 'grafana', 'provisioning', 'datasources', 'prometheus.yml'), 'datasources/prometheus.yml'),
    providers: obj(readYaml('deploy', 'grafana', 'provisioning', 'dashboards', 'aiprod.yml'), 'dashboards/aiprod.yml'),
    scrapeInterval: obj(prometheusConfig.global, 'prometheus.yml global').scrape_interval,
  };
  const { dashboardsDir, datasourceUid } = provisioningProblems(provisioning);
  ctx = { exported, datasourceUid };
  // The dashboards are the files in the directory compose mounts where the provider looks.
  const dir = dashboardsDir ?? 'deploy/grafana/dashboards';
  for (const file of readdirSync(repoPath(dir)).filter((f) => f.endsWith('.json')).sort()) {
    dashboards.set(file, obj(JSON.parse(readText(dir, file)), file));
  }
});

test('the provisioning files match compose: provisioning dir, dashboards path, datasource service, port and scrape interval', () => {
  const { problems, dashboardsDir, datasourceUid } = provisioningProblems(provisioning);
  assert.deepEqual(problems, []);
  assert.equal(dashboardsDir, 'deploy/grafana/dashboards');
  assert.equal(datasourceUid, 'prometheus');
});

test('the four dashboards are there, with distinct uids and titles', () => {
  assert.deepEqual([...dashboards.keys()], ['business.json', 'pipeline.json', 'providers.json', 'service-overview.json']);
  const uids = [...dashboards.values()].map((d) => d.uid);
  const titles = [...dashboards.values()].map((d) => d.title);
  assert.equal(new Set(uids).size, uids.length, `uids: ${uids.join(', ')}`);
  assert.equal(new Set(titles).size, titles.length, `titles: ${titles.join(', ')}`);
});

test('every dashboard: uid, title, tags, schemaVersion, panels on the grid, provisioned datasource, PromQL on exported series only', () => {
  for (const [file, dashboard] of dashboards) {
    assert.deepEqual(dashboardProblems(dashboard, ctx), [], file);
    const exprs = allPanels(dashboard).flatMap((p) => arr(p.targets ?? [], `${file} targets`)).map((t) => str(obj(t, file).expr, file));
    assert.ok(exprs.length >= 8, `${file}: only ${exprs.length} queries`);
  }
});

test('what the issue asks of each dashboard is on it', () => {
  const exprsOf = (file: string): string => allPanels(dashboards.get(file) ?? {}).flatMap((p) => (Array.isArray(p.targets) ? p.targets : [])).map((t) => String(isObj(t) ? t.expr : '')).join('\n');
  const wants: Record<string, (string | RegExp)[]> = {
    'service-overview.json': [/histogram_quantile\(0\.5, .*aiprod_http_request_duration_seconds_bucket/, /histogram_quantile\(0\.95, /, /histogram_quantile\(0\.99, /, 'status=~"5.."', 'aiprod_worker_slots_busy', 'aiprod_worker_slots_idle', 'aiprod_nodejs_eventloop_lag_p99_seconds', 'aiprod_process_resident_memory_bytes', 'aiprod_process_cpu_seconds_total', 'aiprod_data_dir_disk_used_ratio', 'aiprod_ready', 'aiprod_rate_limited_total'],
    'pipeline.json': [/sum by \(le, stage, provider\) \(rate\(aiprod_stage_duration_seconds_bucket/, 'aiprod_render_duration_seconds_bucket', 'aiprod_queue_waiting_jobs', 'aiprod_queue_oldest_waiting_seconds', 'aiprod_workers_alive', 'aiprod_worker_slots', 'aiprod_render_stalls_total', 'aiprod_render_retries_total', 'max by (status) (aiprod_productions)', 'aiprod_production_failures_total', 'result="hit"'],
    'providers.json': ['sum by (provider, outcome) (rate(aiprod_provider_calls_total', 'aiprod_provider_errors_total', /histogram_quantile\(0\.95, sum by \(le, provider\) \(rate\(aiprod_provider_call_duration_seconds_bucket/, 'aiprod_provider_breaker_open', 'aiprod_provider_fallbacks_total', 'aiprod_provider_cost_usd_total'],
    'business.json': ['increase(aiprod_jobs_revenue_usd_total{tier=~"$tier", aspect_ratio=~"$aspect_ratio"}[$__range])', 'aiprod_job_processing_cost_usd_bucket', 'aiprod_job_processing_cost_usd_sum[$__range])) / max(increase(aiprod_job_processing_cost_usd_count', 'aiprod_productions_total', 'topk(', 'max by (tenant) (aiprod_tenant_spend_usd) / max by (tenant) (aiprod_tenant_budget_usd)'],
  };
  for (const [file, needles] of Object.entries(wants)) {
    const text = exprsOf(file);
    for (const needle of needles) assert.ok(typeof needle === 'string' ? text.includes(needle) : needle.test(text), `${file}: no query with ${String(needle)}`);
  }
  // The thresholds the alerts use are drawn: 500 ms / 1 s latency, 300 s oldest job, $12.50 per job.
  const steps = (file: string): number[] => allPanels(dashboards.get(file) ?? {}).flatMap((p) => {
    const t = isObj(p.fieldConfig) && isObj(p.fieldConfig.defaults) && isObj(p.fieldConfig.defaults.thresholds) ? p.fieldConfig.defaults.thresholds.steps : [];
    return (Array.isArray(t) ? t : []).map((s) => (isObj(s) ? Number(s.value) : NaN));
  });
  for (const [file, values] of [['service-overview.json', [0.5, 1]], ['pipeline.json', [300]], ['business.json', [12.5]]] as const) {
    for (const v of values) assert.ok(steps(file).includes(v), `${file}: no threshold at ${v}`);
  }
});

// ── Every check can fail ───────────────────────────────────────────────────────────────────────

/** A copy of a real dashboard, changed by `mutate`. */
function broken(mutate: (d: Obj, panel: Obj, target: Obj) => void): Obj {
  const d = structuredClone(dashboards.get('service-overview.json')) as Obj;
  const panel = allPanels(d).find((p) => p.type === 'timeseries') as Obj;
  mutate(d, panel, arr(panel.targets, 'targets')[0] as Obj);
  return d;
}

test('a dashboard check reports each kind of mistake', () => {
  const cases: [string, (d: Obj, panel: Obj, target: Obj) => void, RegExp][] = [
    ['a metric AIPROD does not export', (_d, _p, t) => { t.expr = 'sum(rate(aiprod_does_not_exist[$__rate_interval]))'; }, /aiprod_does_not_exist is not a series AIPROD exports/],
    ['a histogram named without _bucket', (_d, _p, t) => { t.expr = 'histogram_quantile(0.9, sum by (le) (rate(aiprod_http_request_duration_seconds[5m])))'; }, /aiprod_http_request_duration_seconds is not a series/],
    ['PromQL that does not parse', (_d, _p, t) => { t.expr = 'sum(rate(aiprod_http_requests_total[5m])'; }, /does not parse/],
    ['an expr without a metric', (_d, _p, t) => { t.expr = 'vector(1)'; }, /queries no metric/],
    ['an empty expr', (_d, _p, t) => { t.expr = ''; }, /no expr/],
    ['an undefined variable', (_d, _p, t) => { t.expr = 'sum(rate(aiprod_http_requests_total{route=~"$nope"}[5m]))'; }, /uses \$nope/],
    ['another datasource on a panel', (_d, p) => { p.datasource = { type: 'prometheus', uid: 'other' }; }, /datasource .* is not/],
    ['another datasource on a target', (_d, _p, t) => { t.datasource = { type: 'loki', uid: 'prometheus' }; }, /target A: datasource/],
    ['a panel without targets', (_d, p) => { p.targets = []; }, /no targets/],
    ['a duplicate panel id', (d, p) => { p.id = allPanels(d)[0]?.id; }, /is used twice/],
    ['a gridPos off the grid', (_d, p) => { p.gridPos = { x: 20, y: 0, w: 8, h: 4 }; }, /off the 24-column grid/],
    ['a gridPos without h', (_d, p) => { p.gridPos = { x: 0, y: 0, w: 8 }; }, /needs integer x, y, w, h/],
    ['overlapping panels', (d, p) => { p.gridPos = structuredClone((allPanels(d)[1] as Obj).gridPos); }, /overlaps/],
    ['an unknown panel type', (_d, p) => { p.type = 'graph'; }, /type graph is not one of/],
    ['no uid', (d) => { delete d.uid; }, /is not a stable uid/],
    ['no title', (d) => { d.title = ' '; }, /no title/],
    ['another schemaVersion', (d) => { d.schemaVersion = 16; }, /schemaVersion 16/],
    ['no aiprod tag', (d) => { d.tags = []; }, /tags do not include/],
    ['no panels', (d) => { d.panels = []; }, /no panels/],
    ['a variable on an unexported metric', (d) => { ((d.templating as { list: Obj[] }).list[0] as Obj).query = 'label_values(aiprod_does_not_exist, route)'; }, /variable route: aiprod_does_not_exist is not/],
    ['a variable on another datasource', (d) => { ((d.templating as { list: Obj[] }).list[0] as Obj).datasource = { type: 'prometheus', uid: 'x' }; }, /variable route: datasource/],
  ];
  for (const [what, mutate, expected] of cases) {
    const problems = dashboardProblems(broken(mutate), ctx);
    assert.ok(problems.some((p) => expected.test(p)), `${what}: expected a problem matching ${String(expected)}, got ${JSON.stringify(problems)}`);
  }
  // And a dashboard checked against another provisioned uid fails on every panel.
  assert.ok(dashboardProblems(dashboards.get('business.json') ?? {}, { exported, datasourceUid: 'elsewhere' }).length > 0);
});

test('a provisioning check reports a path compose does not mount, another service, port or interval', () => {
  const cases: [string, (p: Provisioning) => void, RegExp][] = [
    ['a provider path compose does not mount', (p) => { ((p.providers.providers as Obj[])[0]?.options as Obj).path = '/var/lib/grafana/elsewhere'; }, /path \/var\/lib\/grafana\/elsewhere is not where compose mounts/],
    ['provisioning mounted elsewhere', (p) => { (obj(obj(p.compose.services, 's').grafana, 'g').volumes as string[])[0] = './grafana/provisioning:/etc/grafana/other:ro'; }, /does not mount deploy\/grafana\/provisioning/],
    ['a datasource host that is not Prometheus', (p) => { ((p.datasources.datasources as Obj[])[0] as Obj).url = 'http://alertmanager:9090'; }, /alertmanager is not the compose service/],
    ['a wrong port', (p) => { ((p.datasources.datasources as Obj[])[0] as Obj).url = 'http://prometheus:9091'; }, /port 9091/],
    ['no uid', (p) => { delete ((p.datasources.datasources as Obj[])[0] as Obj).uid; }, /no fixed uid/],
    ['another timeInterval', (p) => { (((p.datasources.datasources as Obj[])[0] as Obj).jsonData as Obj).timeInterval = '30s'; }, /timeInterval 30s/],
    ['no grafana service', (p) => { delete obj(p.compose.services, 's').grafana; }, /no service runs grafana/],
  ];
  for (const [what, mutate, expected] of cases) {
    const copy = structuredClone(provisioning);
    mutate(copy);
    const { problems } = provisioningProblems(copy);
    assert.ok(problems.some((p) => expected.test(p)), `${what}: expected a problem matching ${String(expected)}, got ${JSON.stringify(problems)}`);
  }
});
