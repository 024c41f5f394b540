#!/usr/bin/env node
// `npm run bench:<name>`: compile (as `npm start` does) and run
// bench/<name>.bench.ts from dist/, outside Jest, on this machine. A run
// that does not finish exits non-zero, saying where it stopped.
'use strict';
const path = require('node:path');
const { build, needsBuild } = require('./start');
const { guardBenchmark } = require('./bench-guard');

const name = process.argv[2];
if (!name || !/^[a-z-]+$/.test(name)) {
  process.stderr.write('usage: node scripts/bench.js <name>   (runs bench/<name>.bench.ts)\n');
  process.exit(2);
}
if (needsBuild()) build();
require('./register-aliases');
guardBenchmark(name, () => require(path.join(__dirname, '..', 'dist', 'bench', `${name}.bench.js`)).finished);
