import { caseListProjection } from './case-list.projection';
import { caseTimelineProjection } from './case-timeline.projection';
import type { Projection } from './projection';

/** Every projection the projector runs, by name. */
export const PROJECTIONS: readonly Projection[] = [caseListProjection, caseTimelineProjection];

export const projectionNamed = (name: string): Projection | undefined => PROJECTIONS.find((p) => p.name === name);
