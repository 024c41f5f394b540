import { upsertRows, type UpsertSpec } from '../store/row-statements';
import type { CaseTimelineRow } from '../store/tables';
import { caseIdOf, CASE_EVENT_TYPES, occurredAt } from './case-events';
import { defineProjection } from './projection';

/** A row already there is the same event (the primary key is its place in the stream). */
const INSERT: UpsertSpec<'rm_case_timeline'> = {
  table: 'rm_case_timeline',
  columns: ['case_id', 'revision', 'position', 'at', 'type', 'actor_role', 'actor_id', 'channel', 'data'],
  conflict: ['case_id', 'revision'],
  update: 'nothing',
};

export const CASE_TIMELINE = 'case_timeline';

interface RecordedActor {
  role?: string;
  id?: string;
}

/**
 * `GET /v1/cases/:caseId/timeline`: every event of every case, with who
 * did it, through which channel and when. Which of them a caller sees, and
 * how they are worded, is decided when the timeline is read.
 */
export const caseTimelineProjection = defineProjection<void>({
  name: CASE_TIMELINE,
  version: 1,
  eventTypes: CASE_EVENT_TYPES,
  tables: ['rm_case_timeline'],

  createTables: (db) => [
    db.schema
      .createTable('rm_case_timeline')
      .addColumn('case_id', 'text', (c) => c.notNull())
      .addColumn('revision', 'integer', (c) => c.notNull())
      .addColumn('position', 'bigint', (c) => c.notNull())
      .addColumn('at', 'text', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('actor_role', 'text', (c) => c.notNull())
      .addColumn('actor_id', 'text', (c) => c.notNull())
      .addColumn('channel', 'text', (c) => c.notNull())
      .addColumn('data', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('rm_case_timeline_pk', ['case_id', 'revision']),
  ],

  // The primary key (case, revision) is the only lookup: one case's steps in order.
  indexes: () => [],

  load: async () => undefined,

  write(db, events) {
    const rows: CaseTimelineRow[] = [];
    for (const event of events) {
      const caseId = caseIdOf(event);
      if (caseId === undefined) continue;
      const actor = (event.metadata.actor ?? {}) as RecordedActor;
      rows.push({
        case_id: caseId,
        revision: event.revision,
        position: event.position,
        at: occurredAt(event),
        type: event.type,
        actor_role: actor.role ?? 'system',
        actor_id: actor.id ?? 'system',
        channel: typeof event.metadata.channel === 'string' ? event.metadata.channel : 'api',
        data: JSON.stringify(event.data ?? {}),
      });
    }
    return upsertRows(db, INSERT, rows);
  },
});
