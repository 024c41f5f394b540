export * from './infrastructure/tokens';
export * from './infrastructure/infrastructure.module';
