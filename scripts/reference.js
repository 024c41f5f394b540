// The user reference in docs/reference/, rendered from the domain itself: the
// transition table and policy defaults (runtime data) and the event and error
// names (read from the TypeScript declarations), so the pages cannot drift
// from the code. Pure: `write-reference.js` writes it, a test compares it.
'use strict';
const ts = require('typescript');

const GENERATED = (from) =>
  `Generated from ${from} by \`node scripts/write-reference.js\`; a test fails when this page and the code disagree.`;

const code = (value) => `\`${value}\``;
const cell = (text) => String(text).replace(/\|/g, '\\|').replace(/\s+/g, ' ').trim();
const table = (head, rows) => [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)];

// ---- case rules -----------------------------------------------------------

function fromText(from) {
  if (from === 'none') return 'no case yet';
  if (from === 'any-open') return 'any open status';
  if (from === 'any') return 'any status';
  return from.map(code).join(', ');
}

function renderCaseRules(domain) {
  const rows = domain.TRANSITIONS.map((row) => [
    fromText(row.from),
    row.actors.join(', '),
    code(row.action) + (row.deadline ? ` (${code(row.deadline)})` : row.variant ? ` (${row.variant})` : ''),
    row.condition,
    row.next.map((n) => (n === 'unchanged' ? 'unchanged' : code(n))).join(', '),
    row.events.map(code).join(', '),
  ]);
  const durations = new Set(domain.DURATION_POLICY_NAMES);
  const policy = domain.POLICY_NAMES.map((name) => [
    code(name),
    code(domain.policyEnvVariable(name)),
    code(domain.DEFAULT_POLICY_WIRE[name]),
    durations.has(name) ? 'ISO-8601 duration' : (domain.SWITCH_POLICY_NAMES ?? []).includes(name) ? '1 on, 0 off' : 'non-negative integer',
  ]);
  const statuses = domain.CASE_STATUSES.map((status) => [
    code(status),
    domain.BUYER_STATUS_LABELS[status],
    domain.STATUS_DEADLINE[status] ? code(domain.STATUS_DEADLINE[status]) : '—',
    domain.OPEN_STATUSES.includes(status) ? 'open' : 'ended',
  ]);
  const reasons = domain.CASE_REASONS.map((reason) => [code(reason), domain.REASONS[reason].responsible, domain.REASONS[reason].department]);
  const values = [
    ['kind', domain.CASE_KINDS],
    ['closed reason', domain.CLOSED_REASONS],
    ['role', domain.ACTOR_ROLES],
    ['channel', domain.CHANNELS],
    ['refund purpose', domain.REFUND_PURPOSES],
    ['compensation form', domain.COMPENSATION_FORMS],
    ['inspection', domain.INSPECTION_RESULTS],
    ['disposition', domain.DISPOSITIONS],
    ['ruling', domain.RULINGS],
    ['auto-review rule', domain.AUTO_REVIEW_RULES],
  ].map(([name, list]) => [name, list.map(code).join(', ')]);

  return [
    '# Case rules',
    '',
    GENERATED('`libs/domain` (the transition table `TRANSITIONS`, `DEFAULT_POLICY_WIRE`, the vocabulary in `kinds.ts`)'),
    'The same table decides every command, lists `allowedActions` and draws the diagram in [case-states.md](../case-states.md).',
    '',
    '## Transitions',
    '',
    'A command is taken when the case is in one of the *from* statuses, the caller has one of the roles and the condition holds;',
    'otherwise it is refused (403 for the role, 409 with `allowedActions` for the status, 422 with a `rule` for the condition:',
    'see [errors.md](errors.md)). Entering a status also records its deadline (`DeadlineSet`), and entering `completed` or',
    '`closed` records `CaseCompleted` or `CaseClosed`. Rows with the action `deadline-passed` describe what happens when a',
    'deadline passes; the workers that deliver them are not built yet, so today a passed deadline is shown and nothing happens.',
    '',
    ...table(['from', 'who', 'action', 'condition', 'next status', 'events'], rows),
    '',
    '## Statuses',
    '',
    'Buyers see the label; everyone else sees the status name. The deadline runs while the case is in the status.',
    '',
    ...table(['status', 'buyer label', 'deadline', ''], statuses),
    '',
    '## Policy defaults',
    '',
    'The platform policy starts from these values; `POLICY_*` variables replace them at start, and admins override them per',
    'scope (`PUT /v1/policies/platform`, `PUT /v1/policies/merchant-<merchantId>`), field by field. Durations are ISO-8601 days,',
    'hours, minutes and seconds (`P7D`, `PT48H`, `P1DT12H`); amounts are minor units.',
    '',
    ...table(['policy', 'variable', 'default', 'value'], policy),
    '',
    '## Reasons',
    '',
    'Each reason decides who answers for the case and which department it is counted against.',
    '',
    ...table(['reason', 'responsible', 'department'], reasons),
    '',
    '## Other values',
    '',
    ...table(['field', 'values'], values),
    '',
  ].join('\n');
}

