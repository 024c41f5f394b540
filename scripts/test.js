#!/usr/bin/env node
// `npm test`: the whole suite as CI runs it. Type-check, import boundaries,
// then every Jest tier; ends with one line `N passed, M failed` (the two
// static checks count as one test each). With TEST_TOTALS_FILE set, the same
// counts are also written there as JSON, for .ci/run to add up its two runs.
'use strict';
const { spawnSync } = require('node:child_process');
const { mkdtempSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);
const jestArgs = process.argv.slice(2);

let passed = 0;
let failed = 0;
let skipped = 0;

function step(title, command, args) {
  process.stdout.write(`\n== ${title}\n`);
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  const ok = result.status === 0;
  if (ok) passed += 1;
  else failed += 1;
  return ok;
}

step('type-check (tsc --noEmit)', bin('tsc'), ['-p', 'tsconfig.json', '--noEmit']);
step('import boundaries (dependency-cruiser)', bin('depcruise'), ['apps', 'libs', 'test', 'bench', '--config', '.dependency-cruiser.js']);

if (!process.env.EVENTSTORE_CONNECTION_STRING) {
  process.stdout.write('\nEventStoreDB contract suite: reported as skipped, EVENTSTORE_CONNECTION_STRING is not set (see docs/operations.md, "EventStoreDB").\n');
}

const reportDir = mkdtempSync(path.join(tmpdir(), 'aftersales-jest-'));
const report = path.join(reportDir, 'report.json');
process.stdout.write('\n== jest (unit, integration, e2e)\n');
const jest = spawnSync(bin('jest'), ['--ci', '--json', `--outputFile=${report}`, ...jestArgs], { cwd: root, stdio: 'inherit' });
try {
  const summary = JSON.parse(readFileSync(report, 'utf8'));
  passed += summary.numPassedTests;
  failed += summary.numFailedTests;
  skipped += summary.numPendingTests + summary.numTodoTests;
  // A suite that fails to load has no failed test in it; count it so it shows.
  failed += summary.testResults.filter((r) => r.status === 'failed' && r.assertionResults.length === 0).length;
} catch {
  failed += 1;
  process.stdout.write('jest did not produce a report\n');
}
rmSync(reportDir, { recursive: true, force: true });
if (jest.status !== 0 && failed === 0) failed += 1;

if (process.env.TEST_TOTALS_FILE) writeFileSync(process.env.TEST_TOTALS_FILE, JSON.stringify({ node: process.version, passed, failed, skipped }));
process.stdout.write(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
process.exit(failed === 0 ? 0 : 1);
