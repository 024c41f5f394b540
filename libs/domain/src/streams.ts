// Stream names are part of the stored contract (DOMAIN.md, "The three objects").

export const orderStream = (orderId: string): string => `order-${orderId}`;
export const caseStream = (caseId: string): string => `aftersales-${caseId}`;
export const policyStream = (scope: string): string => `policy-${scope}`;
