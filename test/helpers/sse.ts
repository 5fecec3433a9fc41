import { get, IncomingHttpHeaders } from 'node:http';
import { pollUntil } from './wait';

export interface SseEvent {
  id?: string;
  event?: string;
  retry?: number;
  data: string;
  /** Date.now() when the event's last byte arrived. */
  receivedAt: number;
}

export interface AvailabilityEvent extends SseEvent {
  value: { product_id: number; stock: number; available: number; at: string };
}

export interface SseClient {
  status: number;
  headers: IncomingHttpHeaders;
  /** The whole body of an answer that is not a stream (a JSON refusal); '' for a stream. */
  body: string;
  /** The raw text received so far. */
  text: () => string;
  events: SseEvent[];
  comments: string[];
  /** The `availability` events, with their data parsed. */
  availability: () => AvailabilityEvent[];
  /** Waits until an availability event satisfies `done` and returns it (pollUntil: names the condition on failure). */
  waitFor: (what: string, done: (e: AvailabilityEvent) => boolean, timeoutMs?: number) => Promise<AvailabilityEvent>;
  /** True once the server has ended the stream or the socket has closed. */
  ended: () => boolean;
  close: () => void;
}

/**
 * Opens `url` as an event stream over its own connection (no keep-alive agent: closing it closes
 * the socket), and parses events as they arrive. Resolves when the headers of a stream have come,
 * or when the whole body of any other answer has.
 */
export function openSse(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  return new Promise((resolve, reject) => {
    const req = get(url, { agent: false, headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      let raw = '';
      let pending = '';
      let ended = false;
      const events: SseEvent[] = [];
      const comments: string[] = [];
      const isStream = String(res.headers['content-type'] ?? '').startsWith('text/event-stream');
      const availability = () =>
        events.filter((e) => e.event === 'availability').map((e) => ({ ...e, value: JSON.parse(e.data) as AvailabilityEvent['value'] }));
      const client: SseClient = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        body: '',
        text: () => raw,
        events,
        comments,
        availability,
        waitFor: (what, done, timeoutMs = 5000) =>
          pollUntil(
            what,
            () => availability().find(done),
            (e) => e !== undefined,
            { timeoutMs, intervalMs: 5 },
          ) as Promise<AvailabilityEvent>,
        ended: () => ended,
        close: () => req.destroy(),
      };
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        raw += chunk;
        if (!isStream) return;
        pending += chunk;
        let end: number;
        while ((end = pending.indexOf('\n\n')) >= 0) {
          const block = pending.slice(0, end);
          pending = pending.slice(end + 2);
          const event: SseEvent = { data: '', receivedAt: Date.now() };
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) comments.push(line);
            else if (line.startsWith('id: ')) event.id = line.slice(4);
            else if (line.startsWith('event: ')) event.event = line.slice(7);
            else if (line.startsWith('retry: ')) event.retry = Number(line.slice(7));
            else if (line.startsWith('data: ')) data.push(line.slice(6));
          }
          event.data = data.join('\n');
          if (data.length > 0) events.push(event);
        }
      });
      const finish = () => {
        ended = true;
        if (!isStream) resolve({ ...client, body: raw });
      };
      res.on('end', finish);
      res.on('close', finish);
      res.on('error', () => (ended = true));
      if (isStream) resolve(client);
    });
    req.on('error', reject);
  });
}
