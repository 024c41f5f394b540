export * from './webhook-events';
export * from './webhook-retry';
export * from './webhook-store';
export * from './webhook-planner';
export * from './webhook-queue';
