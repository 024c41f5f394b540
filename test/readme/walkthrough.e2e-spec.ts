import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { freePort, spawnService, waitForHealthy, type RunningService } from '../support/service-process';

jest.setTimeout(180_000);

const repositoryRoot = resolve(__dirname, '..', '..');
const MARKER = '<!-- walkthrough -->';

/** The shell blocks the README marks as its walkthrough, in order, exactly as a reader copies them. */
function walkthroughBlocks(readme: string): string[] {
  const blocks: string[] = [];
  const pattern = new RegExp(`${MARKER}\\s*\\n\`\`\`bash\\n([\\s\\S]*?)\\n\`\`\``, 'g');
  for (const match of readme.matchAll(pattern)) blocks.push(match[1]);
  return blocks;
}

/** Runs a script with bash at the repository root, as a reader in a second terminal would. */
async function runBash(script: string, api: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolveRun) => {
    const child = spawn('bash', ['-c', script], {
      cwd: repositoryRoot,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, API: api },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('close', (code) => resolveRun({ code, output }));
  });
}

describe("the README's walkthrough", () => {
  const readme = readFileSync(join(repositoryRoot, 'README.md'), 'utf8');
  const blocks = walkthroughBlocks(readme);
  let service: RunningService;

  beforeAll(async () => {
    service = spawnService({ PORT: String(await freePort()) });
    await waitForHealthy(service);
  });

  afterAll(async () => {
    await service?.stop('SIGTERM');
    service?.cleanup();
  });

  it('is marked in the README and points nowhere outside the repository', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(3);
    expect(readme).not.toMatch(/\.\.\/shared|shared\/design/);
  });

  it('answers every step as the README says, twice in a row, through a completed case and one the clock approved', async () => {
    // `STOPPED` is set by the README's `call` at the first unexpected answer.
    const script = `${blocks.join('\n')}\n[ -z "\${STOPPED:-}" ]`;
    for (let run = 1; run <= 2; run += 1) {
      const { code, output } = await runBash(script, service.baseUrl);
      // A failed step with the request and the answer that stopped it, as the reader saw them.
      const lines = output.split('\n');
      const failedSteps = lines.flatMap((line, i) => (line.startsWith('!!') ? [lines.slice(Math.max(0, i - 2), i + 1).join('\n')] : []));
      expect({ run, code, failedSteps }).toEqual({
        run,
        code: 0,
        failedSteps: [],
      });
      expect(output).toMatch(/-- POST \/v1\/cases: 201\n/);
      expect(output).toMatch(/-- POST \/v1\/integrations\/payments\/events: 200\n/);
      // The first case completed once its refund settled; the second was approved by the clock.
      expect(output).toMatch(/\ncompleted\n/);
      expect(output).toMatch(/\nawaiting_return\n/);
      expect(output.trimEnd().split('\n').pop()).toBe('merchantResponse');
    }
  });

  it("stops at a step that answers something else, showing the answer, and skips the rest", async () => {
    const helpers = blocks[0].split('\nINTEGRATION=')[0];
    const { output } = await runBash(
      `${helpers}\ncall 200 GET /health\ncall 404 GET /health\ncall 200 GET /health\necho "stopped=\${STOPPED:-}"`,
      service.baseUrl,
    );
    expect(output).toContain('-- GET /health: 200');
    expect(output).toContain('!! expected 404: stopping here');
    expect(output).toContain('-- skipped GET /health (a step above failed)');
    expect(output.trimEnd().split('\n').pop()).toBe('stopped=1');
  });
});
