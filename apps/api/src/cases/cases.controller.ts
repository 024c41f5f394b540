import { applyDecorators, Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBody, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { caseIdFor, Clock, PolicyService, StreamReadsService, toCaseView, type CaseCommandResult } from '@aftersales/application';
import { isOpened, rolesFor, type CaseAction, type RequestCase, type UserCaseCommand } from '@aftersales/domain';
import { isRole, type Role } from '../auth/caller';
import { Roles } from '../auth/decorators';
import { claimedResourceId } from '../idempotency/claimed-resource-id';
import { Acting, etagOf, IfMatch, type ActingCaller } from './acting';
import {
  AmendDto,
  ApproveDto,
  AssignDto,
  CompensateDto,
  ConfirmReceiptDto,
  CounterOfferDto,
  DeclareUnrepairableDto,
  EscalateDto,
  NoteDto,
  RateDto,
  RejectDto,
  RequestCaseDto,
  RetryRefundDto,
  RuleDto,
  ShipReplacementDto,
  ShipReturnDto,
  TransferDto,
} from './case.dto';
import { CaseCommandResponse, CaseEventsResponse, CaseResponse } from './case.responses';
import { CommandGateway } from './command-gateway';
import { DEFAULT_PAGE_SIZE, ListPageQuery, revisionCursor, revisionFromCursor } from './list-page';
import { definedFields, EmptyBodyPipe, IdParamPipe } from './fields';
import { CaseCommandProblems, ETAG_HEADER, IdPathParam, IfMatchHeader, ProblemResponse } from './problem-docs';
import { TrackingNumberCheck } from '../integrations/tracking-number-check';

/** The roles of the transition table's rows for an action (the edge answers any other with 403 before reading the body). */
const rolesOf = (action: CaseAction): Role[] => rolesFor(action).filter(isRole);

const NO_BODY = { required: false, description: 'No fields: `{}` or no body', schema: { type: 'object', properties: {}, additionalProperties: false } };

/** `POST /v1/cases/:caseId/<action>`: route, roles and documentation from the action's name. */
function CaseActionRoute(action: CaseAction, summary: string, options: { withoutBody?: boolean } = {}) {
  const roles = rolesOf(action);
  return applyDecorators(
    Post(`:caseId/${action}`),
    HttpCode(200),
    Roles(...roles),
    ApiOperation({ summary, description: `Roles: ${roles.join(', ')}. Conditions and effects: docs/reference/case-rules.md, Transitions, action \`${action}\`.` }),
    IdPathParam('caseId', 'The case'),
    IfMatchHeader(),
    ApiOkResponse({ type: CaseCommandResponse, description: 'The case as the caller now sees it, and `position`', headers: ETAG_HEADER }),
    CaseCommandProblems(),
    ...(options.withoutBody ? [ApiBody(NO_BODY)] : []),
  );
}

const CaseIdParam = () => Param('caseId', IdParamPipe);

@ApiTags('cases')
@Controller('v1/cases')
export class CasesController {
  constructor(
    private readonly gateway: CommandGateway,
    private readonly reads: StreamReadsService,
    private readonly policies: PolicyService,
    private readonly clock: Clock,
    private readonly trackingNumbers: TrackingNumberCheck,
  ) {}

  @Post()
  @HttpCode(201)
  @Roles(...rolesOf('request'))
  @ApiOperation({
    summary: 'Open a case on an order (a buyer, or an agent on the buyer\'s behalf)',
    description: 'The server names the case. An auto-review rule may approve it in the same write, so the answer can already be past pending_merchant.',
  })
  @ApiCreatedResponse({
    type: CaseCommandResponse,
    description: 'The new case and `position`; Location names it',
    headers: { ...ETAG_HEADER, Location: { description: '/v1/cases/<caseId>', schema: { type: 'string' } } },
  })
  @ProblemResponse(404, 'Unknown order, or one the caller may not see')
  @ProblemResponse(409, 'A concurrent write still won after retries')
  @ProblemResponse(422, 'A business rule refused the request (`rule`): amount above refundable, line in another active case, quantity above what is left, kind or window not allowed, cap exceeded')
  async request(@Body() body: RequestCaseDto, @Acting() acting: ActingCaller): Promise<CaseCommandResponse> {
    // With a key, every attempt of the request names the same case, so a retry after a crash finds what the first opened.
    const caseId = caseIdFor(claimedResourceId(acting.reply));
    const channel = body.channel ?? acting.origin.channel;
    const { description, requestedAmount, evidence } = definedFields(body);
    const command: RequestCase = {
      type: 'request',
      actor: acting.actor,
      data: {
        caseId,
        orderId: body.orderId,
        kind: body.kind,
        reason: body.reason,
        ...(description !== undefined ? { description } : {}),
        lines: body.lines.map(({ lineId, quantity }) => ({ lineId, quantity })),
        ...(requestedAmount !== undefined ? { requestedAmount } : {}),
        ...(evidence !== undefined ? { evidence: [...evidence] } : {}),
        channel,
        pickup: body.pickup ?? true,
      },
    };
    const result = await this.gateway.executeCase(caseId, command, { ...acting.origin, channel });
    acting.reply.header('Location', `/v1/cases/${caseId}`);
    return this.answer(result, acting);
  }

  @Get(':caseId')
  @Roles('buyer', 'merchant', 'agent', 'arbitrator', 'admin')
  @ApiOperation({ summary: 'A case as the caller sees it, read from its stream (reflects every acknowledged write)' })
  @IdPathParam('caseId', 'The case')
  @ApiOkResponse({ type: CaseResponse, headers: ETAG_HEADER })
  @ProblemResponse(404, 'Unknown case, or one the caller may not see')
  async view(@CaseIdParam() caseId: string, @Acting() acting: ActingCaller): Promise<CaseResponse> {
    const view = await this.gateway.read('case', () => this.reads.caseView(caseId, acting.actor));
    acting.reply.header('ETag', etagOf(view.revision));
    return view;
  }

  @Get(':caseId/events')
  @Roles('agent', 'arbitrator', 'admin')
  @ApiOperation({ summary: 'The case stream in revision order, upcast to current versions (staff)' })
  @IdPathParam('caseId', 'The case')
  @ApiOkResponse({ type: CaseEventsResponse, headers: ETAG_HEADER })
  @ProblemResponse(404, 'Unknown case, or one the caller may not see')
  async events(@CaseIdParam() caseId: string, @Query() page: ListPageQuery, @Acting() acting: ActingCaller): Promise<CaseEventsResponse> {
    const from = revisionFromCursor(page.cursor);
    const limit = page.limit ?? DEFAULT_PAGE_SIZE;
    const { revision, events: items } = await this.gateway.read('case', () => this.reads.caseEvents(caseId, acting.actor, { fromRevision: from, maxCount: limit }));
    acting.reply.header('ETag', etagOf(revision));
    const next = items.at(-1);
    return {
      ...(next && next.revision < revision ? { nextCursor: revisionCursor(next.revision + 1) } : {}),
      items: items.map((e) => ({
        id: e.id,
        type: e.type,
        data: e.data as Record<string, unknown>,
        metadata: e.metadata,
        revision: e.revision,
        position: e.position,
        recordedAt: e.recordedAt.toISOString(),
      })),
    };
  }

  @CaseActionRoute('approve', 'Agree to the request (merchant, or an agent within its authority)')
  approve(@CaseIdParam() caseId: string, @Body() body: ApproveDto, @Acting() acting: ActingCaller, @IfMatch() ifMatch?: number) {
    return this.act(caseId, { type: 'approve', actor: acting.actor, data: definedFields(body) }, acting, ifMatch);
  }

  @CaseActionRoute('reject', 'Decline the request, with a reason')
  reject(@CaseIdParam() caseId: string, @Body() body: RejectDto, @Acting() acting: ActingCaller, @IfMatch() ifMatch?: number) {
    return this.act(caseId, { type: 'reject', actor: acting.actor, data: definedFields(body) }, acting, ifMatch);
  }

  @CaseActionRoute('counter-offer', 'Offer less than was asked (money kinds)')
  counterOffer(@CaseIdParam() caseId: string, @Body() body: CounterOfferDto, @Acting() acting: ActingCaller, @IfMatch() ifMatch?: number) {
    return this.act(caseId, { type: 'counter-offer', actor: acting.actor, data: definedFields(body) }, acting, ifMatch);
  }

  @CaseActionRoute('accept-offer', 'Accept the merchant\'s counter-offer', { withoutBody: true })
  acceptOffer(@CaseIdParam() caseId: string, @Body(EmptyBodyPipe) body: Record<string, never>, @Acting() acting: ActingCaller, @IfMatch() ifMatch?: number) {
    return this.act(caseId, { type: 'accept-offer', actor: acting.actor, data: body }, acting, ifMatch);
  }

  @CaseActionRoute('decline-offer', 'Decline the merchant\'s counter-offer', { withoutBody: true })
  declineOffer(@CaseIdParam() caseId: string, @Body(EmptyBodyPipe) body: Record<string, never>, @Acting() acting: ActingCaller, @IfMatch() ifMatch?: number) {
    return this.act(caseId, { type: 'decline-offer', actor: acting.actor, data: body }, acting, ifMatch);
  }

  @CaseActionRoute('withdraw', 'Withdraw the request (before any refund is issued)', { withoutBody: true })
  withdraw(@CaseIdParam() caseId: string, @Body(EmptyBodyPipe) body: Record<string, never>, @Acting() acting: ActingCaller, @IfMatch() ifMatch?: number) {
    return this.act(caseId, { type: 'withdraw', actor: acting.actor, data: body }, acting, ifMatch);
  }

  @CaseActionRoute('urge', 'Urge the awaited party (催单)', { withoutBody: true })
  urge(@CaseIdParam() caseId: string, @Body(EmptyBodyPipe) body: Record<string, never>, @Acting() acting: ActingCaller, @IfMatch() ifMatch?: number) {
    return this.act(caseId, { type: 'urge', actor: acting.actor, data: body }, acting, ifMatch);
  }

  @CaseActionRoute('amend', 'Amend a rejected request and send it back to the merchant')
  amend(@CaseIdParam() caseId: string, @Body() body: AmendDto, @Acting() acting: ActingCaller, @IfMatch() ifMatch?: number) {
    const { evidence, ...rest } = definedFields(body);
    return this.act(caseId, { type: 'amend', actor: acting.actor, data: { ...rest, ...(evidence ? { evidence: [...evidence] } : {}) } }, acting, ifMatch);
  }

  @CaseActionRoute('ship-return', 'Send the goods back with a carrier of the buyer\'s choice')
  async shipReturn(@CaseIdParam() caseId: string, @Body() body: ShipReturnDto, @Acting() acting: ActingCaller, @IfMatch() ifMatch?: number) {
    await this.trackingNumbers.ensureFree(caseId, body.trackingNumber, acting.actor, 'ship-return', ifMatch);
    return this.act(caseId, { type: 'ship-return', actor: acting.actor, data: definedFields(body) }, acting, ifMatch);
  }

  @CaseActionRoute('confirm-receipt', 'Confirm the returned goods arrived, with the inspection result')
  confirmReceipt(@CaseIdParam() caseId: string, @Body() body: ConfirmReceiptDto, @Acting() acting: ActingCaller, @IfMatch() ifMatch?: number) {
    const { evidence, ...rest } = definedFields(body);
    return this.act(caseId, { type: 'confirm-receipt', actor: acting.actor, data: { ...rest, ...(evidence ? { evidence: [...evidence] } : {}) } }, acting, ifMatch);
  }

  @CaseActionRoute('ship-replacement', 'Ship the replacement or the repaired item')
  async shipReplacement(@CaseIdParam() caseId: string, @Body() body: ShipReplacementDto, @Acting() acting: ActingCaller, @IfMatch() ifMatch?: number) {
    await this.trackingNumbers.ensureFree(caseId, body.trackingNumber, acting.actor, 'ship-replacement', ifMatch);
    return this.act(caseId, { type: 'ship-replacement', actor: acting.actor, data: definedFields(body) }, acting, ifMatch);
  }

  @CaseActionRoute('declare-unrepairable', 'Declare the item beyond repair: the buyer is refunded the case\'s lines in full')
  declareUnrepairable(@CaseIdParam() caseId: string, @Body() body: DeclareUnrepairableDto, @Acting() acting: ActingCaller, @IfMatch() ifMatch?: number) {
    return this.act(caseId, { type: 'declare-unrepairable', actor: acting.actor, data: definedFields(body) }, acting, ifMatch);
  }

  @CaseActionRoute('confirm-delivery', 'Confirm the replacement arrived', { withoutBody: true })
  confirmDelivery(@CaseIdParam() caseId: string, @Body(EmptyBodyPipe) body: Record<string, never>, @Acting() acting: ActingCaller, @IfMatch() ifMatch?: number) {
    return this.act(caseId, { type: 'confirm-delivery', actor: acting.actor, data: body }, acting, ifMatch);
  }

  @CaseActionRoute('escalate', 'Ask the platform to step in (平台介入)')
  escalate(@CaseIdParam() caseId: string, @Body() body: EscalateDto, @Acting() acting: ActingCaller, @IfMatch() ifMatch?: number) {
    return this.act(caseId, { type: 'escalate', actor: acting.actor, data: definedFields(body) }, acting, ifMatch);
  }

  @CaseActionRoute('rule', 'Rule on an escalated case')
  rule(@CaseIdParam() caseId: string, @Body() body: RuleDto, @Acting() acting: ActingCaller, @IfMatch() ifMatch?: number) {
    return this.act(caseId, { type: 'rule', actor: acting.actor, data: definedFields(body) }, acting, ifMatch);
  }

  @CaseActionRoute('claim', 'Take an unheld case into the agent\'s own queue', { withoutBody: true })
  claim(@CaseIdParam() caseId: string, @Body(EmptyBodyPipe) body: Record<string, never>, @Acting() acting: ActingCaller, @IfMatch() ifMatch?: number) {
    return this.act(caseId, { type: 'claim', actor: acting.actor, data: body }, acting, ifMatch);
  }

  @CaseActionRoute('release', 'Give a held case back to the pool (the holding agent, or an admin)', { withoutBody: true })
  release(@CaseIdParam() caseId: string, @Body(EmptyBodyPipe) body: Record<string, never>, @Acting() acting: ActingCaller, @IfMatch() ifMatch?: number) {
    return this.act(caseId, { type: 'release', actor: acting.actor, data: body }, acting, ifMatch);
  }

  @CaseActionRoute('assign', 'Give an unheld case to an agent')
  assign(@CaseIdParam() caseId: string, @Body() body: AssignDto, @Acting() acting: ActingCaller, @IfMatch() ifMatch?: number) {
    return this.act(caseId, { type: 'assign', actor: acting.actor, data: definedFields(body) }, acting, ifMatch);
  }

  @CaseActionRoute('transfer', 'Move a held case to another agent')
  transfer(@CaseIdParam() caseId: string, @Body() body: TransferDto, @Acting() acting: ActingCaller, @IfMatch() ifMatch?: number) {
    return this.act(caseId, { type: 'transfer', actor: acting.actor, data: definedFields(body) }, acting, ifMatch);
  }

  @CaseActionRoute('note', 'Add a staff-only note')
  note(@CaseIdParam() caseId: string, @Body() body: NoteDto, @Acting() acting: ActingCaller, @IfMatch() ifMatch?: number) {
    return this.act(caseId, { type: 'note', actor: acting.actor, data: definedFields(body) }, acting, ifMatch);
  }

  @CaseActionRoute('compensate', 'Grant goodwill compensation (赔付) within the agent\'s authority and the case\'s cap')
  compensate(@CaseIdParam() caseId: string, @Body() body: CompensateDto, @Acting() acting: ActingCaller, @IfMatch() ifMatch?: number) {
    return this.act(caseId, { type: 'compensate', actor: acting.actor, data: definedFields(body) }, acting, ifMatch);
  }

  @CaseActionRoute('retry-refund', 'Send a refund given up after its last attempt to the payment centre again, same refundId (any status, ended cases too)')
  retryRefund(@CaseIdParam() caseId: string, @Body() body: RetryRefundDto, @Acting() acting: ActingCaller, @IfMatch() ifMatch?: number) {
    return this.act(caseId, { type: 'retry-refund', actor: acting.actor, data: definedFields(body) }, acting, ifMatch);
  }

  @CaseActionRoute('rate', 'Rate how the case was handled (满意度)')
  rate(@CaseIdParam() caseId: string, @Body() body: RateDto, @Acting() acting: ActingCaller, @IfMatch() ifMatch?: number) {
    return this.act(caseId, { type: 'rate', actor: acting.actor, data: definedFields(body) }, acting, ifMatch);
  }

  private async act(caseId: string, command: UserCaseCommand, acting: ActingCaller, ifMatch: number | undefined): Promise<CaseCommandResponse> {
    return this.answer(await this.gateway.executeCase(caseId, command, acting.origin, ifMatch), acting);
  }

  /** The case as the caller now sees it, rendered from the state the command produced (not re-read, so it is this write's revision). */
  private async answer(result: CaseCommandResult, acting: ActingCaller): Promise<CaseCommandResponse> {
    if (!isOpened(result.state)) throw new Error('a case command succeeded without leaving a case');
    const policy = await this.policies.effectiveFor(result.state.merchantId);
    const view = toCaseView(result.state, result.revision, acting.actor, this.clock.now(), policy, result.buyerFlagged);
    acting.reply.header('ETag', etagOf(result.revision));
    return { ...view, position: result.position };
  }
}
