import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { WorkQueues, type QueueName } from '@aftersales/scheduling';

// Taking out work no longer owed asks Redis each job's state first, unless a
// worker of this process took the job and has not failed it: that job is
// active or done, and a deadline that fired is what ends its own work.

describe('WorkQueues.remove', () => {
  function queuesAnswering(state: string) {
    const deadlines = { getJobState: jest.fn(async () => state), remove: jest.fn(async () => 1) };
    const queues = new WorkQueues(new Map<QueueName, Queue>([['deadlines', deadlines as unknown as Queue]]), {} as Redis);
    return { queues, deadlines };
  }

  it('does not ask about a job a worker of this process took', async () => {
    const { queues, deadlines } = queuesAnswering('active');
    queues.taken('deadline-c1-merchantResponse-1');
    await queues.remove(['deadline-c1-merchantResponse-1', 'deadline-c2-merchantResponse-1']);
    expect(deadlines.getJobState.mock.calls).toEqual([['deadline-c2-merchantResponse-1']]);
  });

  it('asks about, and takes out, a job whose run here failed and which waits again', async () => {
    const { queues, deadlines } = queuesAnswering('delayed');
    queues.taken('deadline-c1-merchantResponse-1');
    queues.failed('deadline-c1-merchantResponse-1');
    await queues.remove(['deadline-c1-merchantResponse-1']);
    expect(deadlines.remove.mock.calls).toEqual([['deadline-c1-merchantResponse-1']]);
  });

  it('asks again the next time the same key is removed', async () => {
    const { queues, deadlines } = queuesAnswering('completed');
    queues.taken('deadline-c1-merchantResponse-1');
    await queues.remove(['deadline-c1-merchantResponse-1']);
    await queues.remove(['deadline-c1-merchantResponse-1']);
    expect(deadlines.getJobState).toHaveBeenCalledTimes(1);
    expect(deadlines.remove).not.toHaveBeenCalled();
  });
});
