import { BUYER_STATUS_LABELS, type ActorRole, type CaseStatus } from '../kinds';

/** Buyers see DOMAIN.md's label; everyone else the status name. */
export function statusLabel(status: CaseStatus, role: ActorRole): string {
  return role === 'buyer' ? BUYER_STATUS_LABELS[status] : status;
}

/** DOMAIN.md's "waiting for" column, for timelines and queues; ended cases wait for no one. */
export const WAITING_FOR: Readonly<Record<ActiveStatus, string>> = {
  pending_merchant: 'merchant decision',
  negotiating: 'buyer answer to a counter-offer',
  rejected: 'buyer: amend, escalate or withdraw',
  awaiting_return: 'the parcel to leave the buyer',
  return_in_transit: 'merchant to confirm receipt',
  refunding: 'payment centre',
  awaiting_replacement: 'merchant to ship',
  in_repair: 'merchant to repair and ship',
  replacement_in_transit: 'buyer to confirm delivery',
  escalated: 'arbitrator ruling',
};

type ActiveStatus = Exclude<CaseStatus, 'completed' | 'closed'>;

export function waitingFor(status: CaseStatus): string | undefined {
  return status === 'completed' || status === 'closed' ? undefined : WAITING_FOR[status];
}
