import { lapseDelay, MAX_LAPSE_WAIT_MS, nextEventId, sseEvent, tickDelay } from './sse';

describe('the event-stream format and its timing rules', () => {
  it('writes one event block, with retry: on the first', () => {
    expect(sseEvent(7, 'availability', { a: 1 })).toBe('id: 7\nevent: availability\ndata: {"a":1}\n\n');
    expect(sseEvent(8, 'availability', { a: 1 }, 2000)).toBe('retry: 2000\nid: 8\nevent: availability\ndata: {"a":1}\n\n');
  });

  it('ids always increase, even when the clock stands still or steps back', () => {
    expect(nextEventId(0, 1000)).toBe(1000);
    expect(nextEventId(1000, 1000)).toBe(1001);
    expect(nextEventId(1001, 900)).toBe(1002);
  });

  it('keeps reads of a product at least 250 ms apart', () => {
    expect(tickDelay(undefined, 5000)).toBe(0);
    expect(tickDelay(5000, 5030)).toBe(220);
    expect(tickDelay(5000, 5250)).toBe(0);
    expect(tickDelay(5000, 9000)).toBe(0);
  });

  it('waits until just past a lapse, never negative, never longer than an hour', () => {
    expect(lapseDelay(10_000, 9_000)).toBe(1005);
    expect(lapseDelay(10_000, 11_000)).toBe(0);
    expect(lapseDelay(10 * MAX_LAPSE_WAIT_MS, 0)).toBe(MAX_LAPSE_WAIT_MS);
  });
});
