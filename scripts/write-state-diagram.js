#!/usr/bin/env node
// `npm run docs:diagram`: regenerates docs/case-states.md from the
// transition table (libs/domain), the same data decide() reads.
'use strict';
const { writeFileSync } = require('node:fs');
const path = require('node:path');
const { build, needsBuild } = require('./start');

if (needsBuild()) build();
require('./register-aliases');
const { renderStateDiagramDocument } = require('../dist/libs/domain/src/case/diagram-document.js');
const target = path.join(__dirname, '..', 'docs', 'case-states.md');
writeFileSync(target, renderStateDiagramDocument());
process.stdout.write(`wrote ${path.relative(process.cwd(), target)}\n`);
