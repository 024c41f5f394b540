// `node -r ./register-ts.js child.ts`: compiles TypeScript on require with
// @swc/core (already there for Jest), so a test can run store code in a
// plain Node process, where no test runner keeps the event loop alive.
'use strict';
const Module = require('node:module');
const { readFileSync } = require('node:fs');
const { transformSync } = require('@swc/core');

Module._extensions['.ts'] = function compileTypeScript(module, filename) {
  const { code } = transformSync(readFileSync(filename, 'utf8'), {
    filename,
    jsc: { target: 'es2022', parser: { syntax: 'typescript' } },
    module: { type: 'commonjs' },
  });
  module._compile(code, filename);
};
