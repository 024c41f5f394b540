import { Injectable, Logger } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { CommandRefusedError, ExecuteCaseCommand, timeOrderedUuid, type CaseCommandResult, type CommandOrigin } from '@aftersales/application';
import type { CaseCommand } from '@aftersales/domain';

/** The worker acts as the system (DOMAIN.md actors); integration answers it records act as the integration. */
export const WORKER_ACTOR = { role: 'system', id: 'worker' } as const;
export const INTEGRATION_ACTOR = { role: 'integration', id: 'worker' } as const;

export type CommandOutcome = { kind: 'done'; result: CaseCommandResult } | { kind: 'refused'; reason: string };

/**
 * Sends a worker's effect back in as a command, through the same command
 * path as every caller (ARCHITECTURE.md rule 3): `decide` checks it against
 * the case as it is now, so a job that is late, repeated or overtaken by a
 * person does nothing. Refusals are answers, not failures; anything else
 * (store unavailable, lost races) throws so BullMQ tries again.
 */
@Injectable()
export class SystemCommands {
  private readonly logger = new Logger(SystemCommands.name);

  constructor(private readonly commandBus: CommandBus) {}

  async execute(caseId: string, command: CaseCommand, jobId: string): Promise<CommandOutcome> {
    const origin: CommandOrigin = { actor: command.actor, channel: 'api', correlationId: timeOrderedUuid(), causationId: jobId };
    try {
      const result = await this.commandBus.execute<ExecuteCaseCommand, CaseCommandResult>(new ExecuteCaseCommand(caseId, command, origin));
      return { kind: 'done', result };
    } catch (error) {
      if (!(error instanceof CommandRefusedError)) throw error;
      const refusal = error.refusal;
      const reason = refusal.type === 'BusinessRuleBroken' ? refusal.rule : refusal.type === 'Conflict' ? refusal.reason : refusal.type;
      // A job for a case with no stream (made by hand, or its request abandoned) acts on nothing: it is dropped, and said so where operators look.
      if (refusal.type === 'NotFound') this.logger.warn(`${command.type} job ${jobId} dropped: there is no case ${caseId}`);
      else this.logger.debug?.(`${command.type} on case ${caseId} refused (${reason}): ${error.message}`);
      return { kind: 'refused', reason };
    }
  }
}
