import { BatcherCancelledError, BatcherQueueFullError, BatcherTimeoutError, KeyedBatcher } from './keyed-batcher';

const tick = () => new Promise((r) => setImmediate(r));

describe('KeyedBatcher', () => {
  it('runs a lone request at once, in a batch of one', async () => {
    const batches: number[][] = [];
    const b = new KeyedBatcher<string, number, number>(
      (_k, items) => {
        batches.push(items);
        return Promise.resolve(items.map((x) => x * 2));
      },
      { maxBatch: 10, maxInFlight: 1 },
    );
    await expect(b.submit('a', 4)).resolves.toBe(8);
    expect(batches).toEqual([[4]]);
  });

  it('groups what arrives while a batch runs, keeps order, answers each request', async () => {
    const batches: number[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const b = new KeyedBatcher<string, number, number>(
      async (_k, items) => {
        batches.push(items);
        if (batches.length === 1) await gate;
        return items.map((x) => x + 100);
      },
      { maxBatch: 3, maxInFlight: 1 },
    );
    const first = b.submit('a', 1);
    await tick();
    const rest = [2, 3, 4, 5, 6].map((x) => b.submit('a', x));
    release();
    await expect(Promise.all([first, ...rest])).resolves.toEqual([101, 102, 103, 104, 105, 106]);
    expect(batches).toEqual([[1], [2, 3, 4], [5, 6]]);
  });

  it('keeps keys apart and runs up to maxInFlight batches of one key at once', async () => {
    let running = 0;
    let peak = 0;
    const b = new KeyedBatcher<string, number, string>(
      async (k, items) => {
        running++;
        peak = Math.max(peak, running);
        await tick();
        running--;
        return items.map((x) => `${k}${x}`);
      },
      { maxBatch: 1, maxInFlight: 2 },
    );
    const out = await Promise.all([b.submit('a', 1), b.submit('b', 1), b.submit('a', 2), b.submit('a', 3)]);
    expect(out).toEqual(['a1', 'b1', 'a2', 'a3']);
    expect(peak).toBe(3);
  });

  it('fails every request of a failed batch, and only those', async () => {
    const b = new KeyedBatcher<string, number, number>(
      (_k, items) => {
        if (items.includes(13)) return Promise.reject(new Error('boom'));
        return Promise.resolve(items);
      },
      { maxBatch: 10, maxInFlight: 1 },
    );
    await expect(b.submit('a', 13)).rejects.toThrow('boom');
    await expect(b.submit('a', 1)).resolves.toBe(1);
  });

  /** A batcher whose first batch of each key blocks until `release()`; records what ran. */
  function gated(limits: { maxQueued?: number; maxWaitMs?: number }) {
    const ran: number[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const b = new KeyedBatcher<string, number, number>(
      async (_k, items) => {
        ran.push(items);
        if (ran.length === 1) await gate;
        return items;
      },
      { maxBatch: 100, maxInFlight: 1, ...limits },
    );
    return { b, ran, release: () => release() };
  }

  it('refuses a request at once when maxQueued are already waiting, and admits again once the queue drains', async () => {
    const { b, ran, release } = gated({ maxQueued: 3 });
    const first = b.submit('a', 0);
    await tick();
    const queued = [1, 2, 3].map((x) => b.submit('a', x));
    expect(b.queued('a')).toBe(3);
    await expect(b.submit('a', 4)).rejects.toBeInstanceOf(BatcherQueueFullError);
    await expect(b.submit('b', 9)).resolves.toBe(9); // other keys have their own queue
    release();
    await expect(Promise.all([first, ...queued])).resolves.toEqual([0, 1, 2, 3]);
    expect(ran).toEqual([[0], [9], [1, 2, 3]]);
    await expect(b.submit('a', 5)).resolves.toBe(5);
  });

  it('refuses a waiting request when its deadline passes, while the running batch is still stuck, and never runs it', async () => {
    jest.useFakeTimers();
    try {
      const { b, ran, release } = gated({ maxWaitMs: 1000 });
      const first = b.submit('a', 0);
      await Promise.resolve();
      const early = b.submit('a', 1);
      jest.advanceTimersByTime(600);
      const late = b.submit('a', 2);
      const earlyResult = expect(early).rejects.toBeInstanceOf(BatcherTimeoutError);
      jest.advanceTimersByTime(400); // early has waited 1000 ms; late 400 ms
      await earlyResult;
      expect(b.queued('a')).toBe(1);
      release();
      await expect(first).resolves.toBe(0);
      await expect(late).resolves.toBe(2);
      expect(ran).toEqual([[0], [2]]);
    } finally {
      jest.useRealTimers();
    }
  });

  it('drops a request whose client left before its batch started, and runs the rest in order', async () => {
    const { b, ran, release } = gated({});
    const first = b.submit('a', 0, () => false);
    await tick();
    let leaves = false;
    const leaving = b.submit('a', 1, () => leaves);
    const staying = b.submit('a', 2, () => false);
    leaves = true;
    release();
    await expect(first).resolves.toBe(0);
    await expect(leaving).rejects.toBeInstanceOf(BatcherCancelledError);
    await expect(staying).resolves.toBe(2);
    expect(ran).toEqual([[0], [2]]);
  });

  it("hands a batch's results out resolveChunk at a time, with a turn of the event loop between chunks", async () => {
    const b = new KeyedBatcher<string, number, number>((_k, items) => Promise.resolve(items), { maxBatch: 10, maxInFlight: 1, resolveChunk: 2 });
    const order: string[] = [];
    const all = [1, 2, 3, 4, 5].map((x) =>
      b.submit('a', x).then((r) => {
        order.push(`result ${r}`);
        if (r === 1) setImmediate(() => order.push('a turn of the loop'));
      }),
    );
    await Promise.all(all);
    // 1 runs at once, alone; 2–5 form the next batch, handed out as [2, 3], a turn, [4, 5].
    expect(order).toEqual(['result 1', 'result 2', 'result 3', 'a turn of the loop', 'result 4', 'result 5']);
  });
});
