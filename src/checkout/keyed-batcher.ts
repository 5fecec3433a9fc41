/**
 * Group commit for requests that contend on one key (a hot product row): requests for a key that
 * arrive while earlier batches of that key are running wait and then run together, as one batch.
 * Under light load a request runs at once in a batch of one; under a burst, one transaction (and
 * one row lock) serves many requests. Each request still gets its own result, in order.
 *
 * Admission is bounded per key, so a stampede cannot grow memory or latency without limit:
 * - at most `maxQueued` requests wait; the next one is refused at once (BatcherQueueFullError);
 * - a request that waited `maxWaitMs` without its batch starting is refused (BatcherTimeoutError),
 *   at that moment, even while the running batch is stuck;
 * - a request whose `gone()` says its client left before its batch started is dropped
 *   (BatcherCancelledError) and never reaches `run`.
 * Within these bounds it is first come, first served.
 *
 * `run` must return one result per item, in the items' order; if it throws, every item of that
 * batch fails with the error.
 */
export class KeyedBatcher<K, I, R> {
  private readonly queues = new Map<K, Queue<I, R>>();
  private readonly maxQueued: number;
  private readonly maxWaitMs: number;

  constructor(
    private readonly run: (key: K, items: I[]) => Promise<R[]>,
    private readonly limits: BatcherLimits,
  ) {
    this.maxQueued = limits.maxQueued ?? Infinity;
    this.maxWaitMs = limits.maxWaitMs ?? Infinity;
  }

  /** Requests of `key` waiting for a batch (not those in running batches). */
  queued(key: K): number {
    return this.queues.get(key)?.waiting.length ?? 0;
  }

  submit(key: K, item: I, gone?: () => boolean): Promise<R> {
    let queue = this.queues.get(key);
    if (!queue) {
      queue = { waiting: [], running: 0, timer: undefined };
      this.queues.set(key, queue);
    }
    if (queue.waiting.length >= this.maxQueued) return Promise.reject(new BatcherQueueFullError());
    const q = queue;
    return new Promise<R>((resolve, reject) => {
      q.waiting.push({ item, resolve, reject, gone, since: performance.now() });
      if (q.running < this.limits.maxInFlight) void this.drain(key, q);
      else this.armTimer(key, q);
    });
  }

  /** One worker: takes up to maxBatch live waiting items at a time until none are left. */
  private async drain(key: K, queue: Queue<I, R>): Promise<void> {
    queue.running++;
    try {
      for (;;) {
        const batch = this.take(queue);
        if (batch.length === 0) break;
        try {
          const results = await this.run(
            key,
            batch.map((e) => e.item),
          );
          await this.handOut(batch, results);
        } catch (err) {
          for (const e of batch) e.reject(err);
        }
      }
    } finally {
      queue.running--;
      this.settle(key, queue);
    }
  }

  /**
   * Resolves a batch's items in its order, `resolveChunk` at a time with a turn of the event loop
   * between chunks, so what the callers do with their results (answers written) is interleaved
   * with reading I/O (a client that left meanwhile is seen before its answer is decided).
   */
  private async handOut(batch: Array<Entry<I, R>>, results: R[]): Promise<void> {
    const chunk = this.limits.resolveChunk ?? batch.length;
    for (let i = 0; i < batch.length; i += chunk) {
      if (i > 0) await new Promise((resolve) => setImmediate(resolve));
      for (let j = i; j < Math.min(batch.length, i + chunk); j++) batch[j].resolve(results[j]);
    }
  }

  /** The next batch: waiting items in arrival order, minus the overdue and the abandoned ones. */
  private take(queue: Queue<I, R>): Array<Entry<I, R>> {
    const batch: Array<Entry<I, R>> = [];
    const now = performance.now();
    while (batch.length < this.limits.maxBatch && queue.waiting.length > 0) {
      const e = queue.waiting.shift() as Entry<I, R>;
      if (now - e.since >= this.maxWaitMs) e.reject(new BatcherTimeoutError());
      else if (e.gone?.()) e.reject(new BatcherCancelledError());
      else batch.push(e);
    }
    return batch;
  }

  /** While items wait behind running batches, refuse each one when its wait runs out. */
  private armTimer(key: K, queue: Queue<I, R>): void {
    if (queue.timer || queue.waiting.length === 0 || this.maxWaitMs === Infinity) return;
    const due = queue.waiting[0].since + this.maxWaitMs - performance.now();
    queue.timer = setTimeout(
      () => {
        queue.timer = undefined;
        const now = performance.now();
        while (queue.waiting.length > 0 && now - queue.waiting[0].since >= this.maxWaitMs) {
          (queue.waiting.shift() as Entry<I, R>).reject(new BatcherTimeoutError());
        }
        this.settle(key, queue);
      },
      Math.max(0, Math.ceil(due)),
    );
    queue.timer.unref();
  }

  private settle(key: K, queue: Queue<I, R>): void {
    if (queue.waiting.length > 0) {
      this.armTimer(key, queue);
      return;
    }
    if (queue.timer) clearTimeout(queue.timer);
    queue.timer = undefined;
    if (queue.running === 0 && this.queues.get(key) === queue) this.queues.delete(key);
  }
}

export interface BatcherLimits {
  /** Most items one `run` gets. */
  maxBatch: number;
  /** Batches of one key running at once (the next one gathers meanwhile). */
  maxInFlight: number;
  /** Most items of one key waiting for a batch; unbounded when omitted. */
  maxQueued?: number;
  /** Longest an item may wait for its batch to start; unbounded when omitted. */
  maxWaitMs?: number;
  /** Results handed out this many at a time, a turn of the event loop apart; all at once when omitted. */
  resolveChunk?: number;
}

/** The key's queue is full: the request was not admitted. */
export class BatcherQueueFullError extends Error {
  constructor() {
    super('too many requests are waiting for this key');
  }
}

/** The request waited its whole deadline without its batch starting; it was not run. */
export class BatcherTimeoutError extends Error {
  constructor() {
    super('the request waited too long for its batch');
  }
}

/** The request's client left before its batch started; it was not run. */
export class BatcherCancelledError extends Error {
  constructor() {
    super('the request was abandoned before its batch started');
  }
}

interface Queue<I, R> {
  waiting: Array<Entry<I, R>>;
  running: number;
  timer: NodeJS.Timeout | undefined;
}

interface Entry<I, R> {
  item: I;
  resolve: (result: R) => void;
  reject: (err: unknown) => void;
  gone?: () => boolean;
  since: number;
}
