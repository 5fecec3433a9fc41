import { signBody } from '../../src/http/signature';
import { TestApp } from './test-app';

/** Sends a webhook exactly as the gateway does: the raw JSON body, signed with the app's secret. */
export function sendWebhook(t: TestApp, body: unknown, options: { secret?: string; signature?: string | null } = {}) {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  let req = t.http().post('/api/payments/webhook').set('Content-Type', 'application/json');
  const signature = options.signature === undefined ? signBody(raw, options.secret ?? t.config.webhookSecret) : options.signature;
  if (signature !== null) req = req.set('X-Signature', signature);
  return req.send(raw);
}
