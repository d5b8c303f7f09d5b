/**
 * `./dev logs`: the logs of the running `./dev run`, or of the last one.
 *   ./dev logs                 every service and the supervisor, merged in time order
 *   ./dev logs api graph       only these
 *   ./dev logs -n 50           the last 50 lines first
 *   ./dev logs --no-follow     print and exit even while the run goes on (it follows by default then)
 *   ./dev logs --raw           the JSON lines as the services wrote them
 *   ./dev logs --dir <dir>     another run directory (default .affinity/run, or AFFINITY_RUN_DIR)
 * While the run is alive it keeps printing new lines until Ctrl-C (which stops only this command)
 * or until the run ends.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { LinePrefixer, LogFollower, REPOSITORY_ROOT, RunDirectory, type LogLine } from '@affinity/supervisor';

function fail(message: string, code = 2): never {
  console.error(`./dev logs: ${message}`);
  process.exit(code);
}

const { values, positionals } = (() => {
  try {
    return parseArgs({
      allowPositionals: true,
      options: { lines: { type: 'string', short: 'n' }, 'no-follow': { type: 'boolean', default: false }, raw: { type: 'boolean', default: false }, dir: { type: 'string' } },
    });
  } catch (err) {
    return fail((err as Error).message);
  }
})();
const last = values.lines === undefined ? Infinity : Number(values.lines);
if (!(last >= 0)) fail(`-n wants a number of lines, not ${values.lines}`);

const run = new RunDirectory(resolve(REPOSITORY_ROOT, values.dir ?? process.env.AFFINITY_RUN_DIR ?? '.affinity/run'));
const present = run.logFiles();
if (present.length === 0) fail(`no logs in ${run.dir}: start Affinity with ./dev run`, 1);
const missing = positionals.filter((p) => !present.includes(p));
if (missing.length > 0) fail(`no log for ${missing.join(', ')} in ${run.dir} (there are: ${present.join(', ')})`, 1);
const names = positionals.length > 0 ? positionals : present;

const out = new LinePrefixer(names, { color: process.stdout.isTTY && !process.env.NO_COLOR });
const print = (lines: readonly LogLine[]) => {
  for (const l of lines) console.log(values.raw ? `${out.prefix(l.name)}${l.line}` : out.line(l.name, l.line));
};

const follower = new LogFollower(run.dir, names);
const first = follower.poll();
print(Number.isFinite(last) ? first.slice(Math.max(0, first.length - last)) : first);
const record = run.record();
if (!run.live() || values['no-follow']) {
  if (record && !run.live()) console.error(`(run of ${record.startedAt}${record.stoppedAt ? `, stopped ${record.stoppedAt}` : ', whose supervisor died without stopping it'})`);
  process.exit(0);
}
const timer = setInterval(() => {
  print(follower.poll());
  if (!run.live()) {
    clearInterval(timer);
    print(follower.poll());
    console.error('(the run stopped)');
  }
}, 250);
process.on('SIGINT', () => process.exit(0));
