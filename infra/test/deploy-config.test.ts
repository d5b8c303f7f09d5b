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

/** What docker-compose.yml runs besides the services. */
const INFRASTRUCTURE = ['grafana', 'kafka', 'prometheus', 'redis'];
const GRAFANA = resolve(ROOT, 'infra/grafana');
const dashboardFiles = readdirSync(resolve(GRAFANA, 'dashboards')).filter((f) => f.endsWith('.json')).sort();
/** Prometheus' listen port when none is configured. */
const PROMETHEUS_PORT = 9090;

/** host:port of a Grafana data source URL. */
function urlHostPort(url: string): [string, number] {
  const u = new URL(url);
  return [u.hostname, Number(u.port || (u.protocol === 'https:' ? 443 : 80))];
}

describe('docker-compose.yml agrees with the services', () => {
  const text = readFileSync(resolve(ROOT, 'docker-compose.yml'), 'utf8');
  const compose = parse(text, { merge: true }) as Doc;
  const raw = parse(text, { merge: false }) as Doc;
  const names = Object.keys(compose.services).filter((n) => !INFRASTRUCTURE.includes(n)).sort();

  it('runs every service and only those, plus Kafka and Redis with health checks, Prometheus and Grafana', () => {
    expect(names).toEqual(services);
    expect(Object.keys(compose.services).filter((n) => !services.includes(n)).sort()).toEqual(INFRASTRUCTURE);
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

  /** A service's bind mounts: container path → the repository path it shows. */
  const mounts = (name: string): Map<string, string> =>
    new Map(
      (compose.services[name].volumes as string[])
        .map((v) => v.split(':'))
        .filter(([host]) => host!.startsWith('./'))
        .map(([host, container]) => [container!, resolve(ROOT, host!)]),
    );

  it('Prometheus scrapes /metrics of every service on its HTTP_PORT, with a pinned image', () => {
    const prom = compose.services.prometheus;
    expect(prom.image).toMatch(/^prom\/prometheus:v\d+\.\d+\.\d+$/);
    const configPath = (prom.command as string[]).find((a) => a.startsWith('--config.file='))!.split('=')[1]!;
    const config = parse(readFileSync(mounts('prometheus').get(configPath)!, 'utf8')) as Doc;
    const jobs = config.scrape_configs as Doc[];
    expect(jobs.every((j) => (j.metrics_path ?? '/metrics') === '/metrics')).toBe(true);
    const targets = jobs.flatMap((j) => (j.static_configs as Doc[]).flatMap((c) => c.targets as string[])).sort();
    expect(targets).toEqual(services.map((n) => `${n}:${compose.services[n].environment.HTTP_PORT}`).sort());
    for (const n of services) expect(compose.services[n].environment.METRICS_ENABLED ?? 'true', `${n} serves /metrics`).toMatch(/^(true|1|yes)$/);
  });

  it('Grafana provisions Prometheus as its data source and every dashboard of infra/grafana/dashboards', () => {
    const grafana = compose.services.grafana;
    expect(grafana.image).toMatch(/^grafana\/grafana:\d+\.\d+\.\d+$/);
    const m = mounts('grafana');
    expect(m.get('/etc/grafana/provisioning')).toBe(resolve(GRAFANA, 'provisioning'));
    const datasources = parse(readFileSync(resolve(GRAFANA, 'provisioning/datasources/prometheus.yaml'), 'utf8')).datasources as Doc[];
    expect(datasources.map((d) => d.type)).toEqual(['prometheus']);
    expect(urlHostPort(datasources[0].url)).toEqual(['prometheus', PROMETHEUS_PORT]);
    expect(compose.services.prometheus.ports.some((p: string) => p.endsWith(`:${PROMETHEUS_PORT}`))).toBe(true);
    const providers = parse(readFileSync(resolve(GRAFANA, 'provisioning/dashboards/affinity.yaml'), 'utf8')).providers as Doc[];
    for (const p of providers) expect(m.get(p.options.path), `the dashboards of provider ${p.name} are mounted`).toBe(resolve(GRAFANA, 'dashboards'));
    expect(dashboardFiles).toContain('affinity.json');
    const home = grafana.environment.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH as string;
    expect(providers.map((p) => `${p.options.path}/affinity.json`)).toContain(home);
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

  it('every workload is annotated for Prometheus (infra/k8s/monitoring scrapes by annotation)', () => {
    for (const w of workloads) expect(w.spec.template.metadata.annotations['prometheus.io/scrape'], w.metadata.name).toBe('true');
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

describe('infra/k8s/monitoring agrees with the workloads and the dashboard', () => {
  const dir = resolve(ROOT, 'infra/k8s/monitoring');
  const kustomization = parse(readFileSync(resolve(dir, 'kustomization.yaml'), 'utf8')) as Doc;
  const docs: Doc[] = (kustomization.resources as string[]).flatMap((f) => parseAllDocuments(readFileSync(resolve(dir, f), 'utf8')).map((d) => d.toJS()));
  const find = (kind: string, name: string) => docs.find((d) => d.kind === kind && d.metadata.name === name);

  it('lives in the namespace of the workloads it scrapes', () => {
    const main = parse(readFileSync(resolve(ROOT, 'infra/k8s/kustomization.yaml'), 'utf8')) as Doc;
    expect(kustomization.namespace).toBe(main.namespace);
  });

  it('ships every dashboard of infra/grafana/dashboards, unchanged, in a ConfigMap Grafana sidecars find', () => {
    const generator = (kustomization.configMapGenerator as Doc[]).find((g) => g.name === 'affinity-grafana-dashboards');
    expect(generator.options.labels.grafana_dashboard).toBe('1');
    expect((generator.files as string[]).map((f) => f.split('/').at(-1)).sort()).toEqual(dashboardFiles);
    for (const f of generator.files as string[]) {
      const copy = readFileSync(resolve(dir, f), 'utf8');
      expect(copy === readFileSync(resolve(GRAFANA, 'dashboards', f.split('/').at(-1)!), 'utf8'), `${f} is a copy of infra/grafana/dashboards: cp infra/grafana/dashboards/*.json infra/k8s/monitoring/dashboards/`).toBe(true);
    }
  });

  it('Prometheus discovers the pods and scrapes those annotated, on the annotated port, with the rights to list them', () => {
    const config = parse(find('ConfigMap', 'prometheus-config').data['prometheus.yml']) as Doc;
    const job = (config.scrape_configs as Doc[])[0];
    expect(job.kubernetes_sd_configs[0].role).toBe('pod');
    const relabel = job.relabel_configs as Doc[];
    expect(relabel).toContainEqual(expect.objectContaining({ source_labels: ['__meta_kubernetes_pod_annotation_prometheus_io_scrape'], regex: 'true', action: 'keep' }));
    const address = relabel.find((r) => r.target_label === '__address__');
    expect(address.source_labels).toContain('__meta_kubernetes_pod_annotation_prometheus_io_port');
    const deployment = find('Deployment', 'prometheus');
    const sa = deployment.spec.template.spec.serviceAccountName;
    const binding = docs.find((d) => d.kind === 'RoleBinding' && d.subjects.some((s: Doc) => s.kind === 'ServiceAccount' && s.name === sa));
    const role = find(binding.roleRef.kind, binding.roleRef.name);
    expect(role.rules.some((r: Doc) => r.resources.includes('pods') && ['list', 'watch'].every((v) => r.verbs.includes(v)))).toBe(true);
    const container = deployment.spec.template.spec.containers[0];
    const configArg = (container.args as string[]).find((a) => a.startsWith('--config.file='))!.split('=')[1]!;
    const mount = container.volumeMounts.find((v: Doc) => configArg.startsWith(`${v.mountPath}/`));
    expect(deployment.spec.template.spec.volumes.find((v: Doc) => v.name === mount.name).configMap.name).toBe('prometheus-config');
  });

  it('Grafana is provisioned as in docker-compose.yml: Prometheus by its Service, the dashboards from their ConfigMap', () => {
    const data = find('ConfigMap', 'grafana-provisioning').data;
    const datasources = parse(data['datasources.yaml']) as Doc;
    const providers = parse(data['dashboards.yaml']) as Doc;
    expect(datasources).toEqual(parse(readFileSync(resolve(GRAFANA, 'provisioning/datasources/prometheus.yaml'), 'utf8')));
    expect(providers).toEqual(parse(readFileSync(resolve(GRAFANA, 'provisioning/dashboards/affinity.yaml'), 'utf8')));
    const [host, port] = urlHostPort(datasources.datasources[0].url);
    const service = find('Service', host);
    expect(service.spec.ports.map((p: Doc) => p.port)).toContain(port);
    const pod = find('Deployment', 'grafana').spec.template.spec;
    const volumeOf = (path: string) => pod.volumes.find((v: Doc) => v.name === pod.containers[0].volumeMounts.find((m: Doc) => m.mountPath === path)?.name);
    expect(volumeOf(providers.providers[0].options.path).configMap.name).toBe('affinity-grafana-dashboards');
    expect(volumeOf('/etc/grafana/provisioning/datasources').configMap.name).toBe('grafana-provisioning');
    expect(volumeOf('/etc/grafana/provisioning/dashboards').configMap.name).toBe('grafana-provisioning');
    expect(find('Deployment', 'prometheus').spec.template.spec.containers[0].ports.map((p: Doc) => p.containerPort)).toContain(PROMETHEUS_PORT);
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
