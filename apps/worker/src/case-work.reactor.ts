import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { EVENT_STORE } from '@aftersales/application';
import { CASE_EVENT_TYPES } from '@aftersales/domain';
import { LogFollower, type EventStore } from '@aftersales/event-store';
import { CASE_WORK_CHECKPOINT, CaseWorkPlanner, PlannerOvertakenError, WorkQueues, WorkStore, type WorkChanges } from '@aftersales/scheduling';

/** How long the reactor lets events pile up after a batch: new work is recorded this much later, deadlines are seconds to days away. */
const GATHER_MS = 20;

/**
 * The reactor (ARCHITECTURE.md rule 3): follows the log from its stored
 * checkpoint, keeps the pending work of every case in the durable work
 * table, and puts new work due within the horizon into BullMQ once that
 * table has it (work due later is the reconciler's to add when it comes
 * inside the horizon). A crash
 * between the two leaves work the reconciler finds; a batch done twice adds
 * jobs whose ids exist already, which BullMQ ignores. Nothing is enqueued
 * by a command handler.
 */
@Injectable()
export class CaseWorkReactor implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(CaseWorkReactor.name);
  readonly follower: LogFollower;
  private readonly planner: CaseWorkPlanner;

  constructor(
    @Inject(EVENT_STORE) store: EventStore,
    private readonly work: WorkStore,
    private readonly queues: WorkQueues,
  ) {
    this.planner = new CaseWorkPlanner(store, work);
    this.follower = new LogFollower(store, {
      name: CASE_WORK_CHECKPOINT,
      // Filtered in the store (on EventStoreDB by the server): order, buyer and policy events are passed over unread.
      eventTypes: CASE_EVENT_TYPES,
      // Each batch is a write transaction on the event store's file: taken as fast as it comes, a burst of due
      // deadlines went through it an event or two at a time, contending with the appends for the write lock.
      gatherMs: GATHER_MS,
      checkpoint: async () => this.work.checkpoint(CASE_WORK_CHECKPOINT),
      handle: (events, position) => this.handle(events, position),
      onError: (error, after) =>
        // Another worker process applying the same batch first is the expected race of several workers, not a fault.
        error instanceof PlannerOvertakenError
          ? this.logger.log(`case work reactor overtaken by another process; resuming from the stored checkpoint: ${error.message}`)
          : this.logger.error(`case work reactor failed; resuming after position ${after}: ${error.message}`),
    });
  }

  onApplicationBootstrap(): void {
    this.follower.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.follower.stop();
  }

  private async handle(events: Parameters<CaseWorkPlanner['apply']>[0], position: number): Promise<void> {
    // Held from the commit until the add is done, so this process's reconciler does not take them for jobs Redis lost.
    let release = (): void => undefined;
    let soon: WorkChanges['added'] = [];
    const changes = await this.planner.apply(events, position, (committed) => {
      soon = this.queues.dueSoon(committed.added);
      release = this.queues.hold(soon.map((work) => work.key));
    });
    if (!changes) return;
    try {
      if (changes.removed.length > 0) await this.queues.remove(changes.removed);
      if (soon.length > 0) await this.queues.add(soon);
    } finally {
      release();
    }
  }
}
