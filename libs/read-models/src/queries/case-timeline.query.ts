import { canSeeCase, evolveCase, initialCaseState, statusLabel, waitingFor, type Actor, type CaseState, type RecordedCaseEvent } from '@aftersales/domain';
import { nextDeadline } from '../projections/case-events';
import type { ReadStore } from '../store/read-store';
import { showsStep, stepLabel, timelineAudience } from './timeline-steps';

export interface TimelineNode {
  at: string;
  label: string;
  type?: string;
  actor?: { role: string; id: string };
  channel?: string;
  note?: string;
  data?: Record<string, unknown>;
}

export interface CaseTimeline {
  caseId: string;
  status: string;
  statusLabel: string;
  next?: { waitingFor: string; deadline?: { name: string; at: string } };
  items: TimelineNode[];
}

/**
 * `GET /v1/cases/:caseId/timeline` from the `case_timeline` read model. The
 * case's status, scope and running deadlines are folded from the same rows
 * by the domain's `evolveCase`, so the header and the steps always agree.
 */
export class CaseTimelineQuery {
  constructor(private readonly store: ReadStore) {}

  /** Undefined when the case is unknown (to the read model) or not the caller's to see. */
  async timeline(reader: Actor, caseId: string): Promise<CaseTimeline | undefined> {
    const rows = await this.store.db.selectFrom('rm_case_timeline').selectAll().where('case_id', '=', caseId).orderBy('revision').execute();
    const steps = rows.map((row) => ({ ...row, data: JSON.parse(row.data) as Record<string, unknown> }));
    let state: CaseState = initialCaseState;
    for (const step of steps) state = evolveCase(state, { type: step.type, data: step.data, metadata: { occurredAt: step.at } } as RecordedCaseEvent);
    if (state.status === 'none' || !canSeeCase(state, reader)) return undefined;

    const audience = timelineAudience(reader.role);
    const items: TimelineNode[] = [];
    for (const step of steps) {
      if (!showsStep(audience, step.type)) continue;
      const label = stepLabel(step.type, step.data);
      if (audience === 'buyer') {
        items.push({ at: step.at, label });
        continue;
      }
      const note = noteOf(step.type, step.data);
      items.push({
        at: step.at,
        label,
        type: step.type,
        actor: { role: step.actor_role, id: step.actor_id },
        channel: step.channel,
        ...(note !== undefined ? { note } : {}),
        data: step.data,
      });
    }
    const waiting = waitingFor(state.status);
    const deadline = nextDeadline(state);
    return {
      caseId: state.caseId,
      status: state.status,
      statusLabel: statusLabel(state.status, reader.role),
      ...(waiting !== undefined ? { next: { waitingFor: waiting, ...(deadline ? { deadline } : {}) } } : {}),
      items,
    };
  }
}

function noteOf(type: string, data: Record<string, unknown>): string | undefined {
  const note = type === 'CaseNoteAdded' ? data.text : data.note;
  return typeof note === 'string' ? note : undefined;
}
