/**
 * The Grafana dashboard (infra/grafana/dashboards/affinity.json) against the code: every panel's
 * query must parse as PromQL (Prometheus' own grammar) and read only metrics the services
 * register, by labels those metrics have. Renaming a metric or a label breaks this test, not the
 * dashboard in production.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { StreamMetrics } from '@affinity/stream';
import { parser } from '@prometheus-io/lezer-promql';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const DASHBOARD = resolve(ROOT, 'infra/grafana/dashboards/affinity.json');

interface Exported {
  /** What Prometheus stores: a histogram's _bucket, _sum and _count, a summary's own name, _sum and _count, any other's name. */
  series: Map<string, { metric: string; labels: Set<string> }>;
}

/** Labels every series has besides its own: the services' default labels and Prometheus' target labels. */
const COMMON_LABELS = ['service', 'instance', 'job'];

function seriesOf(name: string, type: string, labels: readonly string[]): [string, { metric: string; labels: Set<string> }][] {
  const all = new Set([...labels, ...COMMON_LABELS]);
  if (type === 'histogram') return [[`${name}_bucket`, { metric: name, labels: new Set([...all, 'le']) }], [`${name}_sum`, { metric: name, labels: all }], [`${name}_count`, { metric: name, labels: all }]];
  if (type === 'summary') return [[name, { metric: name, labels: new Set([...all, 'quantile']) }], [`${name}_sum`, { metric: name, labels: all }], [`${name}_count`, { metric: name, labels: all }]];
  return [[name, { metric: name, labels: all }]];
}

/** The text of the `{ … }` starting at `open`, skipping braces inside string literals. */
function objectLiteral(text: string, open: number): string {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text[i]!;
    if (c === "'" || c === '"' || c === '`') {
      for (i++; i < text.length && text[i] !== c; i++) if (text[i] === '\\') i++;
    } else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return text.slice(open, i + 1);
  }
  throw new Error(`unbalanced braces from offset ${open}`);
}

/** Metrics registered in the source of the packages and services: `new Counter|Gauge|Histogram|Summary({ name: 'affinity_…', labelNames: […] })`. */
function registeredInSource(): [string, string, string[]][] {
  const out: [string, string, string[]][] = [];
  for (const area of ['packages', 'services']) {
    for (const unit of readdirSync(resolve(ROOT, area))) {
      let files: string[];
      try {
        files = readdirSync(resolve(ROOT, area, unit, 'src'), { recursive: true }) as string[];
      } catch {
        continue;
      }
      for (const file of files.filter((f) => f.endsWith('.ts'))) {
        const text = readFileSync(resolve(ROOT, area, unit, 'src', file), 'utf8');
        for (const m of text.matchAll(/new (Counter|Gauge|Histogram|Summary)\b(?:<[^>(]*>)?\(\s*\{/g)) {
          const body = objectLiteral(text, m.index + m[0].length - 1);
          const name = /\bname:\s*'([^']+)'/.exec(body)?.[1];
          if (!name?.startsWith('affinity_')) continue;
          const labels = [.../\blabelNames:\s*\[([^\]]*)\]/.exec(body)?.[1]?.matchAll(/'([^']+)'/g) ?? []].map((l) => l[1]!);
          out.push([name, m[1]!.toLowerCase(), labels]);
        }
      }
    }
  }
  return out;
}

/** What a service exports: the metrics in the source, and what every worker's StreamMetrics registers at run time (Node's process metrics included). */
async function findExported(): Promise<Exported> {
  const series = new Map<string, { metric: string; labels: Set<string> }>();
  for (const [name, type, labels] of registeredInSource()) for (const [s, info] of seriesOf(name, type, labels)) series.set(s, info);
  const registry = new StreamMetrics(new Registry()).registry;
  const types = new Map((await registry.getMetricsAsJSON()).map((m) => [m.name, String(m.type)]));
  for (const metric of registry.getMetricsAsArray()) {
    const { name, labelNames } = metric as unknown as { name: string; labelNames?: string[] };
    for (const [s, info] of seriesOf(name, types.get(name) ?? 'gauge', labelNames ?? [])) series.set(s, info);
  }
  return { series };
}

let found: Promise<Exported> | undefined;
const exported = () => (found ??= findExported());

interface Query {
  metrics: string[];
  labels: string[];
  functions: string[];
  errors: string[];
}

/** Reads a panel's query with Prometheus' PromQL grammar; Grafana's interval variables stand for a duration. */
function readQuery(expr: string): Query {
  const q = expr.replace(/\$__(rate_interval|interval|range)\b/g, '5m');
  const out: Query = { metrics: [], labels: [], functions: [], errors: [] };
  const text = (from: number, to: number) => q.slice(from, to);
  parser.parse(q).iterate({
    enter: (node) => {
      if (node.type.isError) out.errors.push(`at ${node.from}: "${text(node.from, node.to) || q.slice(node.from, node.from + 10)}"`);
      if (node.name === 'Identifier' && node.node.parent?.name === 'VectorSelector') out.metrics.push(text(node.from, node.to));
      if (node.name === 'LabelName') out.labels.push(text(node.from, node.to));
      if (node.name === 'FunctionIdentifier' || node.name === 'AggregateOp') out.functions.push(text(node.from, node.to));
    },
  });
  return out;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Panel = any;
const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: Panel[]; templating: { list: Panel[] } };
/** Every panel, those inside rows (collapsed rows hold theirs) included; rows themselves not. */
const panels: Panel[] = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.type !== 'row');
const queries = panels.flatMap((p) => (p.targets as Panel[]).map((t) => ({ panel: p.title as string, expr: t.expr as string, query: readQuery(t.expr as string) })));

