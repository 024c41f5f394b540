import type { CaseCommand, CaseState } from '@aftersales/domain';
import type { CommandOrigin } from '../events/metadata';

/** Runs one case command (user, system or integration) through load → decide → append. */
export class ExecuteCaseCommand {
  constructor(
    readonly caseId: string,
    readonly command: CaseCommand,
    readonly origin: CommandOrigin,
    /** If-Match: the case revision the caller last saw. */
    readonly ifMatch?: number,
  ) {}
}

export interface CaseCommandResult {
  state: CaseState;
  /** The case stream's revision after the command (-1: no stream). */
  revision: number;
  /** Global position of the last event appended; of the case's last event when nothing was appended. */
  position: number;
  /** False when the command was an idempotent no-op. */
  appended: boolean;
  /** The buyer's abuse flag as the decision read it: agents' allowedActions depend on it (the pool). */
  buyerFlagged: boolean;
}
