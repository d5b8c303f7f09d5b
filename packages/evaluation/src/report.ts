import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { EvalResult } from './run';
import { CUTOFFS, type TaskName } from './types';

const TASK_TITLES: Record<TaskName, string> = {
  basket: 'Next in basket (complementary lists, fused over the rest of the basket)',
  'next-basket': 'Next basket (personalized list at the split)',
  'next-items': 'Everything after the split (personalized list)',
  session: 'Next click in a session (similar list of the current item)',
  'cold-items': 'Cold-start items (their own list, no behaviour before the split)',
  'cold-users': 'Cold-start shoppers (personalized list, no history before the split)',
};

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const f4 = (x: number): string => x.toFixed(4);

/** Chart.js, inlined so the report opens offline and from a file. */
function chartJs(): string {
  // The package exports only its module entry points; the UMD bundle sits next to them in dist/.
  const require = createRequire(import.meta.url);
  return readFileSync(join(dirname(require.resolve('chart.js')), 'chart.umd.min.js'), 'utf8');
}

/** The report as a readable Markdown summary (what the README quotes). */
export function markdownReport(results: readonly EvalResult[], command: string): string {
  const out: string[] = [`# ./dev eval — offline replay evaluation`, '', `Command: \`${command}\``, ''];
  for (const r of results) {
    out.push(`## ${r.dataset.name}`, '', r.dataset.description, '');
    out.push(`Split at ${r.split.splitTs}: ${r.split.train} training events, ${r.split.test} held out; baselines tuned on a validation split of the training part (${r.split.validationTrain} events).`, '');
    if (r.verdict) {
      out.push(
        `**Main metric ${r.main.metric} of ${r.main.task}: ${r.verdict.pipeline} ${f4(r.verdict.value)} vs best baseline ${r.verdict.bestBaseline} ${f4(r.verdict.baselineValue)} → ${r.verdict.ratio.toFixed(3)}×**`,
        '',
      );
    }
    for (const [task, t] of Object.entries(r.tasks)) {
      out.push(`### ${task} (${t.queries} queries)`, '', '| method | R@10 | R@20 | NDCG@10 | NDCG@20 | MRR@20 | length | empty | coverage | pop. bias |', '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
      for (const [name, m] of Object.entries(t.methods)) {
        out.push(
          `| ${name}${m.variant ? ` (${m.variant.split(', ').slice(1).join(', ')})` : ''} | ${f4(m.metrics['recall@10'])} | ${f4(m.metrics['recall@20'])} | ${f4(m.metrics['ndcg@10'])} | ${f4(m.metrics['ndcg@20'])} | ${f4(m.metrics['mrr@20'])} | ${m.meanLength.toFixed(1)} | ${(m.emptyShare * 100).toFixed(1)}% | ${(m.coverage * 100).toFixed(1)}% | ${m.popularityBias.toFixed(2)} |`,
        );
      }
      out.push('');
    }
  }
  return out.join('\n');
}

/**
 * A self-contained HTML report: per dataset the verdict, a table per task, and charts made
 * with Chart.js (recall vs K, where the pipeline's items came from, results per segment).
 * When the charts are drawn the page sets `data-charts` on <body> to the number drawn, and
 * `data-chart-errors` to any error — what the rendering test reads.
 */
export function htmlReport(results: readonly EvalResult[], command: string): string {
  const charts: { id: string; config: unknown }[] = [];
  const sections: string[] = [];
  const palette = ['#d6336c', '#1c7ed6', '#37b24d', '#f59f00', '#7048e8', '#0ca678', '#e8590c', '#495057', '#ae3ec9'];
  results.forEach((r, ri) => {
    const parts: string[] = [`<section><h2>${esc(r.dataset.name)}</h2><p>${esc(r.dataset.description)}</p><p class="small">${esc(r.dataset.attribution)} — ${r.dataset.products} products, ${r.dataset.events} events, ${r.dataset.users} shoppers. Split at ${esc(r.split.splitTs)}: ${r.split.train} training events, ${r.split.test} held out.</p>`];
    if (r.verdict) {
      const win = r.verdict.ratio >= 1;
      parts.push(
        `<p class="verdict ${win ? 'win' : 'loss'}">Main metric (${esc(r.main.task)} ${esc(r.main.metric)}): ${esc(r.verdict.pipeline)} <b>${f4(r.verdict.value)}</b> vs best baseline ${esc(r.verdict.bestBaseline)} <b>${f4(r.verdict.baselineValue)}</b> → <b>${r.verdict.ratio.toFixed(3)}×</b></p>`,
      );
    }
    for (const [task, t] of Object.entries(r.tasks) as [TaskName, NonNullable<EvalResult['tasks'][TaskName]>][]) {
      const methods = Object.entries(t.methods);
      const rows = methods
        .map(
          ([name, m]) =>
            `<tr><td>${esc(name)}${m.variant ? `<div class="small">${esc(m.variant)}</div>` : ''}</td>${CUTOFFS.flatMap((k) => [m.metrics[`recall@${k}`], m.metrics[`ndcg@${k}`], m.metrics[`mrr@${k}`]])
              .map((v) => `<td>${f4(v)}</td>`)
              .join('')}<td>${m.meanLength.toFixed(1)}</td><td>${(m.emptyShare * 100).toFixed(1)}%</td><td>${(m.coverage * 100).toFixed(1)}%</td><td>${m.popularityBias.toFixed(2)}</td></tr>`,
        )
        .join('');
      parts.push(
        `<h3>${esc(TASK_TITLES[task])} — ${t.queries} queries</h3><table><tr><th>method</th><th>R@10</th><th>NDCG@10</th><th>MRR@10</th><th>R@20</th><th>NDCG@20</th><th>MRR@20</th><th>length</th><th>empty</th><th>coverage</th><th>pop. bias</th></tr>${rows}</table>`,
      );
      const id = `c${ri}-${task}`;
      parts.push(`<div class="charts"><div class="chart"><canvas id="${id}-k"></canvas></div>`);
      charts.push({
        id: `${id}-k`,
        config: {
          type: 'line',
          data: { labels: Array.from({ length: 20 }, (_, i) => i + 1), datasets: methods.map(([name, m], i) => ({ label: name, data: m.recallCurve.map((v) => Number(v.toFixed(5))), borderColor: palette[i % palette.length], fill: false, pointRadius: 0 })) },
          options: { animation: false, plugins: { title: { display: true, text: `${task}: recall vs K` } }, scales: { x: { title: { display: true, text: 'K' } }, y: { beginAtZero: true } } },
        },
      });
      const segments = [...new Set(methods.flatMap(([, m]) => Object.keys(m.segments)))].sort();
      if (segments.length > 1) {
        parts.push(`<div class="chart"><canvas id="${id}-seg"></canvas></div>`);
        charts.push({
          id: `${id}-seg`,
          config: {
            type: 'bar',
            data: { labels: segments, datasets: methods.map(([name, m], i) => ({ label: name, data: segments.map((s) => Number((m.segments[s]?.recall ?? 0).toFixed(5))), backgroundColor: palette[i % palette.length] })) },
            options: { animation: false, plugins: { title: { display: true, text: `${task}: recall@20 per segment` } }, scales: { y: { beginAtZero: true } } },
          },
        });
      }
      const withSources = methods.filter(([, m]) => m.sources !== undefined);
      for (const [name, m] of withSources) {
        const labels = Object.keys(m.sources!);
        parts.push(`<div class="chart"><canvas id="${id}-src-${charts.length}"></canvas></div>`);
        charts.push({
          id: `${id}-src-${charts.length}`,
          config: {
            type: 'bar',
            data: {
              labels,
              datasets: [
                { label: 'share of items shown', data: labels.map((l) => Number(m.sources![l]!.shown.toFixed(4))), backgroundColor: '#1c7ed6' },
                { label: 'share of hits', data: labels.map((l) => Number(m.sources![l]!.hits.toFixed(4))), backgroundColor: '#37b24d' },
              ],
            },
            options: { animation: false, indexAxis: 'y', plugins: { title: { display: true, text: `${task}: what carried ${name}'s items (first reason)` } } },
          },
        });
      }
      parts.push('</div>');
    }
    parts.push('</section>');
    sections.push(parts.join('\n'));
  });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Affinity evaluation</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#212529}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #dee2e6;padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left}
.small{font-size:12px;color:#868e96}.verdict{font-size:15px;padding:6px 10px;border-radius:4px}.win{background:#ebfbee}.loss{background:#fff5f5}
.charts{display:flex;flex-wrap:wrap;gap:12px}.chart{width:520px;height:300px}
</style></head>
<body data-charts="0">
<h1>Affinity — offline replay evaluation</h1>
<p class="small">Command: <code>${esc(command)}</code>. Every method sees the same time split and answers the same questions; lists are read as of the split.</p>
${sections.join('\n')}
<script>${chartJs()}</script>
<script>
const charts = ${JSON.stringify(charts)};
let drawn = 0;
const errors = [];
for (const c of charts) {
  try {
    const chart = new Chart(document.getElementById(c.id), { ...c.config, options: { ...c.config.options, responsive: true, maintainAspectRatio: false } });
    if (chart.data.datasets.length > 0) drawn++;
  } catch (err) {
    errors.push(c.id + ': ' + err.message);
  }
}
document.body.dataset.charts = String(drawn);
document.body.dataset.chartErrors = errors.join('; ');
</script>
</body></html>
`;
}
