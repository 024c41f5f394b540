import 'reflect-metadata';
import { runService } from '../../api/src/main';
import { startRoleThreads } from './role-threads';

/**
 * `npm start`: the embedded default, every role in one process on one SQLite
 * file and one Redis: the API on the main thread, the worker and the
 * projector each in a thread of its own (role-threads.ts). Each role also
 * has an entry of its own for scaling out (apps/<role>/src/main.ts).
 */
runService({ companions: (config, failed) => startRoleThreads(config.redisUrl, failed) });
