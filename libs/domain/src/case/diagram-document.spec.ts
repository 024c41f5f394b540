import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderStateDiagramDocument } from './diagram-document';

describe('docs/case-states.md', () => {
  it('is the diagram of the current transition table (run npm run docs:diagram after changing it)', () => {
    const committed = readFileSync(join(__dirname, '..', '..', '..', '..', 'docs', 'case-states.md'), 'utf8');
    expect(committed).toBe(renderStateDiagramDocument());
  });
});
