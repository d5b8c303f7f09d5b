/**
 * docker-compose.yml and infra/k8s cannot run here (no Docker engine, no cluster), so this
 * checks that they agree with the code: the services that exist, the variables each service
 * reads (and that the values parse), ports, probes, shard count and shutdown budgets.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { topicSpecs } from '@affinity/contracts';
import { isSecret, parseEnv, type EnvSchema } from '@affinity/stream';
import { AFFINITY_SERVICES, DEFAULT_PORTS, affinityProcesses, type AffinityService } from '@affinity/supervisor';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { apiEnv } from '../../services/api/src/config';
import { enricherEnv } from '../../services/enricher/src/config';
import { graphEnv } from '../../services/graph/src/config';
import { indexerEnv } from '../../services/indexer/src/config';
import { jobsEnv } from '../../services/jobs/src/config';
import { recommenderEnv } from '../../services/recommender/src/config';

const ROOT = resolve(import.meta.dirname, '../..');
const SCHEMAS: Record<string, EnvSchema> = { api: apiEnv, enricher: enricherEnv, graph: graphEnv, indexer: indexerEnv, jobs: jobsEnv, recommender: recommenderEnv };
const services = readdirSync(resolve(ROOT, 'services')).filter((d) => existsSync(resolve(ROOT, 'services', d, 'src/main.ts'))).sort();
const enrichedPartitions = topicSpecs().find((s) => s.id === 'enriched')!.partitions;

type Env = Record<string, string>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = any;

/** `own`: variables set for this service specifically (each must be read by it); `env`: everything it gets. */
function checkEnv(service: string, own: readonly string[], env: Env, where: string): void {
  const schema = SCHEMAS[service]!;
  for (const name of own) {
    if (name === 'SERVICE') continue;
    expect(Object.keys(schema), `${where}: ${service} sets ${name}, which it does not read`).toContain(name);
  }
  // The values must be ones the service accepts (placeholders from the orchestrator excepted).
  const concrete = Object.fromEntries(Object.entries(env).filter(([, v]) => !v.includes('$(')));
  expect(() => parseEnv(schema, concrete), `${where}: ${service} rejects its configuration`).not.toThrow();
}

/** Inside a container or pod, loopback is reachable from nowhere else: probes, Prometheus, published ports and peers need every interface. */
function expectListensOnEveryInterface(env: Env, where: string): void {
  expect(['0.0.0.0', '::'], `${where}: HTTP_HOST`).toContain(env.HTTP_HOST);
}

/** Secret settings (API keys, the metrics token) never have a value written in a manifest: they come from a Secret. */
function expectNoSecretValues(service: string, env: Env, where: string): void {
  for (const [name, value] of Object.entries(env)) {
    const type = SCHEMAS[service]![name];
    if (type && isSecret(type)) expect(value, `${where}: ${service} has a value for the secret ${name}`).toBe('');
  }
}

