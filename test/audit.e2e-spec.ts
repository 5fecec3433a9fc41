import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection } from 'mysql2/promise';
import { factories } from './factories';
import { runAudit } from './helpers/audit';
import { connectTestDb, startTestApp, TestApp, testDbName } from './helpers/test-app';
import { sendWebhook } from './helpers/webhook';

const DB = 'fs_test_audit';
const COPY = `${testDbName(DB)}_copy`;
const TABLES = ['products', 'holds', 'orders', 'payment_events', 'stock_movements'];

/**
 * The audit against a database a sale has used through HTTP: clean, also while holds are being
 * placed; then each kind of corruption, made with SQL on a fresh copy of that data, is reported
 * (one line naming the product, order or hold it concerns) with exit code 1.
 */
describe('npm run audit', () => {
  let t: TestApp;
  let db: Connection;
  /** The products, orders and holds the sale made, by what happened to them. */
  const sale = { product: 0, other: 0, burst: 0, paidOrder: 0, paidHold: 0, cancelledOrder: 0, pendingOrder: 0, activeHold: 0 };

  beforeAll(async () => {
    t = await startTestApp(DB, { AVAILABILITY_CACHE_TTL_MS: '0' });
    db = await connectTestDb(DB);
    const { makeProduct } = factories(t.dataSource);
    sale.product = (await makeProduct({ stock: 20 })).id;
    sale.other = (await makeProduct({ stock: 3 })).id;
    sale.burst = (await makeProduct({ stock: 30 })).id;
    const hold = async (productId: number, qty: number) =>
      (await t.http().post('/api/holds').send({ product_id: productId, qty }).expect(201)).body.id as number;
    const order = async (holdId: number) => (await t.http().post('/api/orders').send({ hold_id: holdId }).expect(201)).body.id as number;
    sale.paidHold = await hold(sale.product, 2);
    sale.paidOrder = await order(sale.paidHold);
    sale.cancelledOrder = await order(await hold(sale.product, 1));
    sale.pendingOrder = await order(await hold(sale.product, 3));
    sale.activeHold = await hold(sale.product, 1);
    await hold(sale.other, 2);
    await sendWebhook(t, { idempotency_key: 'audit-pay', order_id: sale.paidOrder, status: 'success' }).expect(200);
    await sendWebhook(t, { idempotency_key: 'audit-fail', order_id: sale.cancelledOrder, status: 'failure' }).expect(200);
  });
  afterAll(async () => {
    await db?.query(`DROP DATABASE IF EXISTS \`${COPY}\``);
    await db?.end();
    await t?.close();
  });

  /** A fresh copy of the sale's tables in COPY, `corrupt` applied to it, and the audit of the copy. */
  async function auditCorrupted(corrupt: string[]) {
    await db.query(`DROP DATABASE IF EXISTS \`${COPY}\``);
    await db.query(`CREATE DATABASE \`${COPY}\``);
    for (const table of TABLES) {
      await db.query(`CREATE TABLE \`${COPY}\`.${table} LIKE ${table}`);
      await db.query(`INSERT INTO \`${COPY}\`.${table} SELECT * FROM ${table}`);
    }
    for (const sql of corrupt) await db.query(sql.replaceAll('{db}', `\`${COPY}\``));
    return runAudit(COPY, { exact: true });
  }

  it('is clean on the database the sale left, and on an unchanged copy of it', async () => {
    await expect(runAudit(DB)).resolves.toMatchObject({ code: 0, lines: [] });
    await expect(auditCorrupted([])).resolves.toMatchObject({ code: 0, lines: [] });
  });

  it('reads .env in its working directory, as the service does, a variable of the environment winning', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fs-audit-env-'));
    try {
      // The database is named only in .env: the audit checks that one (it checked `flash_sale`).
      writeFileSync(join(dir, '.env'), `DB_NAME=${testDbName(DB)}\n`);
      const fromDotenv = await runAudit(null, { cwd: dir });
      expect({ code: fromDotenv.code, stderr: fromDotenv.stderr }).toEqual({
        code: 0,
        stderr: expect.stringMatching(new RegExp(`^audit of ${testDbName(DB)}: `)),
      });
      // DB_NAME in the environment wins over the one in .env.
      writeFileSync(join(dir, '.env'), 'DB_NAME=fs_test_audit_never_created\n');
      const envWins = await runAudit(DB, { cwd: dir });
      expect({ code: envWins.code, stderr: envWins.stderr }).toEqual({
        code: 0,
        stderr: expect.stringMatching(new RegExp(`^audit of ${testDbName(DB)}: `)),
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is clean while a burst of holds and orders runs (it reads consistent snapshots, and takes no locks)', async () => {
    const burst = Promise.all(
      Array.from({ length: 40 }, async () => {
        const res = await t.http().post('/api/holds').send({ product_id: sale.burst, qty: 1 });
        if (res.status === 201) await t.http().post('/api/orders').send({ hold_id: res.body.id }).expect(201);
      }),
    );
    const audits = await Promise.all([runAudit(DB), runAudit(DB), burst.then(() => runAudit(DB))]);
    for (const a of audits) expect(a).toMatchObject({ code: 0, lines: [] });
  });

  it('is clean on a database migrated from before the ledger: orders paid before it have no sale movement', async () => {
    // What migration 1764000000009 leaves for a product older than the ledger: no history, one
    // `opening` movement with the stock and reserved of that moment (its paid order's units long
    // out of stock, with no `sale` movement).
    const migrated = [
      `DELETE FROM {db}.stock_movements WHERE product_id = ${sale.product}`,
      `INSERT INTO {db}.stock_movements (product_id, kind, stock_delta, reserved_delta, created_at)
         SELECT id, 'opening', stock, reserved, UTC_TIMESTAMP(3) FROM {db}.products WHERE id = ${sale.product}`,
    ];
    await expect(auditCorrupted(migrated)).resolves.toMatchObject({ code: 0, lines: [] });
    // A payment after the ledger began still needs its sale movement.
    const unrecorded = await auditCorrupted([
      ...migrated,
      `UPDATE {db}.orders SET status = 'paid', updated_at = UTC_TIMESTAMP(3) + INTERVAL 1 SECOND WHERE id = ${sale.pendingOrder}`,
      `UPDATE {db}.products SET reserved = reserved - 3 WHERE id = ${sale.product}`,
      `INSERT INTO {db}.stock_movements (product_id, kind, stock_delta, reserved_delta, order_id, created_at) VALUES (${sale.product}, 'cancel', 0, -3, ${sale.pendingOrder}, UTC_TIMESTAMP(3))`,
      `INSERT INTO {db}.payment_events (idempotency_key, order_id, status, result, order_status, received_at, settled_at)
         VALUES ('audit-after-ledger', ${sale.pendingOrder}, 'success', 'applied', 'paid', UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))`,
    ]);
    expect(unrecorded.lines).toEqual([`product ${sale.product}: paid orders hold 3 units but sale movements took 0 out of stock`]);
    expect(unrecorded.code).toBe(1);
  });

  it.each([
    [
      'a movement lost',
      () => [`DELETE FROM {db}.stock_movements WHERE kind = 'hold' AND hold_id = ${sale.activeHold}`],
      () => [`product ${sale.product}: reserved 4 but its movements sum to 3`],
    ],
    [
      'stock changed without a movement',
      () => [`UPDATE {db}.products SET stock = stock + 1 WHERE id = ${sale.product}`],
      () => [`product ${sale.product}: stock 19 but its movements sum to 18`],
    ],
    [
      'reserved and a movement that no hold or order accounts for',
      () => [
        `UPDATE {db}.products SET reserved = reserved + 2 WHERE id = ${sale.product}`,
        `INSERT INTO {db}.stock_movements (product_id, kind, stock_delta, reserved_delta, created_at) VALUES (${sale.product}, 'hold', 0, 2, NOW(3))`,
      ],
      () => [
        `product ${sale.product}: reserved 6 but its active holds (1) and pending orders (3) hold 4`,
        `product ${sale.product}: holds_granted 4 but its ledger granted 5 holds`,
      ],
    ],
    [
      'a hold granted without being counted',
      () => [`UPDATE {db}.products SET holds_granted = holds_granted - 1 WHERE id = ${sale.product}`],
      () => [`product ${sale.product}: holds_granted 3 but its ledger granted 4 holds`],
    ],
    [
      'a paid order whose units are still in stock',
      () => [
        `UPDATE {db}.products SET stock = stock + 2 WHERE id = ${sale.product}`,
        `DELETE FROM {db}.stock_movements WHERE kind = 'sale' AND order_id = ${sale.paidOrder}`,
        `INSERT INTO {db}.stock_movements (product_id, kind, stock_delta, reserved_delta, order_id, created_at) VALUES (${sale.product}, 'cancel', 0, -2, ${sale.paidOrder}, NOW(3))`,
      ],
      () => [`product ${sale.product}: paid orders hold 2 units but sale movements took 0 out of stock`],
    ],
    [
      'a hold with two orders',
      () => [
        `ALTER TABLE {db}.orders DROP INDEX uq_orders_hold_id`,
        `INSERT INTO {db}.orders (hold_id, product_id, qty, unit_price, total, status, expires_at, refund_due, created_at, updated_at)
           SELECT hold_id, product_id, qty, unit_price, total, 'cancelled', expires_at, refund_due, created_at, updated_at FROM {db}.orders WHERE id = ${sale.paidOrder}`,
      ],
      (copy: string[]) => [`hold ${sale.paidHold}: order ${copy[0]} is a second order of this hold`],
    ],
    [
      'a paid order without its applied payment event',
      () => [`DELETE FROM {db}.payment_events WHERE order_id = ${sale.paidOrder}`],
      () => [`order ${sale.paidOrder}: paid with 0 applied payment events`],
    ],
    [
      'a paid order with two applied payment events',
      () => [
        `INSERT INTO {db}.payment_events (idempotency_key, order_id, status, result, order_status, received_at, settled_at)
           VALUES ('audit-twice', ${sale.paidOrder}, 'success', 'applied', 'paid', NOW(3), NOW(3))`,
      ],
      () => [`order ${sale.paidOrder}: paid with 2 applied payment events`],
    ],
    [
      'an applied event whose order is not in the state it set',
      () => [`UPDATE {db}.payment_events SET order_status = 'cancelled', status = 'failure' WHERE order_id = ${sale.paidOrder}`],
      () => [`order ${sale.paidOrder}: is paid but its applied payment event set it cancelled`],
    ],
    [
      'an applied event of an order that does not exist',
      () => [
        `INSERT INTO {db}.payment_events (idempotency_key, order_id, status, result, order_status, received_at, settled_at)
           VALUES ('audit-orphan', 999999, 'success', 'applied', 'paid', NOW(3), NOW(3))`,
      ],
      () => [expect.stringMatching(/^payment event \d+: applied, but its order 999999 does not exist$/)],
    ],
    [
      'negative figures in the movements',
      () => [`DELETE FROM {db}.stock_movements WHERE product_id = ${sale.product} AND kind = 'opening'`],
      () => [`product ${sale.product}: stock 18 but its movements sum to -2`, `product ${sale.product}: negative stock in its movements (-2)`],
    ],
    [
      'availability below zero (more reserved than there is stock, nothing lapsed)',
      () => [
        `UPDATE {db}.products SET stock = 1 WHERE id = ${sale.other}`,
        `INSERT INTO {db}.stock_movements (product_id, kind, stock_delta, reserved_delta, created_at) VALUES (${sale.other}, 'restock', -2, 0, NOW(3))`,
      ],
      () => [`product ${sale.other}: negative availability -1 (stock 1, reserved 2, lapsed 0)`],
    ],
  ])('finds %s', async (_name, corrupt, expected) => {
    const run = await auditCorrupted(corrupt());
    const [maxOrder] = (await db.query(`SELECT MAX(id) AS id FROM \`${COPY}\`.orders`)) as unknown as [Array<{ id: number }>];
    expect(run.lines).toEqual(expected([String(maxOrder[0].id)]));
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`${expected([String(maxOrder[0].id)]).length} discrepancies`));
  });
});
