// Helpers for domain specs (and for other libraries' tests); not part of the runtime API.
export * from './fixtures';
export * from './commands';
export * from './world';
export * from './given';
export * from './histories';
export * from './guided';
export * from './table-check';
