import { parseArgs } from 'node:util';
import { UsageError } from '../token-command';
import type { SeedOptions } from './seed';

export const SEED_USAGE = `Usage: npm run cli -- seed [--cases N] [--days D] [--seed S] [--append]

  Writes a realistic after-sales history into the configured event store
  (SQLITE_PATH, or EVENT_STORE=eventstoredb), through the same command
  handlers as the API: orders placed, shipped and delivered; every kind and
  reason of case; merchants, agents, arbitrators and admins deciding; courier
  and payment callbacks (some refunds fail first); deadlines firing at their
  due times; ratings; a few abusive buyers sharing payment accounts. Time is
  simulated: the history spreads over the last D days.

  --cases N   requests to make (default 1000)
  --days D    how far back the history starts (default 90)
  --seed S    the same seed makes the same history (default 1)
  --append    add to a store that already holds cases (refused otherwise)

  Meant for an empty or a test data folder: run it with the service stopped,
  or its worker would also act on what the seed writes (open refunds sent to
  the sandbox payment centre, deadlines left running). The read models catch
  up when the service starts, or with \`npm run cli -- projections rebuild\`.`;

/** `argv`: what follows `seed`. */
export function parseSeedArguments(argv: readonly string[]): SeedOptions | 'help' {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        cases: { type: 'string' },
        days: { type: 'string' },
        seed: { type: 'string' },
        append: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return 'help';
  return {
    cases: integer(values.cases, '--cases', 1000, 1, 10_000_000),
    days: integer(values.days, '--days', 90, 1, 3650),
    seed: integer(values.seed, '--seed', 1, 0, 2 ** 32 - 1),
    append: values.append === true,
  };
}

function integer(value: string | boolean | undefined, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const text = String(value);
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`${name} must be a whole number from ${min} to ${max} (got "${text}")`);
  }
  return n;
}
