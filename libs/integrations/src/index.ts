// @aftersales/integrations: the outbound ports and their HTTP and sandbox adapters (API.md, "Outbound").

export * from './signature';
export * from './provider-errors';
export { DEFAULT_PROVIDER_TIMEOUT_MS } from './http/signed-request';

export * from './payments/payment-centre';
export * from './payments/http-payment-centre';
export * from './payments/sandbox-payment-centre';

export * from './logistics/carrier';
export * from './logistics/http-carrier';
export * from './logistics/sandbox-carrier';

export * from './insurance/shipping-insurer';
export * from './insurance/http-shipping-insurer';
export * from './insurance/sandbox-shipping-insurer';

export { SandboxCallbacks, type SandboxCallbacksOptions, type DeliveryOutcome } from './sandbox/sandbox-callbacks';
export * from './integrations.module';
