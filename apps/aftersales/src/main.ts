import 'reflect-metadata';
import { runService } from '../../api/src/main';
import { ProjectorModule } from '../../projector/src/projector.module';
import { WorkerModule } from '../../worker/src/worker.module';

/**
 * `npm start`: the embedded default, every role in one process (the API,
 * the worker and the projector) on one SQLite file and one Redis. Each role
 * also has an entry of its own for scaling out (apps/<role>/src/main.ts).
 */
runService((config) => [WorkerModule.register(config), ProjectorModule.register(config)]);
