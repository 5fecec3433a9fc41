/**
 * A drop's opening seconds against one hot product: `requests` holds of 1 unit from `connections`
 * clients at once. A share of them are impatient: they give up after 100–300 ms (closing their
 * connection, as a browser or a client timeout does) and retry at once. A share carry an
 * Idempotency-Key, kept across the retry, as a careful client does. Used by `npm run bench` and by
 * test/stampede.load-spec.ts, which asserts what it must never do.
 */
import { Agent, request } from 'node:http';
import { readFileSync } from 'node:fs';

export interface StampedeOptions {
  url: string;
  productId: number;
  requests: number;
  connections: number;
  /** Share of requests whose client gives up after 100–300 ms and retries once, patiently. */
  impatientShare?: number;
  /** Share of requests sent with an Idempotency-Key (kept for the retry). */
  keyedShare?: number;
  /** The service's pid, to sample its resident memory. */
  pid?: number;
}

export interface StampedeResult {
  requests: number;
  attempts: number;
  gaveUp: number;
  status: Record<string, number>;
  /** Connection errors (not answers). */
  errors: number;
  /** Ids of the holds the clients were told about (201), distinct. */
  grantedIds: Set<number>;
  grantedUnits: number;
  /** Answers that break the overload promise: a 5xx other than 503 with Retry-After. */
  broken: string[];
  durationMs: number;
  answeredPerSecond: number;
  p50GrantedMs: number;
  p99GrantedMs: number;
  shedShare: number;
  peakRssMb: number | undefined;
}

interface Answer {
  status: number;
  retryAfter?: string;
  body: string;
  ms: number;
}

/** Resident memory of a process in MiB (Linux), or undefined. */
export function rssMb(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export async function stampede(o: StampedeOptions): Promise<StampedeResult> {
  const impatientShare = o.impatientShare ?? 1 / 3;
  const keyedShare = o.keyedShare ?? 0.5;
  const agent = new Agent({ keepAlive: true, maxSockets: o.connections });
  const target = new URL('/api/holds', o.url);
  const body = JSON.stringify({ product_id: o.productId, qty: 1 });
  const runTag = `${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
  const result: StampedeResult = {
    requests: o.requests,
    attempts: 0,
    gaveUp: 0,
    status: {},
    errors: 0,
    grantedIds: new Set(),
    grantedUnits: 0,
    broken: [],
    durationMs: 0,
    answeredPerSecond: 0,
    p50GrantedMs: 0,
    p99GrantedMs: 0,
    shedShare: 0,
    peakRssMb: undefined,
  };
  const grantedMs: number[] = [];

  /** One attempt; resolves undefined when the client gave up (after `patienceMs`) or the connection failed. */
  const attempt = (key: string | undefined, patienceMs: number | undefined): Promise<Answer | undefined> =>
    new Promise((resolve) => {
      result.attempts++;
      const started = performance.now();
      const headers: Record<string, string> = { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) };
      if (key) headers['idempotency-key'] = key;
      let settled = false;
      const done = (a: Answer | undefined) => {
        if (settled) return;
        settled = true;
        if (timer) clearTimeout(timer);
        resolve(a);
      };
      const req = request(target, { method: 'POST', agent, headers }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => done({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'], body: text, ms: performance.now() - started }));
        res.on('error', () => done(undefined));
      });
      const timer =
        patienceMs === undefined
          ? undefined
          : setTimeout(
              // Timers run before pending I/O in Node's loop: an answer that already arrived while
              // this process was busy is read first (two turns of the loop: what arrived during the
              // last one too), so only a real wait gives up.
              () =>
                setImmediate(() =>
                  setImmediate(() => {
                    if (settled) return;
                    result.gaveUp++;
                    req.destroy(); // closes the connection, as a client that gives up does
                    done(undefined);
                  }),
                ),
              patienceMs,
            );
      req.on('error', () => {
        if (!settled) result.errors++;
        done(undefined);
      });
      req.end(body);
    });

  const record = (a: Answer) => {
    result.status[a.status] = (result.status[a.status] ?? 0) + 1;
    if (a.status >= 500 && !(a.status === 503 && a.retryAfter)) result.broken.push(`${a.status} ${a.body.slice(0, 200)}`);
    if (a.status === 201) {
      const id = (JSON.parse(a.body) as { id: number }).id;
      if (!result.grantedIds.has(id)) {
        result.grantedIds.add(id);
        result.grantedUnits += 1;
      }
      grantedMs.push(a.ms);
    }
  };

  let peak: number | undefined;
  const sampler = o.pid
    ? setInterval(() => {
        const rss = rssMb(o.pid as number);
        if (rss !== undefined) peak = Math.max(peak ?? 0, rss);
      }, 100)
    : undefined;

  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < o.requests) {
      const i = next++;
      // Spread the kinds evenly over the run (deterministic, so runs compare).
      const impatient = (i * 7919) % 1000 < impatientShare * 1000;
      const key = (i * 104729) % 1000 < keyedShare * 1000 ? `stampede-${runTag}-${i}` : undefined;
      const first = await attempt(key, impatient ? 100 + ((i * 31) % 201) : undefined);
      if (first) {
        record(first);
        continue;
      }
      // The retry is patient; with a key, while the first attempt is still in flight (409) it asks
      // again shortly, as the contract invites, until it gets the key's answer.
      for (let tries = 0; tries < 40; tries++) {
        const retry = await attempt(key, undefined);
        if (!retry) break;
        if (retry.status === 409 && retry.body.includes('idempotency_key_in_flight')) {
          await new Promise((r) => setTimeout(r, 50));
          continue;
        }
        record(retry);
        break;
      }
    }
  };
  await Promise.all(Array.from({ length: o.connections }, worker));
  result.durationMs = performance.now() - started;
  if (sampler) clearInterval(sampler);
  agent.destroy();
  const answered = Object.values(result.status).reduce((a, b) => a + b, 0);
  result.answeredPerSecond = Math.round(answered / (result.durationMs / 1000));
  result.p50GrantedMs = Math.round(percentile(grantedMs, 50));
  result.p99GrantedMs = Math.round(percentile(grantedMs, 99));
  result.shedShare = answered ? (result.status[503] ?? 0) / answered : 0;
  result.peakRssMb = peak === undefined ? undefined : Math.round(peak);
  return result;
}
