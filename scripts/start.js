#!/usr/bin/env node
// `npm start`: compile what changed since the last build, then run the
// service in the foreground. Needs nothing but a prior `npm install`.
'use strict';
const { execFileSync } = require('node:child_process');
const { existsSync, readdirSync, statSync, writeFileSync } = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const stamp = path.join(root, 'dist', '.build-stamp');
// Every role in one process: the API, the worker and the projector (apps/aftersales).
const entry = path.join(root, 'dist', 'apps', 'aftersales', 'src', 'main.js');

function newestSource(dir) {
  let newest = 0;
  for (const item of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, item.name);
    if (item.isDirectory()) newest = Math.max(newest, newestSource(full));
    else if (item.name.endsWith('.ts')) newest = Math.max(newest, statSync(full).mtimeMs);
  }
  return newest;
}

function needsBuild() {
  if (!existsSync(stamp) || !existsSync(entry)) return true;
  const built = statSync(stamp).mtimeMs;
  const sources = ['apps', 'libs', 'bench'].map((d) => path.join(root, d)).filter(existsSync);
  const configs = ['tsconfig.json', 'tsconfig.build.json', 'package-lock.json'].map((f) => statSync(path.join(root, f)).mtimeMs);
  return Math.max(...sources.map(newestSource), ...configs) > built;
}

function build() {
  process.stderr.write('Compiling TypeScript (tsc -p tsconfig.build.json)...\n');
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  writeFileSync(stamp, new Date().toISOString());
}

// `npm start` runs us under `sh -c`; a SIGTERM sent to npm stops npm and
// that shell but never reaches us. Losing the parent that started us is
// therefore treated as SIGTERM, so the service and its redis-server stop too.
function stopWhenOrphaned(intervalMs = 200) {
  const parent = process.ppid;
  if (parent <= 1) return; // started directly by init or a container runtime: nothing to watch
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    process.kill(process.pid, 'SIGTERM');
  }, intervalMs);
  timer.unref();
}

if (require.main === module) {
  if (needsBuild()) build();
  stopWhenOrphaned();
  // A closed terminal (SIGHUP) stops the service as cleanly as SIGTERM does.
  process.once('SIGHUP', () => process.kill(process.pid, 'SIGTERM'));
  require('./register-aliases');
  require(entry);
}

module.exports = { build, needsBuild };
