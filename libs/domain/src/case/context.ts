import type { OrderState } from '../order/state';
import type { Policy } from '../policy';

/** What a case decision reads besides the case: the clock, the policy in force and its order. */
export interface CaseContext {
  now: Date;
  policy: Policy;
  order: OrderState;
  /** A known abuse flag on the buyer (fraud screening); absent means not flagged. */
  buyerFlagged?: boolean;
}