// ---- events ---------------------------------------------------------------

/** Declarations of `{ type: 'X'; data: D }` or `Event<'X', D>` in one source file, in file order. */
function eventDeclarations(fileName, text) {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.ES2022, true);
  const found = [];
  const squeeze = (node) => node.getText(source).replace(/\s+/g, ' ').replace(/;? }/g, ' }');
  const docOf = (node) =>
    ts
      .getJSDocCommentsAndTags(node)
      .map((doc) => (typeof doc.comment === 'string' ? doc.comment : ''))
      .join(' ')
      .replace(/\s+/g, ' ')
      .trim();
  source.forEachChild((node) => {
    if (!ts.isTypeAliasDeclaration(node)) return;
    const type = node.type;
    let name;
    let data;
    if (ts.isTypeReferenceNode(type) && type.typeName.getText(source) === 'Event' && type.typeArguments?.length === 2) {
      const [literal, payload] = type.typeArguments;
      if (ts.isLiteralTypeNode(literal) && ts.isStringLiteral(literal.literal)) [name, data] = [literal.literal.text, payload];
    } else if (ts.isTypeLiteralNode(type)) {
      const member = (key) => type.members.find((m) => ts.isPropertySignature(m) && m.name.getText(source) === key);
      const typeMember = member('type');
      const dataMember = member('data');
      if (typeMember?.type && ts.isLiteralTypeNode(typeMember.type) && ts.isStringLiteral(typeMember.type.literal) && dataMember?.type) {
        [name, data] = [typeMember.type.literal.text, dataMember.type];
      }
    }
    if (name && /^[A-Z]/.test(name)) {
      const payload = squeeze(data);
      found.push({ name, payload: payload === 'Empty' ? '{}' : payload, doc: docOf(node) });
    }
  });
  return found;
}

/** Interfaces named in payloads (CaseLine, OrderSnapshot, ...), as declared. */
function interfaceDeclarations(fileName, text) {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.ES2022, true);
  const found = [];
  source.forEachChild((node) => {
    if (ts.isInterfaceDeclaration(node) && node.name.text !== 'EventTime') {
      const fields = node.members.map((m) => m.getText(source).replace(/\/\*\*[\s\S]*?\*\/\s*/g, '').replace(/\s+/g, ' ').replace(/;$/, ''));
      found.push({ name: node.name.text, text: `{ ${fields.join('; ')} }` });
    }
  });
  return found;
}

const EVENT_SOURCES = [
  { file: 'libs/domain/src/order/events.ts', title: 'Order streams', stream: 'order-<orderId>' },
  { file: 'libs/domain/src/case/events.ts', title: 'Case streams', stream: 'aftersales-<caseId>' },
  { file: 'libs/domain/src/policy-events.ts', title: 'Policy streams', stream: 'policy-<scope>' },
  { file: 'libs/domain/src/buyer/buyer-flag.ts', title: 'Buyer streams', stream: 'buyer-<buyerId>' },
];

