import type { Job } from 'bullmq';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { WorkQueues, type QueueName } from '@aftersales/scheduling';
import { DeadlineNotDueError, DeadlineProcessor } from '../../apps/worker/src/processors/deadline.processor';
import type { CommandOutcome, SystemCommands } from '../../apps/worker/src/system-commands';

// The deadline processor tells the process's queues which jobs it took, so
// the case work reactor does not ask Redis about a deadline that fired here;
// one it failed may wait in Redis again, and is asked about as before.

describe('DeadlineProcessor and the jobs it took', () => {
  const job = { id: 'deadline-c1-merchantResponse-1000', data: { caseId: 'c1', dueAt: 1000, work: { name: 'merchantResponse', dueAt: 1000 } } } as unknown as Job;

  function setUp(outcome: () => Promise<CommandOutcome>) {
    const deadlines = { getJobState: jest.fn(async () => 'delayed'), remove: jest.fn(async () => 1) };
    const queues = new WorkQueues(new Map<QueueName, Queue>([['deadlines', deadlines as unknown as Queue]]), {} as Redis);
    const processor = new DeadlineProcessor({ execute: jest.fn(outcome) } as unknown as SystemCommands, queues);
    return { processor, queues, deadlines };
  }

  it('a deadline that fired here is not asked about when its work ends', async () => {
    const { processor, queues, deadlines } = setUp(async () => ({ kind: 'done', result: { appended: true } as never }));
    expect(await processor.process(job)).toBe('fired');
    await queues.remove([job.id!]);
    expect(deadlines.getJobState).not.toHaveBeenCalled();
  });

  it('a deadline whose run failed is asked about, and taken out while it waits', async () => {
    const { processor, queues, deadlines } = setUp(async () => ({ kind: 'refused', reason: 'deadline_not_due' }));
    await expect(processor.process(job)).rejects.toBeInstanceOf(DeadlineNotDueError);
    await queues.remove([job.id!]);
    expect(deadlines.remove).toHaveBeenCalledWith(job.id);
  });
});
