import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG, BuyerFlagsService, Clock, PeriodicPass, timeOrderedUuid, type CommandOrigin } from '@aftersales/application';
import type { AppConfig } from '@aftersales/config';
import { abuseFlagReason, type Actor, type BuyerFlagState } from '@aftersales/domain';
import { ConcurrencyError } from '@aftersales/event-store';
import { AbuseQuery, type AbuseItem } from '@aftersales/read-models';

/** The abuse rule flags as the system; events name it so an admin sees a flag no person set. */
export const ABUSE_WATCH_ACTOR: Actor = { role: 'system', id: 'abuse-watch' };

export interface AbuseWatchReport {
  /** Buyers the abuse report names. */
  reported: number;
  /** Buyers this pass flagged. */
  flagged: string[];
  /** Flags another process or an admin changed while this pass decided; the next pass reads what they wrote. */
  conflicts: number;
}

/**
 * Flags the buyers the abuse report names (DOMAIN.md: the flag is set "by
 * the abuse rule from the analytics"), through the buyer-flag command path
 * an admin's PUT /v1/buyers/:buyerId/flag takes, as the system. A flag an
 * admin cleared stays cleared until the buyer requests another case after
 * the clear (abuseFlagReason). Several worker processes may run it at once:
 * flagging a flagged buyer records nothing, and racing appends conflict.
 */
@Injectable()
export class AbuseWatch implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(AbuseWatch.name);
  /** Since the process started, for /metrics: buyers flagged, passes done and failed, how long the last pass took (done or failed). */
  readonly totals = { flagged: 0, passes: 0, failedPasses: 0, lastPassSeconds: 0 };
  private readonly pass = new PeriodicPass(() => this.timedWatch(), {
    done: (report) => {
      this.totals.passes += 1;
      this.totals.flagged += report.flagged.length;
      if (report.flagged.length > 0) this.logger.log(`abuse rule flagged ${report.flagged.length} buyers: ${report.flagged.join(', ')}`);
    },
    failed: (error) => {
      this.totals.failedPasses += 1;
      this.logger.warn(`abuse watch failed: ${error.message}`);
    },
  });

  constructor(
    private readonly abuse: AbuseQuery,
    private readonly flags: BuyerFlagsService,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Every WORKER_ABUSE_WATCH_INTERVAL_MS (a minute unless told): the report follows the projection, and a flag matters from the buyer's next request on. */
  onApplicationBootstrap(): void {
    this.pass.start(this.config.worker.abuseWatchIntervalMs);
  }

  onModuleDestroy(): Promise<void> {
    return this.pass.stop();
  }

  /** One pass over the report; concurrent calls share it. */
  runOnce(): Promise<AbuseWatchReport> {
    return this.pass.runOnce();
  }

  /** A pass, its duration kept whether it succeeds or fails (a slow failing pass is worth seeing too). */
  private async timedWatch(): Promise<AbuseWatchReport> {
    const startedAt = performance.now();
    try {
      return await this.watch();
    } finally {
      this.totals.lastPassSeconds = (performance.now() - startedAt) / 1000;
    }
  }

  private async watch(): Promise<AbuseWatchReport> {
    const reported = await this.abuse.reportedBuyers();
    const report: AbuseWatchReport = { reported: reported.length, flagged: [], conflicts: 0 };
    // One correlation id per pass: the flags one reading of the report caused.
    const origin: CommandOrigin = { actor: ABUSE_WATCH_ACTOR, channel: 'api', correlationId: timeOrderedUuid() };
    for (const item of reported) {
      try {
        const change = await this.flags.flagWhenDue(item.id, (state) => this.reasonFor(item, state), ABUSE_WATCH_ACTOR, origin, this.clock.now());
        if (change?.position !== undefined) report.flagged.push(item.id);
      } catch (error) {
        if (!(error instanceof ConcurrencyError)) throw error;
        report.conflicts += 1;
      }
    }
    return report;
  }

  private async reasonFor(item: AbuseItem, state: BuyerFlagState): Promise<string | undefined> {
    // Only a cleared flag needs the cases since; `since` of an unflagged buyer is when the flag was cleared.
    const clearedAt = state.flagged ? undefined : state.since;
    const casesSinceCleared = clearedAt !== undefined ? await this.abuse.casesRequestedAfter(item.id, clearedAt) : 0;
    return abuseFlagReason(state, item, casesSinceCleared);
  }
}
