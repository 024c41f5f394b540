export * from './idempotency-store';
export * from './sqlite-idempotency-store';
export * from './postgres-idempotency-store';
export * from './idempotency.module';
