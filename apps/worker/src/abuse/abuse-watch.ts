import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { BuyerFlagsService, Clock, PeriodicPass, timeOrderedUuid, type CommandOrigin } from '@aftersales/application';
import { abuseFlagReason, type Actor, type BuyerFlagState } from '@aftersales/domain';
import { ConcurrencyError } from '@aftersales/event-store';
import { AbuseQuery, type AbuseItem } from '@aftersales/read-models';

/** The abuse rule flags as the system; events name it so an admin sees a flag no person set. */
export const ABUSE_WATCH_ACTOR: Actor = { role: 'system', id: 'abuse-watch' };

/**
 * How often the watch reads the report. A minute: the report itself follows
 * the projection, and a flag matters from the buyer's next request on.
 */
export const ABUSE_WATCH_INTERVAL_MS = 60_000;

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
  readonly totals = { flagged: 0 };
  private readonly pass = new PeriodicPass(() => this.watch(), {
    done: (report) => {
      this.totals.flagged += report.flagged.length;
      if (report.flagged.length > 0) this.logger.log(`abuse rule flagged ${report.flagged.length} buyers: ${report.flagged.join(', ')}`);
    },
    failed: (error) => this.logger.warn(`abuse watch failed: ${error.message}`),
  });

  constructor(
    private readonly abuse: AbuseQuery,
    private readonly flags: BuyerFlagsService,
    private readonly clock: Clock,
  ) {}

  onApplicationBootstrap(): void {
    this.pass.start(ABUSE_WATCH_INTERVAL_MS);
  }

  onModuleDestroy(): Promise<void> {
    return this.pass.stop();
  }

  /** One pass over the report; concurrent calls share it. */
  runOnce(): Promise<AbuseWatchReport> {
    return this.pass.runOnce();
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
