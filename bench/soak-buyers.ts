/**
 * The buyers of `npm run soak` (bench/soak.ts) and what they were told: every 201 hold and order,
 * every applied payment, so the end of the soak can hold the database to it.
 */
import type { Connection } from 'mysql2/promise';

const HOLD_TTL_MS = 6_000;
const PAYMENT_TTL_MS = 10_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const chance = (p: number) => Math.random() < p;
const pick = <T>(xs: T[]): T => xs[Math.floor(Math.random() * xs.length)];

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
}

/** Requests and answers by status, per minute and in total, with latencies. */
export class Tally {
  private minute = { statuses: new Map<string, number>(), ms: [] as number[] };
  private total = new Map<string, number>();

  record(status: string, ms: number): void {
    this.minute.statuses.set(status, (this.minute.statuses.get(status) ?? 0) + 1);
    this.minute.ms.push(ms);
    this.total.set(status, (this.total.get(status) ?? 0) + 1);
  }

  /** The minute's line, and a new minute begins. */
  minuteLine(): string {
    const { statuses, ms } = this.minute;
    this.minute = { statuses: new Map(), ms: [] };
    const sorted = ms.sort((a, b) => a - b);
    return `requests ${ms.length} | ${line(statuses)} | p50 ${percentile(sorted, 50)} ms p99 ${percentile(sorted, 99)} ms`;
  }

  totalLine(): string {
    return `requests ${[...this.total.values()].reduce((a, b) => a + b, 0)} | ${line(this.total)}`;
  }
}

function line(statuses: Map<string, number>): string {
  return [...statuses.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([s, n]) => `${s} ${n}`)
    .join(', ');
}

interface Answer {
  status: number | 'net';
  body: Record<string, unknown>;
}

/** The drop: its products, its buyers, and everything the clients were told. */
export class Drop {
  products: number[] = [];
  readonly failures: string[] = [];
  readonly holds = new Map<number, { qty: number; productId: number }>();
  readonly orders = new Map<number, { holdId: number; qty: number }>();
  /** Orders a webhook answered `applied` for, with the status it answered. */
  readonly applied = new Map<number, string>();
  private readonly late: Array<Promise<void>> = [];
  private seq = 0;

  constructor(
    private readonly urls: () => string[],
    private readonly tally: Tally,
    private readonly auth: { token: string; sign: (raw: string) => string },
  ) {}

  /** One hot product and four quieter ones, created through the admin route. */
  async setUp(url: string): Promise<void> {
    for (const stock of [400, 150, 150, 150, 150]) {
      const res = await this.send(
        url,
        'POST',
        '/api/products',
        { name: `Soak ${stock}`, price: '25.00', stock },
        { Authorization: `Bearer ${this.auth.token}` },
      );
      if (res.status !== 201) throw new Error(`creating a product answered ${res.status}`);
      this.products.push(res.body.id as number);
    }
  }

  private async send(url: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
    const started = Date.now();
    try {
      const raw = body === undefined ? undefined : JSON.stringify(body);
      const res = await fetch(url + path, {
        method,
        headers: raw === undefined ? headers : { 'content-type': 'application/json', ...headers },
        body: raw,
        signal: AbortSignal.timeout(10_000),
      });
      const text = await res.text();
      this.tally.record(String(res.status), Date.now() - started);
      return { status: res.status, body: text.startsWith('{') ? (JSON.parse(text) as Record<string, unknown>) : {} };
    } catch {
      this.tally.record('net', Date.now() - started);
      return { status: 'net', body: {} };
    }
  }

