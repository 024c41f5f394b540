import type { Refusal } from '@aftersales/domain';

/** The domain refused the command; nothing was appended. The HTTP edge maps `refusal` to API.md's status codes. */
export class CommandRefusedError extends Error {
  constructor(readonly refusal: Refusal) {
    super(`${refusal.type}${'detail' in refusal && refusal.detail ? `: ${refusal.detail}` : ''}`);
    this.name = 'CommandRefusedError';
  }
}

/** If-Match named a revision the stream has moved past (412). */
export class PreconditionFailedError extends Error {
  constructor(
    readonly expectedRevision: number,
    readonly actualRevision: number,
  ) {
    super(`If-Match expected revision ${expectedRevision}, the case is at ${actualRevision}`);
    this.name = 'PreconditionFailedError';
  }
}

/** Concurrent writers kept winning after every retry (409). */
export class ConcurrentWriteError extends Error {
  constructor(readonly streamName: string, readonly attempts: number) {
    super(`${streamName} kept changing under ${attempts} attempts; try again`);
    this.name = 'ConcurrentWriteError';
  }
}
