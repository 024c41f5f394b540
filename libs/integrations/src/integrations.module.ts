import { Module, type DynamicModule } from '@nestjs/common';
import type { AppConfig } from '@aftersales/config';
import { HttpShippingInsurer, insuranceClaimsUrl } from './insurance/http-shipping-insurer';
import { SandboxShippingInsurer } from './insurance/sandbox-shipping-insurer';
import { SHIPPING_INSURER, type ShippingInsurer } from './insurance/shipping-insurer';
import { CARRIER, type Carrier } from './logistics/carrier';
import { HttpCarrier } from './logistics/http-carrier';
import { SandboxCarrier } from './logistics/sandbox-carrier';
import { HttpPaymentCentre } from './payments/http-payment-centre';
import { PAYMENT_CENTRE, type PaymentCentre } from './payments/payment-centre';
import { SandboxPaymentCentre } from './payments/sandbox-payment-centre';

type IntegrationsConfig = AppConfig['integrations'];

export interface IntegrationsOptions {
  /** How long one request to a real provider may take (default 10 s). */
  timeoutMs?: number;
  /** Have the sandbox carrier report `collected` and `delivered` by itself (see SandboxCarrier); off by default. */
  sandboxProgressAfterMs?: number;
}

const required = (value: string | undefined, variable: string): string => {
  if (!value) throw new Error(`${variable} is required when its provider is http`);
  return value;
};

/** The payment centre PAYMENTS names: the sandbox settling through our own callback, or the real one over HTTP. */
export function paymentCentreFor(config: IntegrationsConfig, options: IntegrationsOptions = {}): PaymentCentre {
  if (config.payments === 'http') {
    return new HttpPaymentCentre({ url: required(config.paymentsUrl, 'PAYMENTS_URL'), secret: config.webhookSecret, timeoutMs: options.timeoutMs });
  }
  return new SandboxPaymentCentre({ baseUrl: config.sandboxCallbackUrl, secret: config.webhookSecret, settleMs: config.sandboxPaymentSettleMs });
}

/** The carrier LOGISTICS names. */
export function carrierFor(config: IntegrationsConfig, options: IntegrationsOptions = {}): Carrier {
  if (config.logistics === 'http') {
    return new HttpCarrier({ url: required(config.logisticsUrl, 'LOGISTICS_URL'), secret: config.webhookSecret, timeoutMs: options.timeoutMs });
  }
  return new SandboxCarrier({ baseUrl: config.sandboxCallbackUrl, secret: config.webhookSecret, progressAfterMs: options.sandboxProgressAfterMs });
}

/** The shipping insurer follows PAYMENTS: the payment centre pays claims out too (see insuranceClaimsUrl). */
export function shippingInsurerFor(config: IntegrationsConfig, options: IntegrationsOptions = {}): ShippingInsurer {
  if (config.payments === 'http') {
    const url = insuranceClaimsUrl(required(config.paymentsUrl, 'PAYMENTS_URL'));
    return new HttpShippingInsurer({ url, secret: config.webhookSecret, timeoutMs: options.timeoutMs });
  }
  return new SandboxShippingInsurer();
}

/**
 * The outbound ports, each with the adapter the configuration chooses. The
 * sandboxes close on application shutdown (their pending callbacks are
 * cancelled), through their own onApplicationShutdown.
 */
@Module({})
export class IntegrationsModule {
  static forRoot(config: AppConfig, options: IntegrationsOptions = {}): DynamicModule {
    return {
      module: IntegrationsModule,
      providers: [
        { provide: PAYMENT_CENTRE, useFactory: () => paymentCentreFor(config.integrations, options) },
        { provide: CARRIER, useFactory: () => carrierFor(config.integrations, options) },
        { provide: SHIPPING_INSURER, useFactory: () => shippingInsurerFor(config.integrations, options) },
      ],
      exports: [PAYMENT_CENTRE, CARRIER, SHIPPING_INSURER],
    };
  }
}
