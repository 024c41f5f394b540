import type { Actor } from '../kinds';
import { assertNever } from '../refusal';
import type { AfterSalesCase } from './state';

/**
 * Who may see a case (API.md, "Identity"); anyone else is told it does not
 * exist, never that it is someone else's.
 */
export function canSeeCase(c: AfterSalesCase, actor: Actor): boolean {
  switch (actor.role) {
    case 'buyer':
      return c.buyerId === actor.id;
    case 'merchant':
      return actor.merchantId !== undefined && c.merchantId === actor.merchantId;
    case 'agent':
      return actor.businessLine !== undefined && c.businessLine === actor.businessLine;
    case 'arbitrator':
    case 'admin':
    case 'integration':
    case 'system':
      return true;
    default:
      return assertNever(actor.role);
  }
}

/** Agents act on unheld cases and on cases they hold (DOMAIN.md, *Agent work*). */
export const heldByAnotherAgent = (c: AfterSalesCase, actor: Actor): boolean =>
  actor.role === 'agent' && c.assignee !== undefined && c.assignee !== actor.id;
