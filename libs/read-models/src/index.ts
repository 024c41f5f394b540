// @aftersales/read-models: projections into Kysely tables (SQLite | PostgreSQL) and the queries over them.

export * from './store/tables';
export * from './store/read-store';
export * from './store/migrations';
export * from './store/write-transaction';
export * from './projections/projection';
export * from './projections/index';
export { caseListProjection, CASE_LIST } from './projections/case-list.projection';
export { caseTimelineProjection, CASE_TIMELINE } from './projections/case-timeline.projection';
export { CASE_EVENT_TYPES } from './projections/case-events';
export { agentQueueProjection, AGENT_QUEUE } from './projections/agent-queue.projection';
export { caseAnalyticsProjection, CASE_ANALYTICS } from './projections/case-analytics.projection';
export * from './runner/checkpoints';
export * from './runner/projection-lock';
export * from './runner/projection-runner';
export * from './queries/reader-scope';
export * from './queries/list-cursor';
export * from './queries/case-list.query';
export * from './queries/case-timeline.query';
export * from './queries/agent-queue.query';
export * from './queries/analytics.query';
export * from './queries/abuse.query';
export * from './queries/projection-progress';
export * from './read-models.module';
export * from './runner/rebuild';
