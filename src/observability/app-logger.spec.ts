import { isoTimeOncePerMillisecond } from './app-logger';

describe('isoTimeOncePerMillisecond', () => {
  it("is pino's isoTime field for the current millisecond, and moves on with the clock", () => {
    const stamp = isoTimeOncePerMillisecond();
    const parse = (s: string) => (JSON.parse(`{${s.slice(1)}}`) as { time: string }).time;
    const seen: string[] = [];
    let last = Date.now();
    // Long enough to cross several milliseconds; each stamp must name the millisecond it was taken in.
    while (seen.length < 5) {
      const before = Date.now();
      const time = parse(stamp());
      const after = Date.now();
      expect(Date.parse(time)).toBeGreaterThanOrEqual(before);
      expect(Date.parse(time)).toBeLessThanOrEqual(after);
      expect(new Date(Date.parse(time)).toISOString()).toBe(time);
      if (after !== last && !seen.includes(time)) seen.push(time);
      last = after;
    }
    expect(new Set(seen).size).toBe(5);
  });
});
