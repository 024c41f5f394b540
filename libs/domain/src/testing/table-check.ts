import type { CaseCommand } from '../case/commands';
import type { CaseEvent, CaseEventType } from '../case/events';
import type { CaseState } from '../case/state';
import { TRANSITIONS, rowStartsFrom, type TransitionRow } from '../case/transitions';

/** Events any row may add in its append (DOMAIN.md, *Transitions*): entering an end or a timed status, and the refund sequence. */
export const AUTOMATIC_EVENTS: readonly CaseEventType[] = ['CaseCompleted', 'CaseClosed', 'DeadlineSet', 'RefundIssued'];

/** The rows a command could be taken under: its action, the caller's role, the status it starts from, the timer's name. */
export function candidateRows(before: CaseState, command: CaseCommand): TransitionRow[] {
  return TRANSITIONS.filter(
    (r) =>
      r.action === command.type &&
      r.actors.includes(command.actor.role) &&
      rowStartsFrom(r, before.status) &&
      (command.type !== 'deadline-passed' || r.deadline === command.data.name),
  );
}

export const rowKey = (r: TransitionRow): string => [r.action, r.deadline ?? r.variant].filter(Boolean).join(':');

function agrees(row: TransitionRow, before: CaseState, events: readonly CaseEvent[], after: CaseState): boolean {
  const statusOk = row.next.some((n) => (n === 'unchanged' ? after.status === before.status : n === after.status));
  return statusOk && events.every((e) => row.events.includes(e.type) || AUTOMATIC_EVENTS.includes(e.type));
}

/**
 * Checks an accepted decision against the table as data: some row for the
 * command must list the status it led to in `next` and every event it
 * appended in `events` (or among the automatic ones). Returns the row it
 * agrees with, or why none does. A decision that records nothing (a repeat,
 * a stale timer) changes nothing and needs no row.
 */
export function checkAgainstTable(
  before: CaseState,
  command: CaseCommand,
  events: readonly CaseEvent[],
  after: CaseState,
): { ok: true; row?: TransitionRow } | { ok: false; why: string } {
  if (events.length === 0) return { ok: true };
  const rows = candidateRows(before, command);
  const row = rows.find((r) => agrees(r, before, events, after));
  if (row) return { ok: true, row };
  const types = events.map((e) => e.type).join(', ');
  return {
    ok: false,
    why:
      rows.length === 0
        ? `${command.actor.role} ${command.type} from ${before.status} has no row, yet appended ${types}`
        : `${command.actor.role} ${command.type} from ${before.status} led to ${after.status} with ${types}, which no row (${rows.map(rowKey).join(', ')}) allows`,
  };
}
