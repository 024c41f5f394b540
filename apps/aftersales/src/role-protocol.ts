/** The roles `npm start` runs in threads of their own beside the API. */
export type ThreadRole = 'worker' | 'projector';

/** What a role thread is started with; the rest of its configuration is the process's environment. */
export interface RoleThreadData {
  role: ThreadRole;
  /** The Redis the process resolved (the local redis-server when REDIS_URL is not set). */
  redisUrl: string;
}

/** From the main thread to a role thread. */
export type ToRoleThread = { type: 'metrics'; id: number } | { type: 'stop' };

/** From a role thread to the main thread. */
export type FromRoleThread =
  | { type: 'ready' }
  | { type: 'metrics'; id: number; text: string }
  | { type: 'stopped' }
  | { type: 'failed'; error: string };
