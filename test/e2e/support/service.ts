import { freePort, spawnService, waitForHealthy, type RunningService } from '../../support/service-process';
import { ApiClient } from './http';

export interface StartedService {
  service: RunningService;
  api: ApiClient;
  env: NodeJS.ProcessEnv;
}

/**
 * Starts the service as `npm start` does, on a free port and its own data
 * folder. The rate limit is lifted so that suites firing many requests test
 * the route, not the limiter.
 */
export async function startService(env: NodeJS.ProcessEnv = {}, dataDir?: string): Promise<StartedService> {
  const port = await freePort();
  const fullEnv = { RATE_LIMIT_PER_MINUTE: '1000000', ...env, PORT: String(port) };
  const service = spawnService(fullEnv, dataDir);
  try {
    await waitForHealthy(service);
  } catch (error) {
    // SIGTERM first, so the service stops the redis-server it started rather than orphaning it.
    await Promise.race([service.stop('SIGTERM'), new Promise((r) => setTimeout(r, 10_000))]);
    service.cleanup();
    throw error;
  }
  return { service, api: new ApiClient(service.baseUrl), env: fullEnv };
}

/** Stops the service and removes its data folder. */
export async function stopService(started: StartedService | undefined): Promise<void> {
  if (!started) return;
  try {
    await started.service.stop('SIGTERM');
  } finally {
    started.service.cleanup();
  }
}
