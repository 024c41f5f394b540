// A role thread's entry (see role-threads.ts). Compiled code resolves the
// `@aftersales/*` imports through scripts/register-aliases.js, which the main
// thread loaded in start.js; module resolution is per thread, so this thread
// loads it too before anything imports a library.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

const aliases = resolve(__dirname, '..', '..', '..', '..', 'scripts', 'register-aliases.js');
if (__filename.endsWith('.js') && existsSync(aliases)) require(aliases);
require('./role-thread-main');
