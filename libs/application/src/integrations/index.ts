export * from './accepted-signatures';
export * from './parcel-index';
export * from './postgres-accepted-signatures';
export * from './postgres-parcel-index';
export * from './parcel-index.projector';
export * from './callback-targets';
export * from './integrations.module';
export * from './tracking-numbers';
