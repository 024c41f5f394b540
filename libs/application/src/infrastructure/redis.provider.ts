import { Inject, Injectable, Logger, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import { Redis } from 'ioredis';
import type { AppConfig } from '@aftersales/config';
import { APP_CONFIG, REDIS } from './tokens';

const QUIT_TIMEOUT_MS = 1000;

export const redisProvider: Provider = {
  provide: REDIS,
  inject: [APP_CONFIG],
  useFactory: (config: AppConfig): Redis => {
    if (!config.redisUrl) throw new Error('redisUrl must be resolved (a local redis-server started) before the module is created');
    // BullMQ needs maxRetriesPerRequest null on connections it shares; the
    // health check still answers quickly because it races a timeout.
    return new Redis(config.redisUrl, { maxRetriesPerRequest: null, lazyConnect: false });
  },
};

@Injectable()
export class RedisShutdown implements OnApplicationShutdown {
  private readonly logger = new Logger(RedisShutdown.name);

  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async onApplicationShutdown(): Promise<void> {
    // QUIT waits for Redis to answer; with Redis gone it would wait forever
    // and hold up the whole shutdown, so it gets a moment and then the socket is dropped.
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), QUIT_TIMEOUT_MS)));
    try {
      const outcome = await Promise.race([this.redis.quit(), gaveUp]);
      if (outcome === 'timeout') {
        this.logger.warn(`Redis did not answer QUIT within ${QUIT_TIMEOUT_MS} ms; disconnecting`);
        this.redis.disconnect();
      }
    } catch (error) {
      this.logger.warn(`Redis did not close cleanly: ${(error as Error).message}`);
      this.redis.disconnect();
    } finally {
      clearTimeout(timer);
    }
  }
}
