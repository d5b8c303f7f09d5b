import { parentPort } from 'node:worker_threads';
import { stepRows, type KernelState } from './fastrp-kernel';

// One row block of a batch FastRP run. The typed arrays of `state` view the parent's shared
// memory, so results need no copying back. The worker stays alive between runs (a pool),
// each run starting with a `run` message; step 0 (per-row work) and the propagation steps
// (per-edge work) have their own row ranges so both split evenly.
type Message =
  | { type: 'run'; state: KernelState; init: [number, number]; rows: [number, number] }
  | { type: 'step'; step: number; last: boolean };

const port = parentPort;
if (port === null) throw new Error('fastrp-worker must run as a worker thread');
let current: Extract<Message, { type: 'run' }> | undefined;
port.on('message', (m: Message) => {
  if (m.type === 'run') {
    current = m;
    port.postMessage('ready');
    return;
  }
  if (current === undefined) throw new Error('step before run');
  const [start, end] = m.step === 0 ? current.init : current.rows;
  stepRows(current.state, m.step, start, end);
  // An idle worker must not pin the run's memory (≈ 5 dense n × d blocks).
  if (m.last) current = undefined;
  port.postMessage(m.step);
});
