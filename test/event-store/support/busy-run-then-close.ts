// Child process of sqlite-event-store-close.int-spec.ts: a busy run of
// appends, then close(). Prints "closed" only if close() settled.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { NewEvent } from '../../../libs/event-store/src/event-store';
import { SqliteEventStore } from '../../../libs/event-store/src/sqlite-event-store';

const [dir, appendsArg, callersArg] = process.argv.slice(2);
const appends = Number(appendsArg);
const callers = Number(callersArg);

/** A case event of the usual size: about 200 bytes of data, 230 of metadata. */
function caseEvent(n: number): NewEvent {
  return {
    id: randomUUID(),
    type: 'ReturnRequested',
    data: {
      caseId: `case-${n}`,
      orderId: `order-${n}`,
      kind: 'refund_only',
      reason: 'damaged',
      requestedAmount: 1999 + n,
      currency: 'CNY',
      lines: [{ lineId: `line-${n}`, quantity: 1, productId: `product-${n % 97}` }],
    },
    metadata: {
      actor: { role: 'buyer', id: `buyer-${n % 1013}` },
      channel: 'app',
      correlationId: randomUUID(),
      causationId: randomUUID(),
      schemaVersion: 1,
      occurredAt: new Date(1_700_000_000_000 + n).toISOString(),
    },
  };
}

async function main(): Promise<void> {
  const store = new SqliteEventStore({ path: join(dir, 'events.db') });
  let next = 0;
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (next < appends) {
        const i = next++;
        await store.append(`case-${i}`, [caseEvent(i)], { expectedRevision: 'no_stream' });
      }
    }),
  );
  process.stdout.write('appended\n');
  await store.close();
  process.stdout.write('closed\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exitCode = 1;
});
