#!/usr/bin/env node
// `node scripts/write-reference.js`: regenerates docs/reference/ (case rules,
// events, errors) from the domain, as `npm run docs:diagram` does the diagram.
'use strict';
const { mkdirSync, readFileSync, writeFileSync } = require('node:fs');
const path = require('node:path');
const ts = require('typescript');
const { referenceDocuments } = require('./reference');

const root = path.resolve(__dirname, '..');

// The domain imports nothing of ours, so its sources load on their own,
// transpiled file by file: no build, and no wait for the rest to type-check.
require.extensions['.ts'] = (module, filename) => {
  const { outputText } = ts.transpileModule(readFileSync(filename, 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    fileName: filename,
  });
  module._compile(outputText, filename);
};
const domain = require(path.join(root, 'libs', 'domain', 'src', 'index.ts'));

const documents = referenceDocuments(domain, (file) => readFileSync(path.join(root, file), 'utf8'));
for (const [file, text] of Object.entries(documents)) {
  mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
  writeFileSync(path.join(root, file), text);
  process.stdout.write(`wrote ${file}\n`);
}
