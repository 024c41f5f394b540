import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

// Node.js 20 is end of life: the image, CI and the stated range must say which
// versions are run, and the second run of .ci/run must be on 24 LTS.
const root = join(__dirname, '..', '..');
const read = (file: string): string => readFileSync(join(root, file), 'utf8');

describe('supported Node.js versions', () => {
  it('builds and runs the Docker image on Node.js 24', () => {
    const images = [...read('Dockerfile').matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
    expect(images).toEqual(['node:24-bookworm', 'node:24-bookworm-slim']);
  });

  it('runs GitHub CI on a 22/24 matrix', () => {
    const workflow = parse(read('.github/workflows/ci.yml')) as { jobs: { test: { strategy: { matrix: { node: number[] } }; steps: { with?: Record<string, unknown> }[] } } };
    expect(workflow.jobs.test.strategy.matrix.node).toEqual([22, 24]);
    expect(workflow.jobs.test.steps.find((step) => step.with?.['node-version'])?.with?.['node-version']).toBe('${{ matrix.node }}');
  });

  it('states the range the runs prove in engines', () => {
    const { engines } = JSON.parse(read('package.json')) as { engines: { node: string } };
    expect(engines.node.split('||').map((range) => range.trim().split('.')[0])).toEqual(['^20', '^22', '^24']);
  });

  it('runs the tests again on Node.js 24 from the npm registry in .ci/run and ends with one totals line', () => {
    const script = read('.ci/run');
    expect(script).toMatch(/also_node=\$\{CI_ALSO_NODE-24\}/);
    expect(script).toMatch(/npm pack "node-linux-\$arch@\$major"/);
    expect(script).toMatch(/console\.log\(`\$\{passed\} passed, \$\{failed\} failed`\);\n\s*process\.exit/);
  });
});
