import { parentPort } from 'node:worker_threads';
import { stepRows, type KernelState } from './fastrp-kernel';

// One row block of a batch FastRP run. The typed arrays of `state` view the parent's
// SharedArrayBuffers, so results need no copying back. The worker stays alive between
// runs (a pool), each run starting with a `run` message.
type Message = { type: 'run'; state: KernelState; start: number; end: number } | { type: 'step'; step: number };

const port = parentPort;
if (port === null) throw new Error('fastrp-worker must run as a worker thread');
let current: { state: KernelState; start: number; end: number } | undefined;
port.on('message', (m: Message) => {
  if (m.type === 'run') {
    current = m;
    port.postMessage('ready');
    return;
  }
  if (current === undefined) throw new Error('step before run');
  stepRows(current.state, m.step, current.start, current.end);
  port.postMessage(m.step);
});
