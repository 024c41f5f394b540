import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as domain from '@aftersales/domain';
import type { BusinessRule, CaseEventType, ConflictReason, ForbiddenReason, OrderEvent } from '@aftersales/domain';

// Plain JavaScript shared with `node scripts/write-reference.js`.
const { referenceDocuments, eventDeclarations, unionMembers } = require('../../scripts/reference.js');

const root = join(__dirname, '..', '..');
const read = (file: string): string => readFileSync(join(root, file), 'utf8');

describe('docs/reference', () => {
  const documents: Record<string, string> = referenceDocuments(domain, read);

  it.each(Object.keys(documents))('%s is what the code says today (node scripts/write-reference.js)', (file) => {
    expect(read(file)).toBe(documents[file]);
  });

  it('lists every transition and every policy default', () => {
    const rules = documents['docs/reference/case-rules.md'];
    for (const row of domain.TRANSITIONS) expect(rules).toContain(`\`${row.action}\``);
    for (const name of domain.POLICY_NAMES) expect(rules).toContain(`| \`${name}\` | \`${domain.policyEnvVariable(name)}\` | \`${domain.DEFAULT_POLICY_WIRE[name]}\` |`);
  });

  it('reads event names and payloads from the declarations', () => {
    const caseEvents: string[] = eventDeclarations('events.ts', read('libs/domain/src/case/events.ts')).map((e: { name: string }) => e.name);
    // Checked by the compiler: every name found is a case event type.
    const known: CaseEventType[] = caseEvents as CaseEventType[];
    expect(known).toEqual(expect.arrayContaining(['ReturnRequested', 'RefundSettled', 'CaseCompleted']));
    const orderEvents = eventDeclarations('events.ts', read('libs/domain/src/order/events.ts'));
    const registered = orderEvents.find((e: { name: OrderEvent['type'] }) => e.name === 'OrderRegistered');
    expect(registered.payload).toBe('OrderSnapshot');
    expect(documents['docs/reference/events.md']).toContain('| `OrderSnapshot` |');
  });

  it('names every 422 rule, 403 reason and 409 conflict', () => {
    const errors = documents['docs/reference/errors.md'];
    const sample: [BusinessRule, ForbiddenReason, ConflictReason] = ['kind_not_allowed_now', 'above_authority_limit', 'order_snapshot_differs'];
    for (const name of sample) expect(errors).toContain(`\`${name}\``);
    expect(unionMembers('refusal.ts', read('libs/domain/src/refusal.ts'), 'BusinessRule').length).toBeGreaterThan(20);
  });
});
