/**
 * How soon a job left active by a worker that died inside it (killed -9,
 * out of memory, its machine lost) is taken up again. Its lock, renewed
 * every half `lockDuration` while the job runs, lapses `lockDuration` after
 * the last renewal; BullMQ's stalled-job check, every `stalledInterval`
 * (once per interval across all workers of a queue), then moves it back to
 * wait. With BullMQ's defaults (30 s each) a refund or a deadline caught by
 * a crash waited up to a minute and more after the restart; with these, some
 * fifteen seconds. The lock still outlives the longest event-loop pause the
 * service has shown (under a second) many times over, so a job that is
 * running is not taken from its worker.
 */
export const STALLED_JOBS = { lockDuration: 10_000, stalledInterval: 5_000 } as const;
