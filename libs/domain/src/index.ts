// @aftersales/domain: pure after-sales rules (ARCHITECTURE.md, rule 1).

export * from './kinds';
export * from './policy';
export * from './policy-events';
export * from './money';
export * from './refusal';
export * from './streams';
export * from './time';

export * from './order/events';
export * from './order/commands';
export * from './order/state';
export { decideOrder, type OrderContext } from './order/decide';

export * from './case/events';
export * from './case/commands';
export * from './case/state';
export type { CaseContext } from './case/context';
export { evolveCase, foldCase, approvedStatus, afterReceiptStatus, issuedRefunds } from './case/evolve';
export { decideCase } from './case/decide';
export { allowedActions, inAgentPool, inHolderQueue } from './case/allowed-actions';
export { statusLabel, waitingFor, WAITING_FOR } from './case/labels';
export { canSeeCase, heldByAnotherAgent } from './case/visibility';
export { TRANSITIONS, fromStatuses, rolesFor, rowsFor, rowStartsFrom } from './case/transitions';
export type { TransitionRow, FromStatuses, GuardName, Next } from './case/transitions';
export { transitionDiagram } from './case/diagram';
export { STATUS_DEADLINE, refundIdAt, insuranceClaimId } from './case/outcome';
export { checkRequest, kindAllowedWhen, requestWindow, autoReviewRule } from './case/request-rules';
export type { RequestDraft, RequestCheck } from './case/request-rules';

export { orderCommandsFor, releaseLinesOfEnded, type OrderFollowUps } from './effects';
export { orderForRetriedDecision, repairOrderForCase, type CaseOnRecord, type OrderRepair } from './repair';
export { eligibility, type Eligibility, type LineEligibility } from './eligibility';
export * from './buyer/buyer-flag';