describe('the Grafana dashboard agrees with the metrics the services export', () => {
  it('the test reads the grammar and the code: a bad query has errors, and the metrics of the source and of StreamMetrics are found as Prometheus stores them', async () => {
    expect(readQuery('rat(affinity_consumer_lag[5m])').errors).not.toEqual([]);
    expect(readQuery('sum by (group (affinity_consumer_lag)').errors).not.toEqual([]);
    expect(readQuery('histogram_quantile(0.99, sum by (le, kind) (rate(affinity_recs_latency_seconds_bucket{stage="x"}[$__rate_interval])))')).toEqual({
      metrics: ['affinity_recs_latency_seconds_bucket'],
      labels: ['le', 'kind', 'stage'],
      functions: ['histogram_quantile', 'sum', 'rate'],
      errors: [],
    });
    const { series } = await exported();
    expect(series.get('affinity_recs_latency_seconds_bucket')?.labels).toEqual(new Set(['kind', 'stage', 'le', ...COMMON_LABELS]));
    expect(series.has('affinity_recs_latency_seconds')).toBe(false); // a histogram is queried through its series
    expect(series.get('affinity_consumer_lag')?.labels).toEqual(new Set(['group', 'topic', 'partition', ...COMMON_LABELS]));
    expect(series.has('affinity_index_vectors')).toBe(true);
    expect(series.has('affinity_process_cpu_seconds_total')).toBe(true);
    expect(series.has('eval_products')).toBe(false);
  });

  it.each(queries.map((q) => [q.panel, q.expr, q.query] as const))('%s: %s', async (_panel, _expr, query) => {
    const { series } = await exported();
    expect(query.errors, 'PromQL syntax').toEqual([]);
    expect(query.metrics.length, 'reads at least one metric').toBeGreaterThan(0);
    for (const m of query.metrics) expect(series.has(m), `${m} is exported by a service`).toBe(true);
    const labels = new Set(query.metrics.flatMap((m) => [...(series.get(m)?.labels ?? [])]));
    for (const l of query.labels) expect(labels.has(l), `label ${l} exists on ${query.metrics.join(', ')}`).toBe(true);
  });

  it('shows what the operators asked for: lag per group, events/s, event → list p50/p99 per kind, DLQ by reason, the recompute queue, index size and freshness, graph drift, the linear-model refit', () => {
    const has = (what: string, match: (q: (typeof queries)[number]) => boolean) => expect(queries.some(match), what).toBe(true);
    const reads = (q: (typeof queries)[number], metric: string) => q.query.metrics.includes(metric);
    has('consumer lag per group', (q) => reads(q, 'affinity_consumer_lag') && /sum by \(group\)/.test(q.expr));
    has('events per second', (q) => reads(q, 'affinity_consumer_processed_total') && q.query.functions.includes('rate'));
    for (const p of ['0.5', '0.99']) {
      has(`event → list p${Number(p) * 100} per kind`, (q) => reads(q, 'affinity_recs_latency_seconds_bucket') && q.expr.startsWith(`histogram_quantile(${p},`) && q.query.labels.includes('kind'));
    }
    has('DLQ rate by reason', (q) => reads(q, 'affinity_consumer_dlq_total') && q.query.labels.includes('code') && q.query.functions.includes('rate'));
    has('recompute queue depth', (q) => reads(q, 'affinity_recs_pending_lists'));
    has('index size', (q) => reads(q, 'affinity_index_vectors'));
    has('index freshness', (q) => reads(q, 'affinity_index_freshness_seconds_bucket'));
    has('graph drift', (q) => reads(q, 'affinity_graph_drift'));
    has('linear-model refit time', (q) => reads(q, 'affinity_recs_linear_refit_seconds_sum') && reads(q, 'affinity_recs_linear_refit_seconds_count'));
    has('linear-model size', (q) => reads(q, 'affinity_recs_linear_items'));
  });

  it('every panel and query reads the Prometheus the dashboard variable picks, so any Grafana can import it', () => {
    const variable = dashboard.templating.list.find((v) => v.name === 'datasource');
    expect(variable).toMatchObject({ type: 'datasource', query: 'prometheus' });
    for (const p of panels) {
      expect(p.datasource, p.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      for (const t of p.targets) expect(t.datasource, p.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
    }
  });

  it('panels have unique ids, titles and legends, and fit the 24-column grid', () => {
    const all = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
    expect(new Set(all.map((p) => p.id)).size).toBe(all.length);
    expect(new Set(panels.map((p) => p.title)).size).toBe(panels.length);
    for (const p of all) {
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
      expect(p.gridPos.h, p.title).toBeGreaterThan(0);
    }
    // A legend names labels the query keeps.
    for (const p of panels) {
      for (const t of p.targets) {
        for (const [, label] of (t.legendFormat as string).matchAll(/\{\{\s*(\w+)\s*\}\}/g)) expect(readQuery(t.expr as string).labels, `${p.title}: legend {{${label}}}`).toContain(label);
      }
    }
  });
});
