import { caseListProjection } from './case-list.projection';
import { caseTimelineProjection } from './case-timeline.projection';
import { agentQueueProjection } from './agent-queue.projection';
import { caseAnalyticsProjection } from './case-analytics.projection';
import type { AnyProjection } from './projection';

/** Every projection the projector runs, by name. */
export const PROJECTIONS: readonly AnyProjection[] = [caseListProjection, caseTimelineProjection, agentQueueProjection, caseAnalyticsProjection];

export const projectionNamed = (name: string): AnyProjection | undefined => PROJECTIONS.find((p) => p.name === name);
