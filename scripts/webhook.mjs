#!/usr/bin/env node
/**
 * Signs and sends one payment webhook exactly as the gateway does, so an order can be paid (or
 * failed) by hand against a running service:
 *
 *   npm run webhook -- --order 1 --status success [--key K] [--url http://127.0.0.1:3000]
 *
 * Without --url it posts to the service on this machine at PORT (from the environment or `.env`,
 * as the service reads it; 3000 when unset).
 * The body is `{ idempotency_key, order_id, status }` and `X-Signature` is `sha256=<hex>` of the
 * HMAC-SHA256 of those exact bytes (src/common/signature.ts), keyed with WEBHOOK_SECRET, or with
 * the development secret the service itself uses when WEBHOOK_SECRET is unset outside production
 * (src/config/config.ts); like the service, it reads `.env` in the working directory when there is
 * one, and the environment wins over it. Without --key a fresh key is generated; pass the key printed in the
 * answer again to redeliver the same event. Prints the HTTP status and the JSON answer; exits 0 on
 * a 2xx, 1 otherwise, 2 on bad arguments.
 *
 * Plain JavaScript with Node built-ins only, so it runs from a production install (no build, no
 * dev dependencies).
 */
import { createHmac, randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';

/** Must equal DEV_WEBHOOK_SECRET of src/config/config.ts (test/webhook-script.e2e-spec.ts relies on it). */
const DEV_WEBHOOK_SECRET = 'dev-webhook-secret-not-for-production';

const USAGE = 'usage: npm run webhook -- --order <id> --status success|failure [--key <idempotency key>] [--url http://127.0.0.1:3000]';

function fail(message) {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      order: { type: 'string' },
      status: { type: 'string' },
      key: { type: 'string' },
      url: { type: 'string' },
    },
  }));
} catch (err) {
  fail(err.message);
}

// Checked here so a typo is a usage error, not a signed request the service refuses with 400.
if (!/^[1-9]\d*$/.test(values.order ?? '')) fail('--order must be an order id (a positive integer)');
if (values.status !== 'success' && values.status !== 'failure') fail('--status must be success or failure');

// The service reads `.env` from its working directory (the environment wins); so does this script,
// so a WEBHOOK_SECRET kept in `.env` signs with the same key the service checks.
try {
  process.loadEnvFile('.env');
} catch {
  // no .env: the environment alone
}

// The service listens on PORT (3000 when unset or empty).
const url = values.url ?? `http://127.0.0.1:${process.env.PORT || 3000}`;

// Same rule as the service: an unset or empty WEBHOOK_SECRET means the development secret, which
// production refuses; so signing with it in production would only ever get 401.
const secret = process.env.WEBHOOK_SECRET || (process.env.NODE_ENV === 'production' ? undefined : DEV_WEBHOOK_SECRET);
if (secret === undefined) fail('WEBHOOK_SECRET must be set when NODE_ENV=production');

// The signature covers these exact bytes, so they are serialized once and sent as they are.
const body = JSON.stringify({
  idempotency_key: values.key ?? `evt_${randomUUID()}`,
  order_id: Number(values.order),
  status: values.status,
});
const signature = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

let res;
try {
  res = await fetch(new URL('/api/payments/webhook', url), {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-signature': signature },
    body,
    signal: AbortSignal.timeout(10_000),
  });
} catch (err) {
  process.stderr.write(`request to ${url} failed: ${err.cause?.message ?? err.message}\n`);
  process.exit(1);
}

const text = await res.text();
let answer = text;
try {
  answer = JSON.stringify(JSON.parse(text), null, 2);
} catch {
  // not JSON: print it as it came
}
process.stdout.write(`HTTP ${res.status}\n${answer}\n`);
process.exitCode = res.ok ? 0 : 1;
