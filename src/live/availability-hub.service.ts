import type { PassThrough } from 'node:stream';
import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { StockChangesService } from '../changes/stock-changes.service';
import { APP_CONFIG, AppConfig } from '../config/config';
import { MetricsService } from '../observability/metrics.service';
import { LiveReadService, LiveValue } from './live-read.service';
import { AvailabilityData, HEARTBEAT, HEARTBEAT_MS, lapseDelay, nextEventId, RETRY_MS, sseEvent, tickDelay } from './sse';

/** A client this far behind (bytes not yet taken by its socket) is dropped instead of buffered. */
const MAX_CLIENT_BACKLOG = 256 * 1024;
/** After a failed read (database down) the product is read again this much later. */
const RETRY_READ_MS = 1000;

interface Client {
  stream: PassThrough;
  sent?: { stock: number; available: number };
}

/** The live state of one product that has open streams on this instance. */
interface ProductState {
  id: number;
  clients: Set<Client>;
  last?: LiveValue;
  lastTickAt?: number;
  tickTimer?: NodeJS.Timeout;
  lapseTimer?: NodeJS.Timeout;
  reading: boolean;
  /** A change arrived that no read has seen yet. */
  dirty: boolean;
}

const same = (a: Client['sent'], b: LiveValue): boolean => a !== undefined && a.stock === b.stock && a.available === b.available;

/**
 * The open availability streams of this instance, grouped by product.
 *
 * - A change (StockChangesService: a commit here, or on another instance through Redis) marks the
 *   product dirty and schedules one read of it, at least MIN_EVENT_GAP_MS after the previous one:
 *   at most 10 reads and events per second per product, one read however many clients, and a
 *   change during a read schedules the next, so the last event of a burst shows the final value.
 * - Nothing is written when a hold or order lapses, so each read also learns the earliest
 *   `expires_at` still ahead, and a timer reads the product again just after it.
 * - Each client gets an event only when (stock, available) differs from what it was last sent.
 * - STREAM_MAX_CLIENTS bounds the open streams; a closed connection is released at once; shutdown
 *   ends every stream so the drain does not wait for them.
 */