function renderEvents(readSource) {
  const lines = [
    '# Events',
    '',
    GENERATED(EVENT_SOURCES.map((s) => code(s.file)).join(', ')),
    '',
    'Every change is one of these events, appended to its stream with an expected revision.',
    '`GET /v1/cases/:caseId/events` (staff) returns a case stream as `{ id, type, data, revision, position, metadata }`;',
    'metadata carries `occurredAt`, the actor, the channel and the request\'s correlation id. Amounts are integer minor',
    'units, times ISO-8601 UTC; `?` marks a field that may be absent. The value sets (`CaseKind`, `Reason`, ...) are in',
    '[case-rules.md](case-rules.md); `PolicyOverrides` is any subset of the policy fields listed there.',
    '',
  ];
  const declared = [];
  const payloads = [];
  for (const { file, title, stream } of EVENT_SOURCES) {
    const text = readSource(file);
    const events = eventDeclarations(file, text);
    lines.push(`## ${title} (${code(stream)})`, '');
    lines.push(...table(['event', 'data', 'note'], events.map((e) => [code(e.name), code(e.payload), e.doc])));
    lines.push('');
    payloads.push(...events.map((e) => e.payload));
    declared.push(...interfaceDeclarations(file, text));
  }
  // Only the interfaces a payload names, directly or through another such interface.
  const named = (name, texts) => texts.some((t) => new RegExp(`\\b${name}\\b`).test(t));
  const shapes = declared.filter((shape) => named(shape.name, payloads) || named(shape.name, declared.filter((d) => named(d.name, payloads)).map((d) => d.text)));
  if (shapes.length > 0) {
    lines.push('## Shapes used above', '');
    lines.push(...table(['name', 'fields'], shapes.map((s) => [code(s.name), code(s.text)])));
    lines.push('');
  }
  return lines.join('\n');
}

// ---- errors ---------------------------------------------------------------

/** The string members of an exported union type alias, e.g. `BusinessRule`. */
function unionMembers(fileName, text, typeName) {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.ES2022, true);
  let members = [];
  source.forEachChild((node) => {
    if (ts.isTypeAliasDeclaration(node) && node.name.text === typeName && ts.isUnionTypeNode(node.type)) {
      members = node.type.types.filter((t) => ts.isLiteralTypeNode(t) && ts.isStringLiteral(t.literal)).map((t) => t.literal.text);
    }
  });
  return members;
}

function renderErrors(readSource) {
  const file = 'libs/domain/src/refusal.ts';
  const text = readSource(file);
  const list = (typeName) => [...unionMembers(file, text, typeName)].sort().map(code).join(', ');
  return [
    '# Errors',
    '',
    GENERATED(`the refusal types in ${code(file)}`) + ' The table of classes is written by hand.',
    '',
    'Every error is `application/problem+json` with `type`, `title`, `status` and `detail`. Checks answer in this order:',
    '401, 403, 400, 404, object-level 403, 412, 409, 422; 429 above `RATE_LIMIT_PER_MINUTE`.',
    '',
    ...table(
      ['status', 'when', 'extra members'],
      [
        ['400', 'the body, path or query fails validation (unknown fields are refused, not dropped)', '`errors: [{ field, message }]`'],
        ['401', 'no valid bearer token; on callbacks, a wrong, stale or reused `X-Signature`', ''],
        ['403', 'the role never takes this action (`RoleNotPermitted`), or a reason below (`Forbidden`)', ''],
        ['404', 'no such order, case or policy scope, or one the caller may not see (never confirms that it exists)', ''],
        ['409', 'the action is not allowed in the case\'s status (`ActionNotAllowed`), or a conflict below (`Conflict`)', '`allowedActions`'],
        ['412', '`If-Match` names a revision the case has moved past', ''],
        ['422', 'a business rule is broken (`BusinessRuleBroken`); the same `Idempotency-Key` with another body', '`rule`'],
        ['429', 'too many requests from one caller in a minute', ''],
        ['503', 'the event store or Redis does not answer (`/health`)', ''],
      ],
    ),
    '',
    '## 422 rules (`rule`)',
    '',
    'Stable codes: clients may branch on them, and none is ever renamed.',
    '',
    list('BusinessRule'),
    '',
    '## 403 reasons',
    '',
    list('ForbiddenReason'),
    '',
    '## 409 conflicts',
    '',
    list('ConflictReason'),
    '',
  ].join('\n');
}

/** Every page of docs/reference/, by path relative to the repository root. */
function referenceDocuments(domain, readSource) {
  return {
    'docs/reference/case-rules.md': renderCaseRules(domain),
    'docs/reference/events.md': renderEvents(readSource),
    'docs/reference/errors.md': renderErrors(readSource),
  };
}

module.exports = { referenceDocuments, eventDeclarations, unionMembers };
