/**
 * Group commit for requests that contend on one key (a hot product row): requests for a key that
 * arrive while earlier batches of that key are running wait and then run together, as one batch.
 * Under light load a request runs at once in a batch of one; under a burst, one transaction (and
 * one row lock) serves many requests. Each request still gets its own result, in order.
 *
 * `run` must return one result per item, in the items' order; if it throws, every item of that
 * batch fails with the error.
 */
export class KeyedBatcher<K, I, R> {
  private readonly queues = new Map<K, { waiting: Array<Entry<I, R>>; running: number }>();

  constructor(
    private readonly run: (key: K, items: I[]) => Promise<R[]>,
    private readonly maxBatch: number,
    private readonly maxInFlight: number,
  ) {}

  submit(key: K, item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      let queue = this.queues.get(key);
      if (!queue) {
        queue = { waiting: [], running: 0 };
        this.queues.set(key, queue);
      }
      queue.waiting.push({ item, resolve, reject });
      if (queue.running < this.maxInFlight) void this.drain(key, queue);
    });
  }

  /** One worker: takes up to maxBatch waiting items at a time until none are left. */
  private async drain(key: K, queue: { waiting: Array<Entry<I, R>>; running: number }): Promise<void> {
    queue.running++;
    try {
      while (queue.waiting.length > 0) {
        const batch = queue.waiting.splice(0, this.maxBatch);
        try {
          const results = await this.run(
            key,
            batch.map((e) => e.item),
          );
          batch.forEach((e, i) => e.resolve(results[i]));
        } catch (err) {
          for (const e of batch) e.reject(err);
        }
      }
    } finally {
      queue.running--;
      if (queue.running === 0 && queue.waiting.length === 0) this.queues.delete(key);
    }
  }
}

interface Entry<I, R> {
  item: I;
  resolve: (result: R) => void;
  reject: (err: unknown) => void;
}
