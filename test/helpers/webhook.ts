import { signBody } from '../../src/http/signature';
import { TestApp } from './test-app';

/** Superagent's serializer that sends a Buffer body as its bytes. */
export const asIs = (body: unknown) => body as string;

/** Sends a webhook exactly as the gateway does: the raw JSON body, signed with the app's secret. */
export function sendWebhook(t: TestApp, body: unknown, options: { secret?: string; signature?: string | null } = {}) {
  const raw = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  let req = t.http().post('/api/payments/webhook').set('Content-Type', 'application/json');
  const signature = options.signature === undefined ? signBody(raw, options.secret ?? t.config.webhookSecret) : options.signature;
  if (signature !== null) req = req.set('X-Signature', signature);
  // A Buffer is sent byte for byte (superagent would serialize it as JSON otherwise).
  return typeof raw === 'string' ? req.send(raw) : req.serialize(asIs).send(raw);
}
