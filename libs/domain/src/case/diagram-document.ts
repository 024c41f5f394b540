import { transitionDiagram } from './diagram';

/** docs/case-states.md: the diagram generated from TRANSITIONS, so the picture cannot drift from the rules. */
export function renderStateDiagramDocument(): string {
  return [
    '# Case states',
    '',
    'Generated from the transition table in `libs/domain/src/case/transitions.ts`',
    '(`npm run docs:diagram`); a unit test fails when this file and the table disagree.',
    '',
    '```mermaid',
    transitionDiagram().trimEnd(),
    '```',
    '',
  ].join('\n');
}
