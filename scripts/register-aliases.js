// Resolves the monorepo's `@aftersales/<lib>` imports inside the compiled
// `dist/` tree, the way tsconfig's `paths` do for the compiler and Jest's
// moduleNameMapper does for tests. Loaded with `node -r`.
'use strict';
const Module = require('node:module');
const path = require('node:path');

const distRoot = path.resolve(__dirname, '..', 'dist');
const aliasPattern = /^@aftersales\/([a-z-]+)(\/testing)?$/;
const originalResolve = Module._resolveFilename;

Module._resolveFilename = function resolveAftersalesAlias(request, ...rest) {
  const match = aliasPattern.exec(request);
  if (match) {
    const entry = match[2] ? path.join('src', 'testing', 'index.js') : path.join('src', 'index.js');
    return originalResolve.call(this, path.join(distRoot, 'libs', match[1], entry), ...rest);
  }
  return originalResolve.call(this, request, ...rest);
};