  /** A request to a live instance, picked at random; a keyed one is retried (same key) on a lost answer, 409 in flight or 503. */
  private async call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}, retry = false): Promise<Answer> {
    for (let attempt = 1; ; attempt++) {
      const urls = this.urls();
      const res = urls.length ? await this.send(pick(urls), method, path, body, headers) : { status: 'net' as const, body: {} };
      const again = res.status === 'net' || res.status === 503 || (res.status === 409 && res.body.error === 'idempotency_key_in_flight');
      if (!again || !retry || attempt >= 30) return res;
      await sleep(200 + Math.random() * 300 * Math.min(attempt, 5));
    }
  }

  async buyer(i: number, done: () => boolean): Promise<void> {
    while (!done()) {
      await this.call('GET', chance(0.2) ? '/api/products' : `/api/products/${pick(this.products)}`);
      if (i === 0 && chance(0.05)) await this.restock();
      await this.purchase().catch((err: unknown) => this.failures.push(`buyer ${i}: ${String(err)}`));
      await sleep(50 + Math.random() * 250);
    }
  }

  private async restock(): Promise<void> {
    await this.call('PATCH', `/api/products/${pick(this.products)}`, { restock: 20 }, { Authorization: `Bearer ${this.auth.token}` });
  }

  private async purchase(): Promise<void> {
    const productId = chance(0.6) ? this.products[0] : pick(this.products.slice(1));
    const qty = 1 + Math.floor(Math.random() * 3);
    const keyed = chance(0.5);
    const key = `soak-h-${process.pid}-${++this.seq}`;
    const hold = await this.call('POST', '/api/holds', { product_id: productId, qty }, keyed ? { 'Idempotency-Key': key } : {}, keyed);
    if (hold.status !== 201) {
      if (hold.status === 409) await sleep(500);
      return;
    }
    const holdId = hold.body.id as number;
    if (this.holds.has(holdId)) this.failures.push(`hold ${holdId} was granted to two requests`);
    this.holds.set(holdId, { qty, productId });
    if (chance(0.3)) return; // abandoned: it lapses
    if (chance(0.05)) await sleep(HOLD_TTL_MS + 500); // too slow: the order is 410
    const orderKeyed = chance(0.5);
    const orderKey = `soak-o-${process.pid}-${++this.seq}`;
    const order = await this.call('POST', '/api/orders', { hold_id: holdId }, orderKeyed ? { 'Idempotency-Key': orderKey } : {}, orderKeyed);
    if (order.status !== 201) return;
    const orderId = order.body.id as number;
    if (this.orders.has(orderId)) this.failures.push(`order ${orderId} was created for two requests`);
    this.orders.set(orderId, { holdId, qty });
    if (chance(0.15)) return; // never paid: it expires
    const outcome = chance(0.85) ? 'success' : 'failure';
    if (chance(0.05)) {
      this.late.push(sleep(PAYMENT_TTL_MS + 1000).then(() => this.pay(orderId, outcome, `soak-late-${orderId}`)));
      return;
    }
    const first = this.pay(orderId, outcome, `soak-e-${orderId}`);
    // Out of order: the opposite outcome under another key, at the same time; the first applied wins.
    const rival = chance(0.1) ? this.pay(orderId, outcome === 'success' ? 'failure' : 'success', `soak-r-${orderId}`) : Promise.resolve();
    await Promise.all([first, rival]);
    if (chance(0.2)) await this.pay(orderId, outcome, `soak-e-${orderId}`); // a redelivery
  }

  /** One signed webhook, redelivered (same key) until it gets an answer; an `applied` answer is recorded. */
  private async pay(orderId: number, status: string, key: string): Promise<void> {
    const raw = JSON.stringify({ idempotency_key: key, order_id: orderId, status });
    const res = await this.call('POST', '/api/payments/webhook', JSON.parse(raw), { 'x-signature': this.auth.sign(raw) }, true);
    if (res.status === 200 && res.body.result === 'applied') {
      const told = this.applied.get(orderId);
      if (told !== undefined && told !== res.body.order_status)
        this.failures.push(`order ${orderId}: applied as ${told} and as ${String(res.body.order_status)}`);
      this.applied.set(orderId, String(res.body.order_status));
    }
  }

  /** Waits for the late webhooks still scheduled. */
  async drain(): Promise<void> {
    await Promise.all(this.late);
  }

  /** What the database holds against what the clients were told; one line per difference. */
  async verify(db: Connection): Promise<string[]> {
    const out = [...this.failures];
    const [holdRows] = (await db.query('SELECT id, qty, product_id FROM holds')) as unknown as [Array<{ id: number; qty: number; product_id: number }>];
    const holds = new Map(holdRows.map((h) => [Number(h.id), h]));
    for (const [id, told] of this.holds) {
      const row = holds.get(id);
      if (!row || Number(row.qty) !== told.qty || Number(row.product_id) !== told.productId)
        out.push(`hold ${id}: told 201 (${told.qty} of ${told.productId}), stored ${JSON.stringify(row)}`);
    }
    const [orderRows] = (await db.query('SELECT id, hold_id, qty, status FROM orders')) as unknown as [
      Array<{ id: number; hold_id: number; qty: number; status: string }>,
    ];
    const orders = new Map(orderRows.map((o) => [Number(o.id), o]));
    const holdsOrdered = new Map<number, number>();
    for (const [id, told] of this.orders) {
      const row = orders.get(id);
      if (!row || Number(row.hold_id) !== told.holdId || Number(row.qty) !== told.qty)
        out.push(`order ${id}: told 201 (hold ${told.holdId}), stored ${JSON.stringify(row)}`);
      const other = holdsOrdered.get(told.holdId);
      if (other !== undefined) out.push(`hold ${told.holdId}: two orders told 201 (${other}, ${id})`);
      holdsOrdered.set(told.holdId, id);
    }
    for (const [id, status] of this.applied) {
      if (orders.get(id)?.status !== status) out.push(`order ${id}: a payment was applied as ${status}, stored ${orders.get(id)?.status}`);
    }
    process.stdout.write(
      `told: ${this.holds.size} holds, ${this.orders.size} orders, ${this.applied.size} applied payments; stored: ${holds.size} holds, ${orders.size} orders\n`,
    );
    return out;
  }
}
