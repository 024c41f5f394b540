import { EventEmitter } from 'node:events';
import { Logger } from '@nestjs/common';
import type { ModuleRef } from '@nestjs/core';
import { Counter, Registry } from 'prom-client';
import { JobEvents } from './job-events';
import type { WorkerMetrics } from './worker-metrics';

/** A BullMQ worker as JobEvents sees it: an emitter with the queue's name. */
class FakeWorker extends EventEmitter {
  constructor(readonly name: string) {
    super();
  }
}

describe('JobEvents', () => {
  it("turns a worker's own errors (a lost job lock) into a warning and a counted series, not a bare stack on stderr", async () => {
    const workers = new Map<unknown, FakeWorker>();
    const moduleRef = { get: (type: unknown) => ({ worker: workers.get(type) ?? workers.set(type, new FakeWorker(`q${workers.size}`)).get(type) }) };
    const registry = new Registry();
    const errors = new Counter({ name: 'worker_errors_total', help: 'h', labelNames: ['queue'] as const, registers: [registry] });
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const printed = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      new JobEvents(moduleRef as unknown as ModuleRef, { errors } as unknown as WorkerMetrics).onApplicationBootstrap();
      expect(workers.size).toBe(5); // deadlines, pickups, refunds, insurance and webhooks
      for (const worker of workers.values()) {
        // EventEmitter throws on an 'error' nobody listens to; BullMQ catches that and prints it.
        expect(() => worker.emit('error', new Error(`Lock mismatch for job j-${worker.name}`))).not.toThrow();
      }
      expect(warn).toHaveBeenCalledTimes(5);
      expect(warn.mock.calls[0][0]).toMatch(/^q0 worker: Lock mismatch for job j-q0$/);
      expect((await registry.getSingleMetric('worker_errors_total')!.get()).values.reduce((sum, v) => sum + v.value, 0)).toBe(5);
      expect(printed).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
      printed.mockRestore();
    }
  });
});
