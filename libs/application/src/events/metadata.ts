import type { ActorRole, Channel } from '@aftersales/domain';
import type { NewEvent, StoredEvent } from '@aftersales/event-store';
import { timeOrderedUuid } from '../ids/time-ordered-uuid';

/** API.md, "Events": what every stored event carries besides its data. */
export interface EventMetadata {
  actor: { role: ActorRole; id: string };
  channel: Channel;
  correlationId: string;
  causationId: string;
  idempotencyKey?: string;
  schemaVersion: number;
  occurredAt: string;
}

/** Who caused a write and through which request; the same for every event of one decision. */
export interface CommandOrigin {
  actor: { role: ActorRole; id: string };
  channel: Channel;
  correlationId: string;
  /** The request or event that caused this command; defaults to the correlation id. */
  causationId?: string;
  idempotencyKey?: string;
}

export const SCHEMA_VERSION = 1;

export function toNewEvents(events: ReadonlyArray<{ type: string; data: unknown }>, origin: CommandOrigin, now: Date): NewEvent[] {
  const metadata: EventMetadata = {
    actor: origin.actor,
    channel: origin.channel,
    correlationId: origin.correlationId,
    causationId: origin.causationId ?? origin.correlationId,
    ...(origin.idempotencyKey ? { idempotencyKey: origin.idempotencyKey } : {}),
    schemaVersion: SCHEMA_VERSION,
    occurredAt: now.toISOString(),
  };
  return events.map((event) => ({ id: timeOrderedUuid(), type: event.type, data: event.data, metadata: { ...metadata } }));
}

/**
 * A stored event as the domain folds it. Upcasting of older schema versions
 * happens here, on read, so stored events are never rewritten; version 1 is
 * the only one so far.
 */
export function toDomainEvent<E extends { type: string; data: unknown }>(stored: StoredEvent): E & { metadata: { occurredAt?: string } } {
  return {
    type: stored.type,
    data: stored.data,
    metadata: { occurredAt: (stored.metadata.occurredAt as string | undefined) ?? stored.recordedAt.toISOString() },
  } as E & { metadata: { occurredAt?: string } };
}

/**
 * An event just appended, as a load would later fold it. Its data is the
 * decision's own object rather than a JSON copy, which folds the same: events
 * carry plain JSON values (the store refuses anything else) and folds do not
 * change them.
 */
export function newDomainEvent(event: NewEvent): ReturnType<typeof toDomainEvent> {
  return { type: event.type, data: event.data, metadata: { occurredAt: event.metadata?.occurredAt as string } };
}
