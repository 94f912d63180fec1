/**
 * deploy/prometheus/ (alert rules and their promtool unit tests) and deploy/alertmanager/: the real
 * checkers (`promtool check rules`, `promtool test rules`, `amtool check-config`, `amtool config
 * routes test`) when installed — a failure under CI=true when not — and, always, what they cannot
 * see: every alert has a severity, a summary and a runbook section that exists, a promtool case
 * where it fires and one where it must not, queries only metrics AIPROD exports, and secrets stay
 * out of the Alertmanager file.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { exportedSeries } from '../support/exported-metrics.js';
import { metricNamesIn } from '../support/promql.js';
import { requireService } from '../support/services.js';
import { arr, isObj, obj, readText, readYaml, repoPath, repoRoot, str, type Obj } from './deploy-files.js';

const run = promisify(execFile);
const RULES = ['deploy', 'prometheus', 'rules', 'aiprod.rules.yml'] as const;
const RULE_TESTS = ['deploy', 'prometheus', 'tests', 'aiprod.rules.test.yml'] as const;
const ALERTMANAGER = ['deploy', 'alertmanager', 'alertmanager.yml'] as const;
const RUNBOOK_BASE = 'https://github.com/aiprod/aiprod/blob/main/docs/runbooks.md#';
const SEVERITIES = new Set(['critical', 'warning', 'info']);
/** Series Prometheus makes itself, not AIPROD. */
const PROMETHEUS_SERIES = new Set(['up']);

interface Rule { alert: string; expr: string; labels: Obj; annotations: Obj; where: string }

const rules: Rule[] = arr(obj(readYaml(...RULES), 'rules file').groups, 'groups').flatMap((g, gi) => {
  const group = obj(g, `groups[${gi}]`);
  return arr(group.rules, `groups[${gi}].rules`).map((r, ri) => {
    const rule = obj(r, `groups[${gi}].rules[${ri}]`);
    const where = `${str(group.name, 'group name')} rule ${ri + 1}`;
    return {
      alert: str(rule.alert, `${where}: alert (only alerting rules here)`),
      expr: str(rule.expr, `${where}: expr`),
      labels: obj(rule.labels, `${where}: labels`),
      annotations: obj(rule.annotations, `${where}: annotations`),
      where,
    };
  });
});
const alertNames = new Set(rules.map((r) => r.alert));

/** GitHub's heading anchors: lowercase, punctuation dropped, spaces to '-', repeats numbered. */
export function githubAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const heading = fenced ? null : /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const base = (heading[1] ?? '').toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/** The reason a command is unavailable, or false when it runs. */
async function toolMissing(command: string): Promise<string | false> {
  try {
    await run(command, ['--version'], { timeout: 30_000 });
    return false;
  } catch (error) {
    return `${command} is not installed (Debian: apt-get install ${command === 'promtool' ? 'prometheus' : 'prometheus-alertmanager'}): ${(error as Error).message}`;
  }
}
const promtoolSkip = requireService(await toolMissing('promtool'));
const amtoolSkip = requireService(await toolMissing('amtool'));

// ── the real checkers ────────────────────────────────────────────────────────────────────────

test('promtool check rules accepts the rule file', { skip: promtoolSkip }, async () => {
  const { stdout } = await run('promtool', ['check', 'rules', repoPath(...RULES)], { cwd: repoRoot, timeout: 60_000 });
  assert.match(stdout, new RegExp(`SUCCESS: ${rules.length} rules found`));
});

test('promtool test rules: every unit test passes', { skip: promtoolSkip }, async () => {
  const result = await run('promtool', ['test', 'rules', repoPath(...RULE_TESTS)], { cwd: repoRoot, timeout: 120_000 }).catch((error: { stdout?: string; stderr?: string }) => {
    assert.fail(`promtool test rules failed:\n${error.stdout ?? ''}${error.stderr ?? ''}`);
  });
  assert.match(result.stdout, /SUCCESS/);
});

test('amtool check-config accepts the Alertmanager configuration', { skip: amtoolSkip }, async () => {
  const { stdout } = await run('amtool', ['check-config', repoPath(...ALERTMANAGER)], { timeout: 60_000 });
  assert.match(stdout, /SUCCESS/);
});

