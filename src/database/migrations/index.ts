import { CheckoutCore1764000000000 } from './1764000000000-CheckoutCore';
import { PaymentEvents1764000000001 } from './1764000000001-PaymentEvents';
import { IdempotencyKeys1764000000002 } from './1764000000002-IdempotencyKeys';
import { OrderTotalWidth1764000000003 } from './1764000000003-OrderTotalWidth';
import { OrdersWithoutHoldForeignKey1764000000004 } from './1764000000004-OrdersWithoutHoldForeignKey';
import { OrderPaymentWindow1764000000005 } from './1764000000005-OrderPaymentWindow';
import { IdempotencyClaims1764000000006 } from './1764000000006-IdempotencyClaims';
import { OrderListingIndexes1764000000007 } from './1764000000007-OrderListingIndexes';
import { Buyers1764000000008 } from './1764000000008-Buyers';
import { StockMovements1764000000009 } from './1764000000009-StockMovements';
import { ExactComparisons1764000000010 } from './1764000000010-ExactComparisons';
import { IdempotencyScopeByBuyer1764000000011 } from './1764000000011-IdempotencyScopeByBuyer';
import { ExpiredOrdersChangedAtDeadline1764000000012 } from './1764000000012-ExpiredOrdersChangedAtDeadline';
import { IdempotencyKeysExact1764000000013 } from './1764000000013-IdempotencyKeysExact';
import { ProductHoldsGranted1764000000014 } from './1764000000014-ProductHoldsGranted';

/** Every migration, in order: the schema changes only through these. */
export const MIGRATIONS = [
  CheckoutCore1764000000000,
  PaymentEvents1764000000001,
  IdempotencyKeys1764000000002,
  OrderTotalWidth1764000000003,
  OrdersWithoutHoldForeignKey1764000000004,
  OrderPaymentWindow1764000000005,
  IdempotencyClaims1764000000006,
  OrderListingIndexes1764000000007,
  Buyers1764000000008,
  StockMovements1764000000009,
  ExactComparisons1764000000010,
  IdempotencyScopeByBuyer1764000000011,
  ExpiredOrdersChangedAtDeadline1764000000012,
  IdempotencyKeysExact1764000000013,
  ProductHoldsGranted1764000000014,
];
