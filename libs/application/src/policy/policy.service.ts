import { Inject, Injectable } from '@nestjs/common';
import {
  decidePolicy,
  effectivePolicy,
  effectivePolicyWire,
  merchantPolicyScope,
  type Actor,
  type Policy,
  type PolicyOverrides,
  type PolicyWire,
} from '@aftersales/domain';
import type { AppConfig } from '@aftersales/config';
import type { EventStore } from '@aftersales/event-store';
import { CommandRefusedError } from '../commands/errors';
import { toNewEvents, type CommandOrigin } from '../events/metadata';
import { appendToPolicy, loadPolicy } from '../events/streams';
import { APP_CONFIG, EVENT_STORE } from '../infrastructure/tokens';

export const PLATFORM_SCOPE = 'platform';

/**
 * How long a layered policy is reused before the policy streams are read
 * again. A change made through this process is seen at once; one made by
 * another process within this long (a policy applies to deadlines that start
 * later, so a second's delay is harmless).
 */
const LAYERS_REUSED_MS = 1000;

/** The layers read for one merchant (or the platform alone), and the policy they make once someone asked for it. */
interface RecentLayers {
  layers: Promise<PolicyOverrides[]>;
  readAtMs: number;
  policy?: Policy;
}

export interface PolicyView {
  scope: string;
  overrides: PolicyOverrides;
  effective: PolicyWire;
  revision: number;
}

/**
 * The policy in force: POLICY_* defaults, then the platform's overrides, then
 * the merchant's, field by field. Policies are events (a stream per scope), so
 * the policy in force at any moment can be replayed.
 */
@Injectable()
export class PolicyService {
  private readonly recentLayers = new Map<string, RecentLayers>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  async effectiveFor(merchantId: string | undefined): Promise<Policy> {
    const recent = this.recent(merchantId);
    // Layered once per reuse, not per command: durations are parsed from their ISO text.
    return (recent.policy ??= Object.freeze(effectivePolicy(...(await recent.layers))));
  }

  async effectiveWireFor(merchantId: string | undefined): Promise<PolicyWire> {
    return effectivePolicyWire(...(await this.recent(merchantId).layers));
  }

  async view(scope: string): Promise<PolicyView> {
    const loaded = await loadPolicy(this.store, scope);
    const merchantId = scope.startsWith('merchant-') ? scope.slice('merchant-'.length) : undefined;
    return {
      scope,
      overrides: loaded.state.overrides,
      effective: await this.effectiveWireFor(merchantId),
      revision: loaded.revision,
    };
  }

  /** Replaces a scope's overrides; the same overrides again append nothing. */
  async replace(scope: string, overrides: unknown, actor: Actor, origin: CommandOrigin, now: Date): Promise<{ view: PolicyView; position?: number }> {
    const loaded = await loadPolicy(this.store, scope);
    const decision = decidePolicy(loaded.state, { type: 'change-policy', actor, data: { scope, overrides } });
    if (!decision.ok) throw new CommandRefusedError(decision.refusal);
    let position: number | undefined;
    if (decision.events.length > 0) {
      position = (await appendToPolicy(this.store, scope, loaded, toNewEvents(decision.events, origin, now))).lastPosition;
      this.recentLayers.clear();
    }
    return { view: await this.view(scope), position };
  }

  private recent(merchantId: string | undefined): RecentLayers {
    const key = merchantId ?? '';
    const recent = this.recentLayers.get(key);
    if (recent && Date.now() - recent.readAtMs < LAYERS_REUSED_MS) return recent;
    const layers = this.readLayers(merchantId);
    if (this.recentLayers.size >= 10_000) this.recentLayers.clear();
    const fresh: RecentLayers = { layers, readAtMs: Date.now() };
    this.recentLayers.set(key, fresh);
    // A failed read is not remembered.
    layers.catch(() => this.recentLayers.delete(key));
    return fresh;
  }

  private async readLayers(merchantId: string | undefined): Promise<PolicyOverrides[]> {
    const platform = await loadPolicy(this.store, PLATFORM_SCOPE);
    const merchant = merchantId ? await loadPolicy(this.store, merchantPolicyScope(merchantId)) : undefined;
    return [this.config.policyDefaults, platform.state.overrides, merchant?.state.overrides ?? {}];
  }
}
