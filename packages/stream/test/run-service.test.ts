import { Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger, runService, type Service } from '../src/index';

// runService owns the process here (handleSignals): take its signal/error handlers off again
// so they do not outlive the test in this worker.
const EVENTS: string[] = ['SIGTERM', 'SIGINT', 'uncaughtException', 'unhandledRejection'];
type Listener = (...args: unknown[]) => void;
const listeners = (e: string): Listener[] => process.listeners(e as 'SIGTERM') as Listener[];
const before = new Map(EVENTS.map((e) => [e, new Set(listeners(e))]));
afterEach(() => {
  for (const e of EVENTS) for (const l of listeners(e)) if (!before.get(e)!.has(l)) process.removeListener(e, l);
  vi.restoreAllMocks();
});

function fakeService(healthy: () => boolean): Service & { closed: number } {
  return {
    name: 'fake',
    closed: 0,
    start: async () => undefined,
    async close() {
      this.closed++;
    },
    healthy,
    ready: () => true,
  };
}

describe('runService watchdog', () => {
  it('shuts down and exits 1 when the service stays unhealthy', async () => {
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    let healthy = true;
    const service = fakeService(() => healthy);
    const running = await runService(service, { name: 'fake', logger: createLogger('fake', 'silent'), registry: new Registry(), httpPort: false, graceMs: 1000, unhealthyExitMs: 60 });
    healthy = false; // e.g. the consumer failed for good
    expect(await running.stopped).toBe(1);
    await vi.waitFor(() => expect(exit).toHaveBeenCalledWith(1));
    expect(service.closed).toBe(1);
  });

  it('tolerates a short unhealthy spell', async () => {
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    let healthy = false;
    const service = fakeService(() => healthy);
    const running = await runService(service, { name: 'fake', logger: createLogger('fake', 'silent'), registry: new Registry(), httpPort: false, graceMs: 1000, unhealthyExitMs: 300 });
    await new Promise((r) => setTimeout(r, 100));
    healthy = true;
    await new Promise((r) => setTimeout(r, 500));
    expect(exit).not.toHaveBeenCalled();
    expect(service.closed).toBe(0);
    await running.shutdown('test over');
  });
});