test('Alertmanager routes each severity to its receivers (amtool config routes test)', { skip: amtoolSkip }, async () => {
  const receivers = async (...labels: string[]): Promise<string> =>
    (await run('amtool', ['config', 'routes', 'test', `--config.file=${repoPath(...ALERTMANAGER)}`, ...labels], { timeout: 60_000 })).stdout.trim();
  assert.equal(await receivers('alertname=AIPRODNoWorkersAlive', 'service=pipeline', 'severity=critical'), 'pager,escalation');
  assert.equal(await receivers('alertname=AIPRODRendersStalled', 'service=pipeline', 'severity=warning'), 'slack-alerts');
  assert.equal(await receivers('alertname=AIPRODWebhookEndpointDisabled', 'service=webhooks', 'severity=info'), 'email-digest');
});

// ── what the checkers do not see ─────────────────────────────────────────────────────────────

test('every alert has a severity, a summary, a description and a runbook_url', () => {
  assert.ok(rules.length > 0, 'no alert rules');
  for (const rule of rules) {
    const where = `${rule.where} (${rule.alert})`;
    assert.ok(SEVERITIES.has(String(rule.labels.severity)), `${where}: labels.severity must be critical, warning or info, not ${String(rule.labels.severity)}`);
    assert.ok(typeof rule.labels.service === 'string' && rule.labels.service !== '', `${where}: labels.service (Alertmanager groups by it)`);
    for (const key of ['summary', 'description', 'runbook_url']) {
      assert.ok(typeof rule.annotations[key] === 'string' && rule.annotations[key] !== '', `${where}: annotations.${key} is missing`);
    }
    assert.ok(String(rule.annotations.runbook_url).startsWith(RUNBOOK_BASE), `${where}: runbook_url must start with ${RUNBOOK_BASE}`);
  }
});

test("every runbook_url points at the alert's own section of docs/runbooks.md", () => {
  const anchors = githubAnchors(readText('docs', 'runbooks.md'));
  for (const rule of rules) {
    const anchor = String(rule.annotations.runbook_url).slice(RUNBOOK_BASE.length);
    assert.ok(anchors.has(anchor), `${rule.alert}: docs/runbooks.md has no heading with the anchor #${anchor}`);
    assert.equal(anchor, githubAnchors(`## ${rule.alert}`).values().next().value, `${rule.alert}: its runbook section must be the heading "## ${rule.alert}"`);
  }
});

test('GitHub anchors are computed as GitHub does', () => {
  assert.deepEqual([...githubAnchors('# Runbooks\n## AIPRODHighErrorRate\n## Disk: 85 % full!\n```\n# not a heading\n```\n## Disk: 85 % full!')], [
    'runbooks', 'aiprodhigherrorrate', 'disk-85--full', 'disk-85--full-1',
  ]);
});

test('every alert has a promtool case where it fires and one where it must not', () => {
  const tests = obj(readYaml(...RULE_TESTS), 'rule tests');
  assert.deepEqual(arr(tests.rule_files, 'rule_files'), ['../rules/aiprod.rules.yml'], 'the tests must load the rule file Prometheus loads');
  const fires = new Set<string>();
  const silent = new Set<string>();
  for (const [i, t] of arr(tests.tests, 'tests').entries()) {
    for (const [j, c] of arr(obj(t, `tests[${i}]`).alert_rule_test ?? [], `tests[${i}].alert_rule_test`).entries()) {
      const check = obj(c, `tests[${i}].alert_rule_test[${j}]`);
      const name = str(check.alertname, `tests[${i}].alert_rule_test[${j}].alertname`);
      assert.ok(alertNames.has(name), `tests[${i}] tests ${name}, which is no alert of the rule file`);
      const expected = check.exp_alerts === undefined ? [] : arr(check.exp_alerts, `tests[${i}] ${name}: exp_alerts`);
      if (expected.length === 0) silent.add(name);
      for (const e of expected) {
        const alert = obj(e, `tests[${i}] ${name}: exp_alerts[]`);
        const labels = obj(alert.exp_labels, `tests[${i}] ${name}: exp_labels`);
        const annotations = obj(alert.exp_annotations, `tests[${i}] ${name}: exp_annotations`);
        assert.ok(SEVERITIES.has(String(labels.severity)), `tests[${i}] ${name}: exp_labels.severity`);
        for (const key of ['summary', 'description', 'runbook_url']) assert.ok(typeof annotations[key] === 'string', `tests[${i}] ${name}: exp_annotations.${key} must be checked`);
        fires.add(name);
      }
    }
  }
  for (const name of alertNames) {
    assert.ok(fires.has(name), `${name}: no promtool case where it fires`);
    assert.ok(silent.has(name), `${name}: no promtool case where it must not fire (exp_alerts: [])`);
  }
  // Each severity of an alert defined twice fires in some case.
  const firedSeverities = new Set(
    arr(tests.tests, 'tests').flatMap((t) =>
      arr(obj(t, 'test').alert_rule_test ?? [], 'alert_rule_test').flatMap((c) =>
        arr(obj(c, 'case').exp_alerts ?? [], 'exp_alerts').map((e) => `${String(obj(c, 'case').alertname)}/${String(obj(obj(e, 'alert').exp_labels, 'exp_labels').severity)}`),
      ),
    ),
  );
  for (const rule of rules) assert.ok(firedSeverities.has(`${rule.alert}/${String(rule.labels.severity)}`), `${rule.alert} (${String(rule.labels.severity)}): no promtool case where it fires`);
});

