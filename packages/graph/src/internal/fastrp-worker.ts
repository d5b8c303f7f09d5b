import { parentPort, workerData } from 'node:worker_threads';
import { stepRows, type KernelState } from './fastrp-kernel';

// One row block of a batch FastRP run. The typed arrays in workerData view the
// SharedArrayBuffers of the parent, so results need no copying back.
const { state, start, end } = workerData as { state: KernelState; start: number; end: number };
const port = parentPort;
if (port === null) throw new Error('fastrp-worker must run as a worker thread');
port.on('message', (step: number) => {
  stepRows(state, step, start, end);
  port.postMessage(step);
});
