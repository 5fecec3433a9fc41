import type { Response } from 'supertest';
import { factories } from './factories';
import { startTestApp, TestApp } from './helpers/test-app';

const DB = 'fs_test_idempotency_cross';
const ROUNDS = 30;

/**
 * A client retries through another instance while its first request still runs: four requests
 * with one Idempotency-Key and one body, at once, two on each of two instances over one database,
 * round after round. Every answer must be the key's first answer (as stored) or 409
 * `idempotency_key_in_flight`, never an answer of its own, and there is one effect per key.
 */
describe('Idempotency-Key across instances: a retry gets the first answer or 409 in flight', () => {
  let a: TestApp;
  let b: TestApp;
  let make: ReturnType<typeof factories>;
  let seq = 0;
  const newKey = () => `cross-${Date.now()}-${++seq}`;

  beforeAll(async () => {
    a = await startTestApp(DB, { AVAILABILITY_CACHE_TTL_MS: '0' });
    b = await startTestApp(DB, { AVAILABILITY_CACHE_TTL_MS: '0' }, { fresh: false });
    make = factories(a.dataSource);
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  const stored = async (scope: string, key: string) => {
    const rows: Array<{ status_code: number | null; response_body: string | null }> = await a.dataSource.query(
      'SELECT status_code, response_body FROM idempotency_keys WHERE scope = ? AND idem_key = ?',
      [scope, key],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0].status_code).not.toBeNull();
    return { status: Number(rows[0].status_code), body: JSON.parse(rows[0].response_body ?? 'null') as unknown };
  };

  /** Checks one round's keyed answers against the stored first answer; returns that answer. */
  const expectFirstOrInFlight = async (scope: string, key: string, answers: Response[]) => {
    const first = await stored(scope, key);
    let answered = 0;
    for (const r of answers) {
      if (r.status === 409 && r.body.error === 'idempotency_key_in_flight') continue;
      answered++;
      expect({ key, status: r.status, body: r.body as unknown }).toEqual({ key, ...first });
    }
    expect(answered).toBeGreaterThanOrEqual(1);
    return first;
  };

  it('holds, with the last unit going meanwhile: the replay is the first answer, 201 or 409 insufficient_stock', async () => {
    const outcomes = new Set<number>();
    for (let round = 0; round < ROUNDS; round++) {
      const p = await make.makeProduct({ stock: 1 });
      const key = newKey();
      const body = { product_id: p.id, qty: 1 };
      const keyed = [a, b, a, b].map((app) => app.http().post('/api/holds').set('Idempotency-Key', key).send(body));
      // A buyer without a key races for the one unit, so the key's first answer is either outcome.
      const bare = (round % 2 ? a : b).http().post('/api/holds').send(body);
      const [answers] = await Promise.all([Promise.all(keyed), bare]);
      const first = await expectFirstOrInFlight('holds', key, answers);
      outcomes.add(first.status);
      const [{ n, units }] = await a.dataSource.query('SELECT COUNT(*) AS n, COALESCE(SUM(qty), 0) AS units FROM holds WHERE product_id = ?', [p.id]);
      expect(Number(units)).toBe(Number(n));
      expect(Number(units)).toBeLessThanOrEqual(1);
      if (first.status === 201) expect((first.body as { id: number }).id).toBeGreaterThan(0);
    }
    expect(outcomes.has(201)).toBe(true);
  });

  it('orders: the replay is the first 201, never 409 hold_already_used', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const p = await make.makeProduct({ stock: 5 });
      const hold = await make.makeHold({ productId: p.id, qty: 1 });
      const key = newKey();
      const answers = await Promise.all([a, b, a, b].map((app) => app.http().post('/api/orders').set('Idempotency-Key', key).send({ hold_id: hold.id })));
      const first = await expectFirstOrInFlight('orders', key, answers);
      expect(first.status).toBe(201);
      const [{ n }] = await a.dataSource.query('SELECT COUNT(*) AS n FROM orders WHERE hold_id = ?', [hold.id]);
      expect(Number(n)).toBe(1);
    }
  });
});
