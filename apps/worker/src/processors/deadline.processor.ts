import { Processor, WorkerHost } from '@nestjs/bullmq';
import type { Job } from 'bullmq';
import { WORKER_NAME, WorkQueues, type JobData, type PendingWork } from '@aftersales/scheduling';
import { STALLED_JOBS } from './stalled-jobs';
import { SystemCommands, WORKER_ACTOR } from '../system-commands';

type DeadlineWork = Extract<PendingWork, { queue: 'deadlines' }>;

export class DeadlineNotDueError extends Error {}

/**
 * A deadline falls due (DOMAIN.md "Deadlines and policy"): `deadline-passed`
 * goes through the command path, which acts only if the deadline is still
 * the case's (the party may have acted first) and refuses one delivered
 * early, which BullMQ then tries again.
 *
 * Concurrency 256: a deadline job is mostly waiting (its appends wait for
 * the group commit's fsync, tens of milliseconds on a shared disk), so 64
 * at a time capped a burst of due deadlines at about 64 ÷ that wait; the
 * store commits however many are queued in one transaction and one fsync.
 */
@Processor('deadlines', { concurrency: 256, name: WORKER_NAME, ...STALLED_JOBS })
export class DeadlineProcessor extends WorkerHost {
  constructor(
    private readonly commands: SystemCommands,
    private readonly queues: WorkQueues,
  ) {
    super();
  }

  async process(job: Job<JobData<DeadlineWork>>): Promise<string> {
    const { caseId, work } = job.data;
    const key = job.id ?? '';
    // The case work reactor, seeing this deadline end, then knows the job is no longer waiting in Redis.
    this.queues.taken(key);
    try {
      const outcome = await this.commands.execute(caseId, { type: 'deadline-passed', actor: WORKER_ACTOR, data: { name: work.name, dueAt: work.dueAt } }, key);
      if (outcome.kind === 'refused' && outcome.reason === 'deadline_not_due') throw new DeadlineNotDueError(`${work.name} of case ${caseId} is due at ${work.dueAt}`);
      return outcome.kind === 'done' ? (outcome.result.appended ? 'fired' : 'no longer current') : `refused: ${outcome.reason}`;
    } catch (error) {
      this.queues.failed(key);
      throw error;
    }
  }
}
