import type { Actor } from '@aftersales/domain';

/**
 * What part of the cases a caller may read (API.md, "Identity"), as the
 * column a list is bounded by: the same rule as `canSeeCase`, in SQL terms.
 */
export type ReaderScope =
  | { column: 'buyer_id' | 'merchant_id' | 'business_line'; value: string; key: string }
  | { column: 'all'; key: string }
  | { column: 'none'; key: string };

export function readerScope(reader: Actor): ReaderScope {
  switch (reader.role) {
    case 'buyer':
      return { column: 'buyer_id', value: reader.id, key: `buyer:${reader.id}` };
    case 'merchant':
      return reader.merchantId !== undefined
        ? { column: 'merchant_id', value: reader.merchantId, key: `merchant:${reader.merchantId}` }
        : { column: 'none', key: 'none' };
    case 'agent':
      return reader.businessLine !== undefined
        ? { column: 'business_line', value: reader.businessLine, key: `line:${reader.businessLine}` }
        : { column: 'none', key: 'none' };
    case 'arbitrator':
    case 'admin':
      return { column: 'all', key: 'all' };
    default:
      return { column: 'none', key: 'none' };
  }
}
