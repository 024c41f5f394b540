#!/usr/bin/env node
// `npm start`: compile what changed since the last build, then run the
// service in the foreground. Needs nothing but a prior `npm ci`.
'use strict';
const { execFileSync } = require('node:child_process');
const { existsSync, readdirSync, statSync, writeFileSync } = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const stamp = path.join(root, 'dist', '.build-stamp');
const entry = path.join(root, 'dist', 'apps', 'api', 'src', 'main.js');

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

if (require.main === module) {
  if (needsBuild()) build();
  require('./register-aliases');
  require(entry);
}

module.exports = { build, needsBuild };
