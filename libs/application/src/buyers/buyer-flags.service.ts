import { Inject, Injectable } from '@nestjs/common';
import { decideBuyerFlag, type Actor, type BuyerCommand, type BuyerFlagState } from '@aftersales/domain';
import type { EventStore } from '@aftersales/event-store';
import { CommandRefusedError } from '../commands/errors';
import { toNewEvents, type CommandOrigin } from '../events/metadata';
import { appendToBuyer, loadBuyer, type Loaded } from '../events/streams';
import { EVENT_STORE } from '../infrastructure/tokens';

export interface BuyerFlagView {
  buyerId: string;
  flagged: boolean;
  reason?: string;
  since?: string;
}

export interface BuyerFlagChange {
  view: BuyerFlagView;
  /** Global position of the event appended; absent when the buyer already was in that state. */
  position?: number;
}

const toView = (buyerId: string, loaded: Loaded<BuyerFlagState>): BuyerFlagView => {
  const { flagged, reason, since } = loaded.state;
  return { buyerId, flagged, ...(reason !== undefined ? { reason } : {}), ...(since !== undefined ? { since } : {}) };
};

/**
 * The buyer flag (admins, and the abuse rule as the system): read from and appended to `buyer-<buyerId>`. A
 * buyer the platform never flagged simply has no stream: not flagged.
 */
@Injectable()
export class BuyerFlagsService {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async view(buyerId: string): Promise<BuyerFlagView> {
    return toView(buyerId, await loadBuyer(this.store, buyerId));
  }

  flag(buyerId: string, reason: string, actor: Actor, origin: CommandOrigin, now: Date): Promise<BuyerFlagChange> {
    return this.change({ type: 'flag-buyer', actor, data: { buyerId, reason } }, origin, now);
  }

  unflag(buyerId: string, reason: string | undefined, actor: Actor, origin: CommandOrigin, now: Date): Promise<BuyerFlagChange> {
    return this.change({ type: 'unflag-buyer', actor, data: { buyerId, ...(reason !== undefined ? { reason } : {}) } }, origin, now);
  }

  /**
   * The abuse rule's flag: `reasonFor` sees the flag as loaded and gives the
   * reason to flag, or none to leave it (undefined returned). The append
   * expects the revision `reasonFor` saw, so an admin's clear written in
   * between wins: a conflict, nothing recorded.
   */
  async flagWhenDue(
    buyerId: string,
    reasonFor: (state: BuyerFlagState) => Promise<string | undefined>,
    actor: Actor,
    origin: CommandOrigin,
    now: Date,
  ): Promise<BuyerFlagChange | undefined> {
    const loaded = await loadBuyer(this.store, buyerId);
    const reason = await reasonFor(loaded.state);
    if (reason === undefined) return undefined;
    return this.change({ type: 'flag-buyer', actor, data: { buyerId, reason } }, origin, now, loaded);
  }

  // Expected revision on the append: of two admins racing, the loser gets a conflict (409), never a second event.
  private async change(command: BuyerCommand, origin: CommandOrigin, now: Date, read?: Loaded<BuyerFlagState>): Promise<BuyerFlagChange> {
    const { buyerId } = command.data;
    const loaded = read ?? (await loadBuyer(this.store, buyerId));
    const decision = decideBuyerFlag(loaded.state, command);
    if (!decision.ok) throw new CommandRefusedError(decision.refusal);
    if (decision.events.length === 0) return { view: toView(buyerId, loaded) };
    const appended = await appendToBuyer(this.store, buyerId, loaded, toNewEvents(decision.events, origin, now));
    return { view: toView(buyerId, appended), position: appended.lastPosition };
  }
}