describe('docker-compose.yml agrees with the services', () => {
  const text = readFileSync(resolve(ROOT, 'docker-compose.yml'), 'utf8');
  const compose = parse(text, { merge: true }) as Doc;
  const raw = parse(text, { merge: false }) as Doc;
  const names = Object.keys(compose.services).filter((n) => n !== 'kafka' && n !== 'redis').sort();

  it('runs every service and only those, plus Kafka and Redis with health checks', () => {
    expect(names).toEqual(services);
    expect(compose.services.kafka.image).toMatch(/^apache\/kafka:3\.9\.1$/);
    expect(compose.services.kafka.healthcheck).toBeDefined();
    expect(compose.services.redis.command.join(' ')).toMatch(/--appendfsync always/);
  });

  it.each(services)('%s: variables, port, health check, shard count', (name) => {
    const svc = compose.services[name];
    const env: Env = Object.fromEntries(Object.entries(svc.environment).map(([k, v]) => [k, String(v)]));
    expect(env.SERVICE).toBe(name);
    checkEnv(name, Object.keys(raw.services[name].environment).filter((k) => k !== '<<'), env, 'docker-compose.yml');
    expect(Number(env.HTTP_PORT)).toBeGreaterThan(0);
    expectListensOnEveryInterface(env, `docker-compose.yml ${name}`);
    expectNoSecretValues(name, env, 'docker-compose.yml');
    expect(svc.healthcheck.test.join(' ')).toMatch(/readyz/);
    expect(Number(env.INDEX_SHARDS)).toBe(enrichedPartitions);
    expect(svc.depends_on.kafka.condition).toBe('service_healthy');
  });

  it('every shared variable is read by some service', () => {
    for (const name of Object.keys(raw['x-env'])) expect(Object.values(SCHEMAS).some((schema) => name in schema), `x-env ${name}`).toBe(true);
  });

  it('the image runs services/$SERVICE/src/main.ts', () => {
    const dockerfile = readFileSync(resolve(ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/services\/\$SERVICE\/src\/main\.ts/);
  });

  it('the image installs tsx, which runs the services, although NODE_ENV=production omits devDependencies', () => {
    const dockerfile = readFileSync(resolve(ROOT, 'Dockerfile'), 'utf8');
    const pkg = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
    expect(dockerfile).toMatch(/node --import tsx/);
    expect(pkg.devDependencies.tsx, 'tsx is a devDependency').toBeDefined();
    const install = dockerfile.split('\n').find((l) => /^RUN npm ci\b/.test(l));
    const production = /^ENV [^#]*NODE_ENV=production/m.test(dockerfile.slice(0, dockerfile.indexOf(install ?? '')));
    expect(install, 'a RUN npm ci line').toBeDefined();
    if (production) expect(install).toMatch(/--include=dev/);
  });
});

describe('infra/k8s agrees with the services', () => {
  const dir = resolve(ROOT, 'infra/k8s');
  const kustomization = parse(readFileSync(resolve(dir, 'kustomization.yaml'), 'utf8')) as Doc;
  const docs: Doc[] = (kustomization.resources as string[]).flatMap((f) => parseAllDocuments(readFileSync(resolve(dir, f), 'utf8')).map((d) => d.toJS()));
  const configMap = docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name === 'affinity-config').data as Env;
  const workloads = docs.filter((d) => d.kind === 'Deployment' || d.kind === 'StatefulSet');

  it('has a workload per service; the indexer is a StatefulSet', () => {
    expect(workloads.map((w) => w.metadata.name).sort()).toEqual(services);
    expect(workloads.find((w) => w.metadata.name === 'indexer').kind).toBe('StatefulSet');
    expect(Number(configMap.INDEX_SHARDS)).toBe(enrichedPartitions);
  });

  it.each(services)('%s: variables, ports, probes, resources, disruption budget, service, grace period', (name) => {
    const w = workloads.find((x) => x.metadata.name === name);
    const pod = w.spec.template.spec;
    const c = pod.containers[0];
    const env: Env = { ...configMap };
    for (const e of c.env) env[e.name] = e.value ?? '$(from-field)';
    checkEnv(name, c.env.map((e: Doc) => e.name), env, `infra/k8s/${name}`);
    expect(env.SERVICE).toBe(name);
    const port = Number(env.HTTP_PORT);
    expect(c.ports[0].containerPort).toBe(port);
    expect(w.spec.template.metadata.annotations['prometheus.io/port']).toBe(String(port));
    expectListensOnEveryInterface(env, `infra/k8s/${name}`);
    expectNoSecretValues(name, env, 'infra/k8s');
    // Scraped only where /metrics is served; its token, if any, from the Secret every workload references.
    if (w.spec.template.metadata.annotations['prometheus.io/scrape'] === 'true') expect(env.METRICS_ENABLED ?? 'true').toMatch(/^(true|1|yes)$/);
    expect(c.envFrom.some((e: Doc) => e.secretRef?.name === 'affinity-metrics' && e.secretRef.optional === true), `${name} reads METRICS_TOKEN from the affinity-metrics Secret`).toBe(true);
    expect(c.readinessProbe.httpGet.path).toBe('/readyz');
    expect(c.livenessProbe.httpGet.path).toBe('/healthz');
    expect(c.resources.requests.cpu).toBeDefined();
    expect(c.resources.requests.memory).toBeDefined();
    // The drain must finish before Kubernetes sends SIGKILL.
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(Number(env.SHUTDOWN_GRACE_MS));
    const labels = w.spec.selector.matchLabels;
    const selects = (sel: Env) => Object.entries(sel).every(([k, v]) => labels[k] === v);
    expect(docs.some((d) => d.kind === 'PodDisruptionBudget' && selects(d.spec.selector.matchLabels)), `${name} has a PodDisruptionBudget`).toBe(true);
    const svc = docs.find((d) => d.kind === 'Service' && d.metadata.name === name);
    expect(svc && selects(svc.spec.selector), `${name} has a Service`).toBe(true);
    expect(svc.spec.ports[0].targetPort).toBe(c.ports[0].name);
  });

  it('every ConfigMap variable is read by some service', () => {
    for (const name of Object.keys(configMap)) expect(Object.values(SCHEMAS).some((schema) => name in schema), `ConfigMap ${name}`).toBe(true);
  });

  it('indexer pods announce a per-pod address and share the snapshot volume', () => {
    const ix = workloads.find((w) => w.metadata.name === 'indexer');
    const env = Object.fromEntries(ix.spec.template.spec.containers[0].env.map((e: Doc) => [e.name, e.value]));
    expect(env.INDEX_ADVERTISE_URL).toContain('$(INSTANCE_ID).indexer-headless');
    const pvc = docs.find((d) => d.kind === 'PersistentVolumeClaim');
    expect(pvc.spec.accessModes).toContain('ReadWriteMany');
    expect(docs.find((d) => d.kind === 'Service' && d.metadata.name === 'indexer-headless').spec.clusterIP).toBe('None');
  });
});

describe('./dev run (packages/supervisor) agrees with the services', () => {
  it('starts every service, the API last, each on its HTTP_PORT default (the ports docker-compose.yml uses)', () => {
    expect([...AFFINITY_SERVICES].sort()).toEqual(services);
    expect(AFFINITY_SERVICES.at(-1)).toBe('api');
    const compose = parse(readFileSync(resolve(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as Doc;
    for (const name of services) {
      const port = DEFAULT_PORTS[name as AffinityService];
      expect(parseEnv(SCHEMAS[name]!, {}).HTTP_PORT, `${name}: HTTP_PORT default`).toBe(port);
      expect(Number(compose.services[name].environment.HTTP_PORT), `docker-compose.yml ${name}`).toBe(port);
      expect(existsSync(resolve(ROOT, affinityProcesses({ services: [name as AffinityService] })[0]!.entry)), `${name} entry`).toBe(true);
    }
  });
});

describe('README', () => {
  it('documents every configuration variable exactly as the schemas define it', async () => {
    const { injectIntoReadme } = await import('../../scripts/config-reference');
    const readme = readFileSync(resolve(ROOT, 'README.md'), 'utf8');
    expect(injectIntoReadme(readme), 'run: npx tsx scripts/config-reference.ts --write').toBe(readme);
  });
});
