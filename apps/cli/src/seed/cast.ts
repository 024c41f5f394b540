import type { Actor, OrderLineSnapshot } from '@aftersales/domain';
import type { Random } from './random';

// The people and goods of a seeded marketplace: business lines with their
// merchants, agents and catalogue, arbitrators, an admin, and buyers, a few
// of them abusive and sharing payment accounts.

export interface Product {
  productId: string;
  title: string;
  category: string;
  supplierId: string;
  /** Minor units (分). */
  unitPrice: number;
  noReasonReturn: boolean;
}

export interface BusinessLine {
  name: string;
  merchants: Actor[];
  agents: Actor[];
  products: Product[];
}

export interface Buyer {
  actor: Actor;
  trustScore: number;
  paymentAccount: string;
  /** Many refund-only cases, full amounts, a payment account shared with other buyers. */
  abusive: boolean;
}

export interface Cast {
  lines: BusinessLine[];
  arbitrators: Actor[];
  admin: Actor;
  buyers: Buyer[];
  abusiveBuyers: Buyer[];
}

const CATALOGUE: Readonly<Record<string, readonly [title: string, category: string, price: number, noReason: boolean][]>> = {
  apparel: [
    ['Cotton tee', 'tops', 7_900, true],
    ['Denim jacket', 'outerwear', 39_900, true],
    ['Running shoes', 'shoes', 59_900, true],
    ['Wool scarf', 'accessories', 12_900, true],
    ['Swimsuit', 'swimwear', 15_900, false],
  ],
  electronics: [
    ['Wireless earbuds', 'audio', 29_900, true],
    ['Phone charger', 'accessories', 4_900, true],
    ['Smart watch', 'wearables', 129_900, true],
    ['Bluetooth speaker', 'audio', 19_900, true],
    ['Custom-engraved tablet', 'tablets', 299_900, false],
  ],
  home: [
    ['Ceramic mug set', 'kitchen', 6_900, true],
    ['Desk lamp', 'lighting', 14_900, true],
    ['Down duvet', 'bedding', 49_900, true],
    ['Cast-iron pan', 'kitchen', 24_900, true],
  ],
  groceries: [
    ['Green tea 250 g', 'tea', 8_800, false],
    ['Olive oil 1 l', 'pantry', 9_900, false],
    ['Mixed nuts', 'snacks', 5_900, false],
  ],
};

const AGENT_LIMITS = [5_000, 20_000, 100_000] as const;

/** Enough people that a few thousand cases look like a marketplace's: about one buyer per three cases. */
export function castFor(cases: number, random: Random): Cast {
  const lines: BusinessLine[] = Object.entries(CATALOGUE).map(([name, products], li) => {
    const merchantCount = name === 'groceries' ? 2 : 4;
    return {
      name,
      merchants: Array.from({ length: merchantCount }, (_, mi) => {
        const merchantId = `m-${name}-${mi + 1}`;
        return { role: 'merchant', id: `${merchantId}-staff`, merchantId } satisfies Actor;
      }),
      agents: AGENT_LIMITS.map((authorityLimit, ai) => ({ role: 'agent', id: `agent-${name}-${ai + 1}`, businessLine: name, authorityLimit }) satisfies Actor),
      products: products.map(([title, category, unitPrice, noReasonReturn], pi) => ({
        productId: `p-${name}-${pi + 1}`,
        title,
        category,
        supplierId: `s-${li + 1}-${(pi % 2) + 1}`,
        unitPrice,
        noReasonReturn,
      })),
    };
  });

  const buyerCount = Math.max(12, Math.ceil(cases / 3));
  const buyers: Buyer[] = Array.from({ length: buyerCount }, (_, i) => {
    const id = `u-${String(i + 1).padStart(5, '0')}`;
    // Most buyers are trusted enough for auto-review (600); fewer for express refunds (700).
    const band = random.next();
    const trustScore = band < 0.35 ? random.int(700, 950) : band < 0.75 ? random.int(600, 699) : random.int(300, 599);
    return { actor: { role: 'buyer', id }, trustScore, paymentAccount: `acct-${id}`, abusive: false };
  });

  // Abusive rings: three or four buyers behind one payment account, one ring per 400 requests, so each
  // abusive buyer asks about ten times (a tenth of all requests come from them) and stands out as abusers do.
  const ringCount = Math.max(1, Math.round(cases / 400));
  const abusiveBuyers: Buyer[] = [];
  for (let ring = 0; ring < ringCount; ring += 1) {
    const account = `acct-ring-${ring + 1}`;
    const size = random.int(3, 4);
    for (let k = 0; k < size; k += 1) {
      const id = `u-r${ring + 1}-${k + 1}`;
      abusiveBuyers.push({ actor: { role: 'buyer', id }, trustScore: random.int(620, 760), paymentAccount: account, abusive: true });
    }
  }

  return {
    lines,
    arbitrators: [
      { role: 'arbitrator', id: 'arb-1' },
      { role: 'arbitrator', id: 'arb-2' },
    ],
    admin: { role: 'admin', id: 'admin-1' },
    buyers,
    abusiveBuyers,
  };
}

/** An order's lines: one to three products of the line's catalogue, one or two units each. */
export function orderLines(line: BusinessLine, random: Random): OrderLineSnapshot[] {
  const count = random.weighted([
    { n: 1, weight: 5 },
    { n: 2, weight: 3 },
    { n: 3, weight: 1 },
  ])!.n;
  const products = [...line.products];
  const chosen: Product[] = [];
  for (let i = 0; i < count && products.length > 0; i += 1) chosen.push(products.splice(random.int(0, products.length - 1), 1)[0]);
  return chosen.map((p, i) => {
    const quantity = random.chance(0.25) ? 2 : 1;
    // Discounts make paid amounts uneven, as real orders' are.
    const paidAmount = Math.round((p.unitPrice * quantity * random.int(80, 100)) / 100);
    return {
      lineId: `L${i + 1}`,
      sku: `${p.productId}-${random.pick(['S', 'M', 'L', 'STD'])}`,
      productId: p.productId,
      title: p.title,
      category: p.category,
      supplierId: p.supplierId,
      quantity,
      unitPrice: p.unitPrice,
      paidAmount,
      noReasonReturn: p.noReasonReturn,
    };
  });
}
