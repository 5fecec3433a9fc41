import { KeyedBatcher } from './keyed-batcher';

const tick = () => new Promise((r) => setImmediate(r));

describe('KeyedBatcher', () => {
  it('runs a lone request at once, in a batch of one', async () => {
    const batches: number[][] = [];
    const b = new KeyedBatcher<string, number, number>(
      (_k, items) => {
        batches.push(items);
        return Promise.resolve(items.map((x) => x * 2));
      },
      10,
      1,
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
      3,
      1,
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
      1,
      2,
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
      10,
      1,
    );
    await expect(b.submit('a', 13)).rejects.toThrow('boom');
    await expect(b.submit('a', 1)).resolves.toBe(1);
  });
});
