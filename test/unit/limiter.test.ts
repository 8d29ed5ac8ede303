import { limiter } from '../../runtime/store';

describe('limiter', () => {
  test('runs at most n jobs at once, all of them, in order', async () => {
    const limit = limiter(3);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    const jobs = Array.from({ length: 20 }, (_, i) =>
      limit(async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setImmediate(r));
        order.push(i);
        running--;
        return i * 2;
      }),
    );
    expect(await Promise.all(jobs)).toEqual(Array.from({ length: 20 }, (_, i) => i * 2));
    expect(peak).toBe(3);
    expect(order).toEqual([...order].sort((a, b) => a - b));
  });

  test('a failing job frees its place', async () => {
    const limit = limiter(1);
    await expect(limit(() => Promise.reject(new Error('x')))).rejects.toThrow('x');
    expect(await limit(async () => 5)).toBe(5);
  });
});
