/**
 * `./dev run`: every Affinity service as its own process, in the foreground, under one supervisor.
 *   ./dev run                       enricher, indexer, graph, recommender, jobs, api (API on :8080)
 *   ./dev run graph recommender     only these
 *   ./dev run --port-base 18080     api on 18080, enricher 18081, … jobs 18085 (the default ports + offset)
 *   ./dev run --dir <dir>           logs and run record there (default .affinity/run, or AFFINITY_RUN_DIR)
 * Every line a service writes is shown prefixed by its name and kept in <dir>/<service>.log (raw
 * JSON); the supervisor's own events are in <dir>/supervisor.log. A service that exits is restarted
 * after 1 s, doubling to 30 s while it keeps dying. Ctrl-C (or SIGTERM) stops the API first, then the
 * workers, each drained; a second Ctrl-C kills what is left. The services read the caller's
 * environment (KAFKA_BROKERS, REDIS_URL, API keys, …: see the README's configuration reference).
 * Exit code: 0 when every service stopped cleanly, 1 otherwise, 2 for a usage error.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  AFFINITY_SERVICES,
  DEFAULT_PORTS,
  LinePrefixer,
  REPOSITORY_ROOT,
  RunDirectory,
  SUPERVISOR_LOG_NAME,
  Supervisor,
  affinityProcesses,
  isAffinityService,
  probeHost,
  type AffinityService,
} from '@affinity/supervisor';

function usage(message: string): never {
  console.error(`./dev run: ${message}\nusage: ./dev run [${AFFINITY_SERVICES.join('|')}]... [--port-base N] [--dir DIR]`);
  process.exit(2);
}

const { values, positionals } = (() => {
  try {
    return parseArgs({ allowPositionals: true, options: { 'port-base': { type: 'string' }, dir: { type: 'string' } } });
  } catch (err) {
    return usage((err as Error).message);
  }
})();
const unknown = positionals.filter((p) => !isAffinityService(p));
if (unknown.length > 0) usage(`no service ${unknown.join(', ')}`);
const services: AffinityService[] = positionals.length > 0 ? AFFINITY_SERVICES.filter((s) => positionals.includes(s)) : [...AFFINITY_SERVICES];
const base = values['port-base'] === undefined ? DEFAULT_PORTS.api : Number(values['port-base']);
if (!Number.isInteger(base) || base < 1 || base + 5 > 65535) usage(`--port-base must be a port number (at most 65530), not ${values['port-base']}`);
const ports = Object.fromEntries(services.map((s) => [s, DEFAULT_PORTS[s] - DEFAULT_PORTS.api + base])) as Record<AffinityService, number>;

const run = new RunDirectory(resolve(REPOSITORY_ROOT, values.dir ?? process.env.AFFINITY_RUN_DIR ?? '.affinity/run'));
try {
  run.claim(services, ports);
} catch (err) {
  console.error(`./dev run: ${(err as Error).message}`);
  process.exit(1);
}

const out = new LinePrefixer([...services, SUPERVISOR_LOG_NAME], { color: process.stdout.isTTY && !process.env.NO_COLOR });
const show = (message: string) => console.log(`${out.prefix(SUPERVISOR_LOG_NAME)}${message}`);
// Each service gets the drain time it is configured with before the supervisor resorts to SIGKILL.
const graceMs = Number(process.env.SHUTDOWN_GRACE_MS ?? 20_000);
const supervisor = new Supervisor({
  processes: affinityProcesses({ services, ports }),
  logDir: run.dir,
  cwd: REPOSITORY_ROOT,
  stopTimeoutMs: (Number.isFinite(graceMs) ? graceMs : 20_000) + 10_000,
  onLine: (name, line) => console.log(out.line(name, line)),
  onEvent: (_e, message) => show(message),
});
/** A line of this command: shown, and kept in supervisor.log beside the supervisor's events. */
const say = (message: string) => {
  show(message);
  supervisor.note(message);
};

let stopping = false;
async function stop(signal: NodeJS.Signals): Promise<void> {
  if (stopping) {
    say(`${signal} again: killing what is still running`);
    supervisor.killAll();
    return;
  }
  stopping = true;
  say(`${signal}: stopping ${[...services].reverse().join(', ')} in that order (${signal === 'SIGINT' ? 'Ctrl-C' : signal} again kills them)`);
  const codes = await supervisor.stop();
  run.release();
  const failed = Object.entries(codes).filter(([, code]) => code !== 0);
  say(failed.length === 0 ? 'every service stopped cleanly' : `stopped; not cleanly: ${failed.map(([n, c]) => `${n} (${c})`).join(', ')}`);
  process.exit(failed.length === 0 ? 0 : 1);
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stop(signal));

say(`starting ${services.join(', ')}; logs in ${run.dir} (./dev logs [service]); Ctrl-C stops`);
supervisor.start();
const readyTimeoutMs = 10 * 60_000;
supervisor.waitReady(readyTimeoutMs).then(
  () => say(`all services ready${ports.api ? `; API on http://${probeHost(process.env.HTTP_HOST)}:${ports.api} (OpenAPI at /openapi.json)` : ''}`),
  (err: unknown) => {
    if (!stopping) say(`${(err as Error).message}; still supervising`);
  },
);