@Injectable()
export class AvailabilityHubService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('stream');
  private readonly products = new Map<number, ProductState>();
  private readonly snapshotReads = new Map<number, Promise<LiveValue>>();
  private open = 0;
  private reserved = 0;
  private lastId = 0;
  private closing = false;
  private heartbeat?: NodeJS.Timeout;
  private stopListening?: () => void;
  private readonly eventsSent: Counter;

  constructor(
    private readonly reader: LiveReadService,
    private readonly changes: StockChangesService,
    metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    const openStreams = () => this.open;
    new Gauge({
      name: 'streams_open',
      help: 'Availability streams open on this instance.',
      registers: [metrics.registry],
      collect() {
        this.set(openStreams());
      },
    });
    this.eventsSent = new Counter({
      name: 'stream_events_sent_total',
      help: 'Availability events written to stream clients (one per client per event).',
      registers: [metrics.registry],
    });
  }

  onModuleInit(): void {
    this.stopListening = this.changes.listen((id) => this.changed(id));
    this.heartbeat = setInterval(() => this.beat(), HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  /** Ends every stream (their responses complete, so the HTTP drain does not wait for them). */
  onModuleDestroy(): void {
    this.closing = true;
    this.stopListening?.();
    clearInterval(this.heartbeat);
    for (const state of [...this.products.values()]) for (const client of [...state.clients]) client.stream.end();
  }

  get openStreams(): number {
    return this.open;
  }

  /** Takes a slot for a stream about to open; false when STREAM_MAX_CLIENTS are open (or the service is stopping). */
  tryReserve(): boolean {
    if (this.closing || this.open + this.reserved >= this.config.streamMaxClients) return false;
    this.reserved++;
    return true;
  }

  cancelReservation(): void {
    this.reserved--;
  }

  /**
   * The product's current value: one read, shared by every stream opening at that moment. Never
   * the last read of the product's open streams: a change this instance did not hear of (made on
   * another instance without REDIS_URL, or whose Redis message was lost) would make it stale.
   * Throws ProductNotFoundError.
   */
  snapshot(productId: number): Promise<LiveValue> {
    let read = this.snapshotReads.get(productId);
    if (!read) {
      read = this.reader.read(productId).finally(() => this.snapshotReads.delete(productId));
      this.snapshotReads.set(productId, read);
    }
    return read;
  }

  /** Turns a reserved slot into an open stream: writes the first event at once (the newer of `value` and the product's last read). */
  attach(value: LiveValue, stream: PassThrough, onClose: (listener: () => void) => void): void {
    this.reserved--;
    this.open++;
    let state = this.products.get(value.productId);
    if (!state) {
      state = { id: value.productId, clients: new Set(), reading: false, dirty: false };
      this.products.set(state.id, state);
    }
    const before = state.last;
    this.adopt(state, value);
    const client: Client = { stream };
    state.clients.add(client);
    let detached = false;
    const detach = (): void => {
      if (detached) return;
      detached = true;
      this.detach(state, client);
    };
    stream.on('close', detach);
    onClose(detach);
    this.send(client, state.last ?? value, RETRY_MS);
    // The new stream's read found a value the open ones were not told of (a change this instance
    // did not hear of): they get it too. A read that found nothing new costs no loop.
    if (before && state.last !== before && !same(before, state.last!)) this.broadcast(state);
    // Opened while the stop began: it gets its one event and ends like the others.
    if (this.closing) stream.end();
  }

  private detach(state: ProductState, client: Client): void {
    this.open--;
    state.clients.delete(client);
    if (!client.stream.destroyed) client.stream.destroy();
    if (state.clients.size > 0 || this.products.get(state.id) !== state) return;
    clearTimeout(state.tickTimer);
    clearTimeout(state.lapseTimer);
    this.products.delete(state.id);
  }

  private changed(productId: number): void {
    const state = this.products.get(productId);
    if (!state) return;
    state.dirty = true;
    this.schedule(state);
  }

  private schedule(state: ProductState, delay = tickDelay(state.lastTickAt, Date.now())): void {
    if (state.tickTimer || state.reading || this.closing) return;
    state.tickTimer = setTimeout(() => void this.tick(state), delay);
  }

  private async tick(state: ProductState): Promise<void> {
    state.tickTimer = undefined;
    state.dirty = false;
    state.reading = true;
    state.lastTickAt = Date.now();
    let retryIn: number | undefined;
    try {
      this.adopt(state, await this.reader.read(state.id));
      this.broadcast(state);
    } catch (err) {
      this.logger.warn({ msg: 'stream.read_failed', product_id: state.id, err: err instanceof Error ? err.message : String(err) });
      state.dirty = true;
      retryIn = RETRY_READ_MS;
    } finally {
      state.reading = false;
    }
    if (state.dirty && this.products.get(state.id) === state) this.schedule(state, retryIn);
  }

  /** Keeps the newest read (by when it began) and sets the lapse timer from it. */
  private adopt(state: ProductState, value: LiveValue): void {
    if (state.last && value.readAt < state.last.readAt) return;
    state.last = value;
    clearTimeout(state.lapseTimer);
    state.lapseTimer = undefined;
    if (value.nextLapseAt === null || this.closing) return;
    state.lapseTimer = setTimeout(
      () => {
        state.lapseTimer = undefined;
        this.changed(state.id);
      },
      lapseDelay(value.nextLapseAt, Date.now()),
    );
  }

  /** One event, formatted and encoded once, to every client whose last value differs. */
  private broadcast(state: ProductState): void {
    const value = state.last;
    if (!value) return;
    let payload: Buffer | undefined;
    for (const client of state.clients) {
      if (same(client.sent, value)) continue;
      payload ??= Buffer.from(sseEvent(this.nextId(), 'availability', this.data(value)));
      this.write(client, payload, value);
    }
  }

  private send(client: Client, value: LiveValue, retryMs?: number): void {
    this.write(client, sseEvent(this.nextId(), 'availability', this.data(value), retryMs), value);
  }

  private write(client: Client, payload: string | Buffer, value: LiveValue): void {
    if (client.stream.destroyed) return;
    if (client.stream.writableLength > MAX_CLIENT_BACKLOG) {
      client.stream.destroy();
      return;
    }
    client.stream.write(payload);
    client.sent = { stock: value.stock, available: value.available };
    this.eventsSent.inc();
  }

  private data(value: LiveValue): AvailabilityData {
    return { product_id: value.productId, stock: value.stock, available: value.available, at: new Date(value.readAt).toISOString() };
  }

  private nextId(): number {
    this.lastId = nextEventId(this.lastId, Date.now());
    return this.lastId;
  }

  private beat(): void {
    for (const state of this.products.values()) for (const client of state.clients) if (!client.stream.destroyed) client.stream.write(HEARTBEAT);
  }
}
