// PromQL as Grafana dashboards and Prometheus rule files hold it, parsed with the Prometheus project's
// own grammar (@prometheus-io/lezer-promql): syntax errors, and the metric names an expression selects.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parser } from '@prometheus-io/lezer-promql';

/** Grafana's template variables, replaced by values that keep the expression valid PromQL. */
export function withoutGrafanaVariables(expr: string): string {
  return expr
    .replace(/\$__rate_interval|\$__interval|\$__range/g, '5m')
    .replace(/\$\{?[A-Za-z_][A-Za-z0-9_]*\}?/g, '.*');
}

export interface ParsedExpr {
  /** Offsets of syntax errors; empty for a valid expression. */
  readonly errors: readonly number[];
  /** Metric names of every vector selector, in order. */
  readonly metrics: readonly string[];
}

export function parsePromQl(expr: string): ParsedExpr {
  const errors: number[] = [];
  const metrics: string[] = [];
  parser.parse(expr).iterate({
    enter(node) {
      if (node.type.isError) errors.push(node.from);
      if (node.name === 'VectorSelector') {
        const id = node.node.getChild('Identifier');
        if (id !== null) metrics.push(expr.slice(id.from, id.to));
      }
    },
  });
  return { errors, metrics };
}

export interface NamedExpr {
  /** Where it comes from: "<file>: <panel or alert>". */
  readonly where: string;
  readonly expr: string;
}

interface DashboardPanel {
  readonly title?: string;
  readonly targets?: readonly { readonly expr?: string }[];
  readonly panels?: readonly DashboardPanel[];
}

/** Every target expression of a Grafana dashboard JSON file, rows' nested panels included. */
export function dashboardExprs(root: string, file: string): NamedExpr[] {
  const dashboard = JSON.parse(readFileSync(join(root, file), 'utf8')) as { panels?: readonly DashboardPanel[]; templating?: { list?: readonly { query?: unknown }[] } };
  const out: NamedExpr[] = [];
  const visit = (panels: readonly DashboardPanel[] | undefined): void => {
    for (const p of panels ?? []) {
      for (const t of p.targets ?? []) if (typeof t.expr === 'string') out.push({ where: `${file}: ${p.title ?? '(untitled)'}`, expr: t.expr });
      visit(p.panels);
    }
  };
  visit(dashboard.panels);
  return out;
}

/**
 * The metric families a Prometheus text exposition declares (its # TYPE lines), with the sample names
 * a histogram or summary family also answers to (_bucket, _sum, _count).
 */
export function exportedNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const line of exposition.split('\n')) {
    const m = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (m === null) continue;
    const [, name = '', type] = m;
    names.add(name);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
    if (type === 'summary') for (const s of ['_sum', '_count']) names.add(name + s);
  }
  return names;
}
