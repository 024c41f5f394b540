import { caseListProjection } from './case-list.projection';
import { caseTimelineProjection } from './case-timeline.projection';
import type { AnyProjection } from './projection';

/** Every projection the projector runs, by name. */
export const PROJECTIONS: readonly AnyProjection[] = [caseListProjection, caseTimelineProjection];

export const projectionNamed = (name: string): AnyProjection | undefined => PROJECTIONS.find((p) => p.name === name);
