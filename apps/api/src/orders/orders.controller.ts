import { Body, Controller, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { StreamReadsService, toOrderView, type OrderCommandResult } from '@aftersales/application';
import type { Eligibility, OrderSnapshot } from '@aftersales/domain';
import { Roles } from '../auth/decorators';
import { Acting, type ActingCaller } from '../cases/acting';
import { CommandGateway } from '../cases/command-gateway';
import { IdParamPipe } from '../cases/fields';
import { IdPathParam, ProblemResponse } from '../cases/problem-docs';
import { MarkDeliveredDto, MarkShippedDto, RegisterOrderDto } from './order.dto';
import { EligibilityResponse, OrderCommandResponse, OrderResponse } from './order.responses';

const OrderIdParam = () => Param('orderId', IdParamPipe);

/**
 * The order system feeds orders here (integration role); everyone who may
 * see an order reads it, straight from its stream, with its refund ledger.
 */
@ApiTags('orders')
@Controller('v1/orders')
export class OrdersController {
  constructor(
    private readonly gateway: CommandGateway,
    private readonly reads: StreamReadsService,
  ) {}

  @Put(':orderId')
  @Roles('integration')
  @ApiOperation({ summary: 'Register the order snapshot (OrderRegistered); the same snapshot again changes nothing' })
  @IdPathParam('orderId', 'The platform\'s order id')
  @ApiCreatedResponse({ type: OrderCommandResponse, description: 'Registered now' })
  @ApiOkResponse({ type: OrderCommandResponse, description: 'The same snapshot was registered already; nothing appended' })
  @ProblemResponse(409, 'The order is registered with a different snapshot (`reason: order_snapshot_differs`)')
  @ProblemResponse(422, 'paidAmount is not the lines\' paidAmount plus shippingFee (`rule: paid_amount_mismatch`), or an Idempotency-Key reused with another body')
  async register(@OrderIdParam() orderId: string, @Body() body: RegisterOrderDto, @Acting() acting: ActingCaller): Promise<OrderCommandResponse> {
    const snapshot: OrderSnapshot = {
      orderId,
      buyerId: body.buyerId,
      merchantId: body.merchantId,
      currency: body.currency,
      paidAmount: body.paidAmount,
      shippingFee: body.shippingFee,
      paymentMethod: body.paymentMethod,
      paymentAccount: body.paymentAccount,
      buyerTrustScore: body.buyerTrustScore,
      returnShippingInsured: body.returnShippingInsured,
      businessLine: body.businessLine,
      placedAt: body.placedAt,
      lines: body.lines.map((l) => ({
        lineId: l.lineId,
        sku: l.sku,
        productId: l.productId,
        title: l.title,
        category: l.category,
        supplierId: l.supplierId,
        quantity: l.quantity,
        unitPrice: l.unitPrice,
        paidAmount: l.paidAmount,
        noReasonReturn: l.noReasonReturn,
      })),
    };
    const result = await this.gateway.executeOrder(orderId, { type: 'register', actor: acting.actor, data: snapshot }, acting.origin);
    acting.reply.status(result.appended ? 201 : 200);
    return this.answer(result);
  }

  @Post(':orderId/shipped')
  @HttpCode(200)
  @Roles('integration')
  @ApiOperation({ summary: 'The order left the warehouse (OrderShipped); the same shipment again changes nothing' })
  @IdPathParam('orderId', 'The platform\'s order id')
  @ApiOkResponse({ type: OrderCommandResponse })
  @ProblemResponse(404, 'Unknown order')
  @ProblemResponse(409, 'The order was shipped with another parcel (`reason: shipment_differs`)')
  async shipped(@OrderIdParam() orderId: string, @Body() body: MarkShippedDto, @Acting() acting: ActingCaller): Promise<OrderCommandResponse> {
    const data = { carrier: body.carrier, trackingNumber: body.trackingNumber, shippedAt: body.shippedAt };
    return this.answer(await this.gateway.executeOrder(orderId, { type: 'mark-shipped', actor: acting.actor, data }, acting.origin));
  }

  @Post(':orderId/delivered')
  @HttpCode(200)
  @Roles('integration')
  @ApiOperation({ summary: 'The buyer got the order (OrderDelivered); the same time again changes nothing' })
  @IdPathParam('orderId', 'The platform\'s order id')
  @ApiOkResponse({ type: OrderCommandResponse })
  @ProblemResponse(404, 'Unknown order')
  @ProblemResponse(409, 'Not shipped yet (`allowedActions` lists what the order accepts now), or delivered at another time (`reason: delivery_differs`)')
  @ProblemResponse(422, 'deliveredAt is before shippedAt (`rule: delivered_before_shipped`), or an Idempotency-Key reused with another body')
  async delivered(@OrderIdParam() orderId: string, @Body() body: MarkDeliveredDto, @Acting() acting: ActingCaller): Promise<OrderCommandResponse> {
    return this.answer(
      await this.gateway.executeOrder(orderId, { type: 'mark-delivered', actor: acting.actor, data: { deliveredAt: body.deliveredAt } }, acting.origin),
    );
  }

  @Get(':orderId')
  @Roles('buyer', 'merchant', 'agent', 'arbitrator', 'admin', 'integration')
  @ApiOperation({ summary: 'The snapshot, its progress and the refund ledger, from the order stream' })
  @IdPathParam('orderId', 'The platform\'s order id')
  @ApiOkResponse({ type: OrderResponse })
  @ProblemResponse(404, 'Unknown order, or one the caller may not see')
  view(@OrderIdParam() orderId: string, @Acting() acting: ActingCaller): Promise<OrderResponse> {
    return this.gateway.read('order', () => this.reads.orderView(orderId, acting.actor));
  }

  @Get(':orderId/eligibility')
  @Roles('buyer', 'agent', 'admin')
  @ApiOperation({ summary: 'What a buyer may ask for on each line now, and the policy in force (售后规则展示)' })
  @IdPathParam('orderId', 'The platform\'s order id')
  @ApiOkResponse({ type: EligibilityResponse })
  @ProblemResponse(404, 'Unknown order, or one the caller may not see')
  eligibility(@OrderIdParam() orderId: string, @Acting() acting: ActingCaller): Promise<Eligibility> {
    return this.gateway.read('order', () => this.reads.eligibility(orderId, acting.actor));
  }

  private answer(result: OrderCommandResult): OrderCommandResponse {
    if (result.state.status === 'none') throw new Error('an order command succeeded without leaving an order');
    return { ...toOrderView(result.state, result.revision), position: result.position };
  }
}
