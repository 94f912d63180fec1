/**
 * The metric names a PromQL expression reads, found by Prometheus's own PromQL grammar
 * (@prometheus-io/lezer-promql, the parser of Prometheus's web UI): alert rules and dashboard panels
 * are checked against the names AIPROD exports. An expression that does not parse is an error.
 */
import { parser } from '@prometheus-io/lezer-promql';

/** Grafana's template variables ($__rate_interval, ${tier}, [$__range]) replaced by values PromQL accepts. */
export function withoutGrafanaVariables(expr: string): string {
  return expr
    .replace(/\[\$__\w+\]/g, '[5m]')
    .replace(/\$__(rate_interval|interval|range)\b/g, '5m')
    .replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, 'x');
}

/** Every metric name `expr` selects (vector and range selectors, and {__name__="…"} matchers). */
export function metricNamesIn(expr: string): string[] {
  const tree = parser.parse(expr);
  const names = new Set<string>();
  const cursor = tree.cursor();
  do {
    if (cursor.type.isError) throw new Error(`PromQL does not parse at ${cursor.from}: ${expr.slice(Math.max(0, cursor.from - 20), cursor.from + 20)} (in: ${expr})`);
    if (cursor.name === 'Identifier' && cursor.node.parent?.name === 'VectorSelector') names.add(expr.slice(cursor.from, cursor.to));
    if (cursor.name === 'UnquotedLabelMatcher') {
      const text = expr.slice(cursor.from, cursor.to);
      const byName = /^__name__\s*=\s*"([^"]+)"$/.exec(text);
      if (byName) names.add(byName[1] as string);
    }
  } while (cursor.next());
  return [...names];
}
