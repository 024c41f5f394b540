import type { ReadStore } from '../store/read-store';
import { readCheckpoints } from '../runner/checkpoints';

const POLL_MS = 20;

/**
 * Read-your-writes across processes: the projector may run elsewhere, so a
 * query that must reflect a write watches the projections' stored
 * checkpoints until they reach the write's position.
 */
export class ProjectionProgress {
  constructor(private readonly store: ReadStore) {}

  /** True once every named projection has stored `position`; false after `timeoutMs`. */
  async waitFor(projections: readonly string[], position: number, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const checkpoints = await readCheckpoints(this.store.db, projections);
      if (checkpoints.length === projections.length && checkpoints.every((c) => c.position >= position)) return true;
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise((resolve) => setTimeout(resolve, Math.min(POLL_MS, left)));
    }
  }
}
