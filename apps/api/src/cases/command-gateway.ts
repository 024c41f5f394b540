import { Injectable, Optional } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import {
  ConcurrentWriteError,
  ExecuteCaseCommand,
  ExecuteOrderCommand,
  StreamReadsService,
  type CaseCommandResult,
  type CommandOrigin,
  type OrderCommandResult,
} from '@aftersales/application';
import type { Actor, CaseCommand } from '@aftersales/domain';
import { ConcurrencyError } from '@aftersales/event-store';
import { MetricsService } from '../metrics/metrics.service';
import { commandProblem, outcomeOf, type Subject } from './command-problems';

type OrderCommand = ExecuteOrderCommand['command'];

/**
 * The one door from the order, case and policy routes to the command path:
 * dispatches, counts `command_outcomes_total{command,outcome}` and turns what
 * the application throws into problem+json exceptions. The mapping happens
 * here, inside the handler, so the client sees (and the idempotency record
 * keeps) the 4xx the refusal means rather than a 500 that is never kept.
 */
@Injectable()
export class CommandGateway {
  constructor(
    private readonly commandBus: CommandBus,
    private readonly reads: StreamReadsService,
    @Optional() private readonly metrics?: MetricsService,
  ) {}

  executeCase(caseId: string, command: CaseCommand, origin: CommandOrigin, ifMatch?: number): Promise<CaseCommandResult> {
    return this.observe(
      command.type,
      'case',
      () => this.commandBus.execute<ExecuteCaseCommand, CaseCommandResult>(new ExecuteCaseCommand(caseId, command, origin, ifMatch)),
      (result) => result.appended,
      (error) => this.allowedAfterRace(error, caseId, command.actor),
    );
  }

  executeOrder(orderId: string, command: OrderCommand, origin: CommandOrigin): Promise<OrderCommandResult> {
    return this.observe(
      command.type,
      'order',
      () => this.commandBus.execute<ExecuteOrderCommand, OrderCommandResult>(new ExecuteOrderCommand(orderId, command, origin)),
      (result) => result.appended,
    );
  }

  /** A policy change (PolicyService appends directly); `appended` says whether it recorded anything. */
  changePolicy<R>(run: () => Promise<R>, appended: (result: R) => boolean): Promise<R> {
    return this.observe('change-policy', 'policy', run, appended);
  }

  /** A stream read: its refusals (404) answer like a command's. */
  async read<R>(subject: Subject, run: () => Promise<R>): Promise<R> {
    try {
      return await run();
    } catch (error) {
      throw commandProblem(error, subject) ?? error;
    }
  }

  private async observe<R>(
    command: string,
    subject: Subject,
    run: () => Promise<R>,
    appended: (result: R) => boolean,
    allowedActions?: (error: unknown) => Promise<string[] | undefined>,
  ): Promise<R> {
    let result: R;
    try {
      result = await run();
    } catch (error) {
      this.metrics?.recordCommandOutcome(command, outcomeOf(error));
      throw commandProblem(error, subject, await allowedActions?.(error)) ?? error;
    }
    this.metrics?.recordCommandOutcome(command, appended(result) ? 'accepted' : 'unchanged');
    return result;
  }

  /** A 409 names the caller's allowedActions; after a lost race the domain gave none, so read them now. */
  private async allowedAfterRace(error: unknown, caseId: string, actor: Actor): Promise<string[] | undefined> {
    if (!(error instanceof ConcurrentWriteError || error instanceof ConcurrencyError)) return undefined;
    try {
      return (await this.reads.caseView(caseId, actor)).allowedActions;
    } catch {
      return [];
    }
  }
}
