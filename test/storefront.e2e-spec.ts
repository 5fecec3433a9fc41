import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Browser, chromium, Page } from 'playwright-core';
import { factories } from './factories';
import { BUYER_SECRET } from './helpers/buyer-tokens';
import { TcpProxy } from './helpers/tcp-proxy';
import { startTestApp, TEST_ENV, TestApp } from './helpers/test-app';
import { timed } from './helpers/wait';
import { sendWebhook } from './helpers/webhook';

/** What the functions run in the page touch of the browser (the tests compile without the DOM library). */
interface PageElement {
  textContent: string | null;
  dataset: Record<string, string | undefined>;
  getAttribute(name: string): string | null;
}
declare const document: { getElementById(id: string): PageElement | null; querySelector(selector: string): PageElement | null; cookie: string };
declare const location: { href: string };
declare const localStorage: { length: number };
declare const sessionStorage: { length: number };

const DB = 'fs_test_storefront';
const TOKEN = 'storefront-admin-token';
/** Debian's Chromium (`apt-get install chromium`; .ci/run installs it when missing). */
const CHROMIUM = '/usr/bin/chromium';
/** Screenshots for people to look at (gitignored). */
const OUTPUT = join(__dirname, '..', 'test-output');

describe('the storefront and the operator view in a real browser (headless Chromium)', () => {
  /** HOLD_TTL_SECONDS=2: holds lapse during the test. */
  let short: TestApp;
  /** The same database with long holds, for orders, and an admin token. */
  let long: TestApp;
  /** The same database with BUYER_AUTH=jwt: the buyer routes answer 401 to the page, which has no token. */
  let jwt: TestApp;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    mkdirSync(OUTPUT, { recursive: true });
    short = await startTestApp(DB, { HOLD_TTL_SECONDS: '2' }, { seed: true });
    long = await startTestApp(DB, { ADMIN_TOKEN: TOKEN }, { fresh: false, seed: false });
    jwt = await startTestApp(DB, { BUYER_AUTH: 'jwt', BUYER_JWT_SECRET: BUYER_SECRET }, { fresh: false, seed: false });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });
  beforeEach(async () => {
    page = await browser.newPage({ viewport: { width: 900, height: 800 } });
  });
  afterEach(() => page?.close());
  afterAll(async () => {
    await browser?.close();
    await jwt?.close();
    await long?.close();
    await short?.close();
  });

  const text = (id: string) => page.locator(`#${id}`);
  /** Resolves when the element's text is `expected` (checked on every animation frame). */
  const untilText = (id: string, expected: string, timeout = 10_000) =>
    page.waitForFunction(([i, e]) => document.getElementById(i)?.textContent === e, [id, expected] as const, { timeout });
  /** Resolves when the element's text matches `pattern` (checked on every animation frame). */
  const untilMatch = (id: string, pattern: RegExp, timeout = 10_000) =>
    page.waitForFunction(([i, source]) => new RegExp(source).test(document.getElementById(i)?.textContent ?? ''), [id, pattern.source] as const, { timeout });

  it('serves every page and asset with its media type (text/html, text/javascript, text/css), GET and HEAD', async () => {
    const types: Record<string, string> = {
      '/': 'text/html; charset=utf-8',
      '/index.html': 'text/html; charset=utf-8',
      '/admin.html': 'text/html; charset=utf-8',
      '/storefront.js': 'text/javascript; charset=utf-8',
      '/admin.js': 'text/javascript; charset=utf-8',
      '/style.css': 'text/css; charset=utf-8',
    };
    // Every file of the pages is listed above, so a new one gets its type checked too.
    const files = readdirSync(join(__dirname, '..', 'src', 'live', 'public')).map((f) => `/${f}`);
    expect(files.sort()).toEqual(
      Object.keys(types)
        .filter((p) => p !== '/')
        .sort(),
    );
    for (const [path, type] of Object.entries(types)) {
      for (const method of ['get', 'head'] as const) {
        const res = await short.http()[method](path);
        expect({ method, path, status: res.status, type: res.headers['content-type'] }).toEqual({ method, path, status: 200, type });
      }
    }
  });

  it('shows the demo product live: Reserve drops the count with a countdown, another client moves it within 1.5 s, the lapse brings it back', async () => {
    await page.goto(`${short.url}/`);
    await untilText('available', '100');
    await expect(text('name').textContent()).resolves.toBe('Limited sneaker');
    await untilText('live', 'live');

    await page.selectOption('#qty', '3');
    await page.click('#reserve');
    // The stream's event and the hold's own answer race: either may reach the page first.
    await untilText('available', '97');
    await untilMatch('countdown', /^Expires in \d\.\d s$/);
    await page.screenshot({ path: join(OUTPUT, 'storefront-hold.png') });

    const productId = (await short.http().get('/api/products').expect(200)).body.data[0].id as number;
    const { done } = await timed(() => short.http().post('/api/holds').send({ product_id: productId, qty: 2 }).expect(201));
    await untilText('available', '95');
    expect(Date.now() - done).toBeLessThanOrEqual(1500);

    // Both holds live 2 s: the countdown ends and the units come back, with no click.
    await untilText('countdown', 'Expired.');
    await untilText('available', '100');
  });

  it('Place order shows pending, then paid once the gateway’s signed webhook arrives; a refusal reads as a sentence', async () => {
    const p = await factories(long.dataSource).makeProduct({ name: 'Limited jacket', stock: 2, price: '120.00' });
    await page.goto(`${long.url}/?product=${p.id}`);
    await untilText('available', '2');

    await page.selectOption('#qty', '5');
    await page.click('#reserve');
    await untilText('message', 'Sold out for that quantity: only 2 left.');

    await page.selectOption('#qty', '1');
    await page.click('#reserve');
    await untilText('available', '1');
    await page.click('#place-order');
    await untilText('order-status', 'pending');
    const orderId = Number((await text('order-id').textContent())!.slice(1));

    const hook = await sendWebhook(long, { idempotency_key: `storefront-${orderId}`, order_id: orderId, status: 'success' });
    expect(hook.body.result).toBe('applied');
    await untilText('order-status', 'paid');
    await untilText('stock', '1');
    await page.screenshot({ path: join(OUTPUT, 'storefront-paid.png') });
  });

  it('the countdown runs on the hold’s own lifetime, not the shopper’s clock: a browser ten minutes fast still sees its fresh hold live and orders it', async () => {
    const p = await factories(long.dataSource).makeProduct({ name: 'Skewed clock', stock: 5 });
    await page.clock.install({ time: Date.now() + 10 * 60_000 });
    await page.goto(`${long.url}/?product=${p.id}`);
    await untilText('available', '5');
    await page.click('#reserve');
    // HOLD_TTL_SECONDS is 120 on this instance.
    await untilMatch('countdown', /^Expires in 1[01]\d\.\d s$/);
    await expect(page.isDisabled('#place-order')).resolves.toBe(false);
    await page.click('#place-order');
    await untilText('order-status', 'pending');
  });

  it('Reserve stays disabled while the page has a hold, and once sold out, whichever of the stream’s event and the hold’s answer comes first', async () => {
    const { makeProduct } = factories(long.dataSource);
    // The stream's event first: the hold's answer is held back in the browser until the count has moved.
    const p = await makeProduct({ name: 'Two left', stock: 2 });
    await page.goto(`${long.url}/?product=${p.id}`);
    await untilText('available', '2');
    await page.route('**/api/holds', async (route) => {
      const response = await route.fetch();
      await untilText('available', '1');
      await route.fulfill({ response });
    });
    await page.click('#reserve');
    await untilMatch('countdown', /^Expires in/);
    await expect(page.isDisabled('#reserve')).resolves.toBe(true);
    await page.unroute('**/api/holds');

    // Sold out under the page's feet: another buyer takes the last unit as the page asks; the
    // stream's 0 reaches the page before the 409.
    const q = await makeProduct({ name: 'Last one', stock: 1 });
    await page.goto(`${long.url}/?product=${q.id}`);
    await untilText('available', '1');
    await page.route('**/api/holds', async (route) => {
      await long.http().post('/api/holds').send({ product_id: q.id, qty: 1 }).expect(201);
      const response = await route.fetch();
      await untilText('available', '0');
      await route.fulfill({ response });
    });
    await page.click('#reserve');
    await untilText('message', 'Sold out for that quantity: only 0 left.');
    await expect(page.isDisabled('#reserve')).resolves.toBe(true);
  });

  it('a shopper’s and an operator’s visit log no console error and ask only for the pages’ files and the documented routes (no /favicon.ico)', async () => {
    const errors: string[] = [];
    const paths: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('request', (r) => paths.push(new URL(r.url()).pathname));
    const p = await factories(long.dataSource).makeProduct({ name: 'Quiet visit', stock: 3 });
    await page.goto(`${long.url}/?product=${p.id}`);
    await untilText('live', 'live');
    await page.click('#reserve');
    await untilText('available', '2');
    await page.click('#place-order');
    await untilText('order-status', 'pending');
    await page.goto(`${long.url}/admin.html`);
    await page.fill('#token', TOKEN);
    await page.click('#connect');
    await page.waitForSelector(`tr[data-product-id="${p.id}"]`);
    // A browser asks for /favicon.ico after the first page of a visit loads, unless the page names an icon.
    const allowed =
      /^\/(|index\.html|admin\.html|storefront\.js|admin\.js|style\.css|api\/products\/\d+(\/stream)?|api\/holds|api\/orders(\/\d+)?|api\/admin\/sales)$/;
    expect(paths.filter((path) => !allowed.test(path))).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('with BUYER_AUTH=jwt the page, which has no sign-in, shows the live count and reads a 401 on Reserve as a sentence for a shopper; nothing is held', async () => {
    const p = await factories(jwt.dataSource).makeProduct({ name: 'Members only', stock: 4 });
    await page.goto(`${jwt.url}/?product=${p.id}`);
    await untilText('live', 'live');
    await untilText('available', '4');
    await page.click('#reserve');
    await untilText('message', 'Reserving needs a signed-in buyer, and this page cannot sign you in.');
    expect((await jwt.http().get(`/api/products/${p.id}`).expect(200)).body.available).toBe(4);
  });

  it('hostile product names are shown as text on both pages, and a 200-character name without a space wraps instead of widening the page', async () => {
    const { makeProduct } = factories(long.dataSource);
    const names = ['<img src=x onerror="document.title=1"><script>document.title=2</script>', 'W'.repeat(200), 'مرحبا 😀 שלום 👨‍👩‍👧 abc'];
    const products = [];
    for (const name of names) products.push(await makeProduct({ name, stock: 1 }));
    /** The page's width beyond the 900 px viewport (0 when nothing sticks out). */
    const overflow = () =>
      page.evaluate(() => (document as unknown as { documentElement: { scrollWidth: number; clientWidth: number } }).documentElement.scrollWidth - 900);
    for (const [i, p] of products.entries()) {
      await page.goto(`${long.url}/?product=${p.id}`);
      await untilText('live', 'live');
      await expect(text('name').textContent()).resolves.toBe(names[i]);
      await expect(overflow()).resolves.toBeLessThanOrEqual(0);
    }
    await page.goto(`${long.url}/admin.html`);
    await page.fill('#token', TOKEN);
    await page.click('#connect');
    for (const [i, p] of products.entries()) {
      await page.waitForFunction(([n, name]) => document.querySelector(`tr[data-product-id="${n}"] td:nth-child(2)`)?.textContent === name, [
        p.id,
        names[i],
      ] as const);
    }
    await expect(overflow()).resolves.toBeLessThanOrEqual(0);
    await expect(page.title()).resolves.toBe("Flash sale: operator's view");
  });

  it('?product= with an unknown or invalid id says the product does not exist, instead of “Loading…” and “connecting…”, and Reserve stays disabled', async () => {
    for (const id of ['9007199254740991', 'abc', '0', '1.5']) {
      await page.goto(`${long.url}/?product=${id}`);
      await untilText('message', 'This product does not exist.');
      expect([await text('name').textContent(), await text('live').textContent(), await page.isDisabled('#reserve')]).toEqual([
        'No such product',
        'not connected',
        true,
      ]);
    }
  });

  it('the operator view, with a token typed in, lists the products and charts a burst of holds', async () => {
    const p = await factories(long.dataSource).makeProduct({ name: 'Burst product', stock: 10_000 });
    await page.goto(`${long.url}/admin.html`);
    await page.fill('#token', TOKEN);
    await page.click('#connect');
    await page.waitForSelector(`tr[data-product-id="${p.id}"]`);
    // Bursts across several of the page's one-second reads, so that the chart has a rate to draw.
    for (let wave = 0; wave < 3; wave++) {
      await Promise.all(Array.from({ length: 40 }, () => long.http().post('/api/holds').send({ product_id: p.id, qty: 1 }).expect(201)));
      await page.waitForFunction((n) => Number(document.querySelector(`tr[data-product-id="${n}"] td:nth-child(5)`)?.textContent) >= 1, p.id);
    }
    await page.waitForFunction(() => Number(document.getElementById('chart')?.dataset.peakHolds) > 0, null, { timeout: 10_000 });
    await page.waitForFunction(() => (document.getElementById('holds-line')?.getAttribute('points') ?? '').split(' ').length >= 2);
    await page.waitForFunction((n) => document.querySelector(`tr[data-product-id="${n}"] td:nth-child(5)`)?.textContent === '120', p.id);
    await page.screenshot({ path: join(OUTPUT, 'admin.png') });
    // The token lives in the page's memory only.
    await expect(page.evaluate(() => [localStorage.length, sessionStorage.length, document.cookie, location.href])).resolves.toEqual([
      0,
      0,
      '',
      `${long.url}/admin.html`,
    ]);
  });
});

