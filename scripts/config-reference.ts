/**
 * Prints the configuration reference (every variable each service reads, its default and
 * what to set it to) from the services' own zod schemas, as the README's table.
 *   npx tsx scripts/config-reference.ts
 */
import type { EnvSchema } from '@affinity/stream';
import { apiEnv } from '../services/api/src/config';
import { enricherEnv } from '../services/enricher/src/config';
import { graphEnv } from '../services/graph/src/config';
import { indexerEnv } from '../services/indexer/src/config';
import { jobsEnv } from '../services/jobs/src/config';
import { recommenderEnv } from '../services/recommender/src/config';

export const SERVICE_ENVS: Record<string, EnvSchema> = {
  enricher: enricherEnv,
  indexer: indexerEnv,
  graph: graphEnv,
  recommender: recommenderEnv,
  api: apiEnv,
  jobs: jobsEnv,
};

function defaultOf(schema: EnvSchema[string]): string {
  const r = schema.safeParse(undefined);
  if (!r.success) return '(required)';
  const v = r.data as unknown;
  if (v === undefined) return '(unset)';
  if (Array.isArray(v)) return v.join(',') || '(empty)';
  if (v === '') return '(empty)';
  return String(v);
}

export function configReference(): string {
  const vars = new Map<string, { services: string[]; default: string; hint: string }>();
  for (const [service, schema] of Object.entries(SERVICE_ENVS)) {
    for (const [name, type] of Object.entries(schema)) {
      const d = name === 'HTTP_PORT' || name === 'INSTANCE_ID' ? '' : defaultOf(type);
      const entry = vars.get(name) ?? { services: [], default: d, hint: type.description ?? '' };
      entry.services.push(service);
      vars.set(name, entry);
    }
  }
  const all = Object.keys(SERVICE_ENVS).length;
  const rows = [...vars].sort(([a], [b]) => a.localeCompare(b));
  const lines = ['| variable | services | default | what to set |', '|---|---|---|---|'];
  for (const [name, v] of rows) {
    const services = v.services.length === all ? 'all' : v.services.join(', ');
    const def = name === 'HTTP_PORT' ? 'per service (8080 api … 8085 jobs)' : name === 'INSTANCE_ID' ? 'hostname' : v.default;
    lines.push(`| \`${name}\` | ${services} | \`${def.replace(/\|/g, '\\|')}\` | ${v.hint.replace(/\|/g, '\\|')} |`);
  }
  return lines.join('\n');
}


/** Rewrites the table between the README's config-reference markers. */
export function injectIntoReadme(readme: string): string {
  const start = '<!-- config-reference:start -->';
  const end = '<!-- config-reference:end -->';
  const a = readme.indexOf(start);
  const b = readme.indexOf(end);
  if (a < 0 || b < a) throw new Error('README lacks the config-reference markers');
  return `${readme.slice(0, a + start.length)}\n${configReference()}\n${readme.slice(b)}`;
}

// `npx tsx scripts/config-reference.ts --write` updates README.md; without it, prints the table.
if (import.meta.url === `file://${process.argv[1]}`) {
  if (process.argv.includes('--write')) {
    const { readFileSync, writeFileSync } = await import('node:fs');
    const path = new URL('../README.md', import.meta.url);
    writeFileSync(path, injectIntoReadme(readFileSync(path, 'utf8')));
  } else {
    console.log(configReference());
  }
}
