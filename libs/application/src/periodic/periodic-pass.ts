/**
 * A pass that runs at start and then on a timer in this process (never as a
 * job in Redis: the passes that use it repair what Redis or a crash lost).
 * Calls that overlap share one run; totals say how many ran and failed.
 */
export class PeriodicPass<R> {
  private timer?: NodeJS.Timeout;
  private first?: NodeJS.Immediate;
  private running?: Promise<R>;
  readonly counts = { passes: 0, failedPasses: 0 };

  constructor(
    private readonly run: () => Promise<R>,
    /** Told of each pass's outcome, for totals and log lines. */
    private readonly hooks: { done?: (report: R) => void; failed?: (error: Error) => void } = {},
  ) {}

  /**
   * Runs once on the event loop's next turn and then every `intervalMs`; a
   * failed pass is reported and the next one tries again. The first pass
   * waits for that turn because `start` is called while a role starts
   * (onApplicationBootstrap): a pass begun there runs its synchronous reads
   * (SQLite) before the role has finished starting, and a pass over a big
   * store (the abuse watch's report aggregates every case) then held the
   * worker thread's start, and with it the API's, for seconds.
   */
  start(intervalMs: number): void {
    const pass = () => void this.runOnce().catch(() => undefined);
    this.timer = setInterval(pass, intervalMs);
    this.timer.unref();
    this.first = setImmediate(pass);
  }

  /** Stops the timer and waits for a pass under way. */
  async stop(): Promise<void> {
    clearImmediate(this.first);
    clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** One pass; concurrent calls share it. */
  runOnce(): Promise<R> {
    this.running ??= this.run()
      .then(
        (report) => {
          this.counts.passes += 1;
          this.hooks.done?.(report);
          return report;
        },
        (error: unknown) => {
          this.counts.failedPasses += 1;
          this.hooks.failed?.(error as Error);
          throw error;
        },
      )
      .finally(() => (this.running = undefined));
    return this.running;
  }
}