describe('the storefront when the service or its database goes away (headless Chromium)', () => {
  /** Between the service and MariaDB: `down()` is a database outage. */
  const db = new TcpProxy(TEST_ENV.DB_HOST, Number(TEST_ENV.DB_PORT));
  let t: TestApp;
  /** Between the browser and the service: `down()` breaks the page's stream as a restart does. */
  let front: TcpProxy;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    await db.up();
    t = await startTestApp(`${DB}_outage`, { DB_PORT: String(db.port), DB_CONNECT_TIMEOUT_MS: '1000', AVAILABILITY_CACHE_TTL_MS: '0' }, { seed: true });
    front = new TcpProxy('127.0.0.1', Number(new URL(t.url).port));
    await front.up();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });
  beforeEach(async () => {
    page = await browser.newPage();
  });
  afterEach(() => page?.close());
  afterAll(async () => {
    await browser?.close();
    await front?.down();
    await db.up().catch(() => undefined);
    await t?.close();
    await db.down();
  });

  const untilText = (id: string, expected: string, timeout = 15_000) =>
    page.waitForFunction(([i, e]) => document.getElementById(i)?.textContent === e, [id, expected] as const, { timeout });

  it('opened while the database is down, the page says the shop is busy and shows the product by itself once the database is back', async () => {
    await db.down();
    await page.goto(`http://127.0.0.1:${front.port}/`);
    await untilText('message', 'The shop is busy right now; try again in a moment.');
    await db.up();
    await untilText('name', 'Limited sneaker');
    await untilText('live', 'live');
    await untilText('message', '');
  });

  it('a stream refused 503 on reconnect (database down) is opened again by the page, which goes live with the current value once the database is back', async () => {
    const productId = (await t.http().get('/api/products').expect(200)).body.data[0].id as number;
    await page.goto(`http://127.0.0.1:${front.port}/`);
    await untilText('live', 'live');
    await untilText('available', '100');

    const refused = page.waitForResponse((r) => r.url().endsWith(`/api/products/${productId}/stream`) && r.status() === 503, { timeout: 15_000 });
    await front.down();
    await untilText('live', 'reconnecting…');
    await db.down();
    await front.up();
    // EventSource gives up for good on an HTTP error status (HTML standard): the page must not.
    await refused;
    // A hold asked for meanwhile is a 503, read as a sentence.
    await page.click('#reserve');
    await untilText('message', 'The shop is busy right now; try again in a moment.');
    await db.up();
    await t.http().post('/api/holds').send({ product_id: productId, qty: 4 }).expect(201);
    await untilText('available', '96');
    await untilText('live', 'live');
  });
});
