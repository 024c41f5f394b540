#!/usr/bin/env node
// `npm run bench:<name>`: compile (as `npm start` does) and run
// bench/<name>.bench.ts from dist/, outside Jest, on this machine.
'use strict';
const path = require('node:path');
const { build, needsBuild } = require('./start');

const name = process.argv[2];
if (!name || !/^[a-z-]+$/.test(name)) {
  process.stderr.write('usage: node scripts/bench.js <name>   (runs bench/<name>.bench.ts)\n');
  process.exit(2);
}
if (needsBuild()) build();
require('./register-aliases');
require(path.join(__dirname, '..', 'dist', 'bench', `${name}.bench.js`));
