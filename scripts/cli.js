#!/usr/bin/env node
// `npm run cli -- <command>` (token, projections, seed, help): compiles if
// needed (as `npm start` does), then runs the compiled CLI with the
// monorepo's aliases resolved.
'use strict';
const { existsSync } = require('node:fs');
const path = require('node:path');
const { build, needsBuild } = require('./start');

const entry = path.resolve(__dirname, '..', 'dist', 'apps', 'cli', 'src', 'cli.js');

if (needsBuild() || !existsSync(entry)) build();
require('./register-aliases');
require(entry);
