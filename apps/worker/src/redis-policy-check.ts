import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { REDIS } from '@aftersales/application';

/**
 * BullMQ keeps delayed jobs as ordinary keys: a Redis allowed to evict them
 * under memory pressure drops deadlines without a word (the reconciler puts
 * them back, a minute late). Said loudly at start, as BullMQ's own docs ask:
 * run Redis with `maxmemory-policy noeviction` and AOF.
 */
@Injectable()
export class RedisPolicyCheck implements OnApplicationBootstrap {
  private readonly logger = new Logger('Redis');
  /** What the check found, for tests and /health-style probes. */
  found?: { maxmemoryPolicy?: string; appendonly?: string };

  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async onApplicationBootstrap(): Promise<void> {
    try {
      const policy = (await this.redis.config('GET', 'maxmemory-policy')) as string[];
      const aof = (await this.redis.config('GET', 'appendonly')) as string[];
      this.found = { maxmemoryPolicy: policy[1], appendonly: aof[1] };
    } catch (error) {
      // Managed Redis often forbids CONFIG: say what could not be checked rather than guess.
      this.logger.warn(`could not read Redis settings (${(error as Error).message}); make sure maxmemory-policy is noeviction and AOF is on`);
      return;
    }
    if (this.found.maxmemoryPolicy !== 'noeviction') {
      this.logger.error(
        `Redis maxmemory-policy is "${this.found.maxmemoryPolicy}", not "noeviction": under memory pressure Redis may evict queued jobs and deadlines. Set maxmemory-policy noeviction.`,
      );
    }
    if (this.found.appendonly !== 'yes') {
      this.logger.warn('Redis runs without AOF (appendonly no): a Redis restart loses queued jobs until the reconciler re-creates them. Run Redis with appendonly yes.');
    }
  }
}
