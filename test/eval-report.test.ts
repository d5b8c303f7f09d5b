/**
 * `./dev eval` from the command line on a real log (the UCI customers log, a real
 * Redis): the pipeline and every baseline answer the same questions, the JSON holds the
 * verdict, and the HTML report renders its charts in headless Chromium.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EvalResult } from '@affinity/evaluation';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, stack } from './support/harness';

const out = mkdtempSync(join(tmpdir(), 'affinity-eval-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** Headless Chromium as the machine's environment notes say to run it (no network, fresh profile). */
function chromium(args: string[]): string {
  const profile = mkdtempSync(join(tmpdir(), 'affinity-chromium-'));
  try {
    return execFileSync(
      'chromium',
      ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`, ...args],
      { encoding: 'utf8', timeout: 120_000, stdio: ['ignore', 'pipe', 'ignore'] },
    );
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

describe('./dev eval', () => {
  it('evaluates the pipeline against every baseline on one split and writes JSON, Markdown and HTML', () => {
    const r = spawnSync('npx', ['tsx', 'packages/evaluation/src/cli.ts', 'uci-customers', '--queries', '300', '--out', out], {
      cwd: ROOT,
      env: { ...process.env, REDIS_URL: stack().redisUrl },
      encoding: 'utf8',
      timeout: 600_000,
    });
    expect(r.status, r.stderr.slice(-2000)).toBe(0);
    const result = JSON.parse(readFileSync(join(out, 'uci-customers.json'), 'utf8')) as EvalResult;
    expect(result.main).toEqual({ task: 'next-basket', metric: 'recall@20' });
    const main = result.tasks['next-basket']!;
    expect(main.queries).toBeGreaterThan(30);
    expect(Object.keys(main.methods)).toEqual(['Affinity', 'popularity', 'co-occurrence counts', 'ItemKNN (cosine)', 'EASE^R', 'item2vec (SGNS, in·in)', 'dual embeddings (SGNS, in·out)']);
    for (const m of Object.values(main.methods)) {
      expect(m.queries).toBe(main.queries);
      expect(m.recallCurve).toHaveLength(20);
      expect(m.metrics['recall@20']).toBeGreaterThanOrEqual(m.metrics['recall@10']);
    }
    // Shoppers with history never get an empty list, and the pipeline says what carried its items.
    expect(main.methods.Affinity!.emptyShare).toBe(0);
    expect(Object.keys(main.methods.Affinity!.sources ?? {}).length).toBeGreaterThan(0);
    expect(result.verdict?.pipeline).toBe('Affinity');
    expect(result.verdict?.ratio).toBeCloseTo(result.verdict!.value / result.verdict!.baselineValue, 10);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toContain('## uci-customers');
  }, 900_000);

  it('renders the report’s charts in headless Chromium', () => {
    const file = join(out, 'report.html');
    const dom = chromium(['--virtual-time-budget=15000', '--dump-dom', `file://${file}`]);
    const charts = Number(/data-charts="(\d+)"/.exec(dom)?.[1] ?? '0');
    const expected = (readFileSync(file, 'utf8').match(/<canvas id=/g) ?? []).length;
    expect(expected).toBeGreaterThan(5);
    expect(charts).toBe(expected);
    expect(/data-chart-errors="([^"]*)"/.exec(dom)?.[1]).toBe('');
    const png = join(out, 'report.png');
    chromium(['--virtual-time-budget=15000', '--window-size=1200,2400', `--screenshot=${png}`, `file://${file}`]);
    expect(statSync(png).size).toBeGreaterThan(20_000);
  }, 300_000);
});