test('every metric an alert queries is one AIPROD exports (docs/metrics.md)', async () => {
  const exported = await exportedSeries();
  assert.ok(exported.has('aiprod_workers_alive') && exported.has('aiprod_http_request_duration_seconds_bucket'), 'exportedSeries() lists the catalogue');
  for (const rule of rules) {
    const names = metricNamesIn(rule.expr);
    assert.ok(names.length > 0, `${rule.alert}: its expression reads no metric`);
    for (const name of names) assert.ok(exported.has(name) || PROMETHEUS_SERIES.has(name), `${rule.alert} (${rule.where}) queries ${name}, which AIPROD does not export`);
  }
});

test('Alertmanager reads every secret from a file and routes every severity', () => {
  const config = obj(readYaml(...ALERTMANAGER), 'alertmanager.yml');
  const inline = new Set(['api_url', 'auth_password', 'smtp_auth_password', 'slack_api_url', 'auth_secret', 'routing_key', 'service_key', 'api_key', 'bot_token']);
  const walk = (node: unknown, path: string): void => {
    if (Array.isArray(node)) node.forEach((v, i) => walk(v, `${path}[${i}]`));
    else if (isObj(node)) {
      for (const [key, value] of Object.entries(node)) {
        assert.ok(!inline.has(key), `${path}.${key}: a secret written into the file; use ${key}_file and mount the file`);
        walk(value, `${path}.${key}`);
      }
    }
  };
  walk(config, 'alertmanager.yml');
  const receivers = arr(config.receivers, 'receivers').map((r) => obj(r, 'receiver'));
  for (const receiver of receivers) {
    for (const slack of (receiver.slack_configs ?? []) as unknown[]) {
      assert.ok(str(obj(slack, 'slack_config').api_url_file, `${String(receiver.name)}: slack api_url_file`).startsWith('/etc/alertmanager/secrets/'));
    }
  }
  assert.ok(str(obj(config.global, 'global').smtp_auth_password_file, 'global.smtp_auth_password_file').startsWith('/etc/alertmanager/secrets/'));
  const route = obj(config.route, 'route');
  assert.deepEqual(arr(route.group_by, 'route.group_by'), ['alertname', 'service']);
  const matched = arr(route.routes, 'route.routes').map((r) => arr(obj(r, 'route').matchers, 'matchers').join(','));
  for (const severity of SEVERITIES) assert.ok(matched.includes(`severity="${severity}"`), `no route for severity=${severity}`);
  assert.equal(matched.filter((m) => m === 'severity="critical"').length, 2, 'critical goes to the pager and (continue: true) to the escalation route');
});

test('inhibition names real alerts: the database outage silences its consequences', () => {
  const config = obj(readYaml(...ALERTMANAGER), 'alertmanager.yml');
  const inhibits = arr(config.inhibit_rules, 'inhibit_rules').map((r) => obj(r, 'inhibit rule'));
  const database = inhibits.find((r) => arr(r.source_matchers, 'source_matchers').includes('alertname="AIPRODDatabaseNotReady"'));
  assert.ok(database, 'no inhibit rule with AIPRODDatabaseNotReady as its source');
  assert.ok(alertNames.has('AIPRODDatabaseNotReady'));
  const targets = arr(database.target_matchers, 'target_matchers').map((m) => str(m, 'target matcher'));
  const names = targets.flatMap((m) => /^alertname=~"(.+)"$/.exec(m)?.[1]?.split('|') ?? []);
  for (const name of ['AIPRODQueueNotReady', 'AIPRODNoWorkersAlive', 'AIPRODHighErrorRate', 'AIPRODApiLatencyHigh']) assert.ok(names.includes(name), `the database inhibition must silence ${name}`);
  for (const name of names) assert.ok(alertNames.has(name), `the database inhibition names ${name}, which is no alert`);
  assert.ok(
    inhibits.some((r) => arr(r.source_matchers, 's').includes('severity="critical"') && arr(r.target_matchers, 't').includes('severity="warning"') && arr(r.equal, 'equal').includes('alertname')),
    'a critical alert must inhibit the same alert\'s warning',
  );
});
