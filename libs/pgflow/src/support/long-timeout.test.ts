import { afterEach, beforeEach, expect, it, jest } from '@jest/globals';
import { LongTimeout, MAX_TIMER_DELAY_MS } from './long-timeout.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

beforeEach(() => {
  jest.useFakeTimers();
});

afterEach(() => {
  jest.useRealTimers();
});

it('fires after a delay longer than one Node.js timer can hold (30 days), not before', () => {
  const fired = jest.fn();
  new LongTimeout(fired, 30 * DAY_MS);

  jest.advanceTimersByTime(1);
  expect(fired).not.toHaveBeenCalled();
  jest.advanceTimersByTime(MAX_TIMER_DELAY_MS);
  expect(fired).not.toHaveBeenCalled();
  jest.advanceTimersByTime(30 * DAY_MS - MAX_TIMER_DELAY_MS - 2);
  expect(fired).not.toHaveBeenCalled();
  jest.advanceTimersByTime(1);
  expect(fired).toHaveBeenCalledTimes(1);
  jest.advanceTimersByTime(365 * DAY_MS);
  expect(fired).toHaveBeenCalledTimes(1);
});

it('fires a short delay like setTimeout', () => {
  const fired = jest.fn();
  new LongTimeout(fired, 250);
  jest.advanceTimersByTime(249);
  expect(fired).not.toHaveBeenCalled();
  jest.advanceTimersByTime(1);
  expect(fired).toHaveBeenCalledTimes(1);
});

it('clear() stops it, also between two of its links', () => {
  const fired = jest.fn();
  const timeout = new LongTimeout(fired, 60 * DAY_MS);
  jest.advanceTimersByTime(40 * DAY_MS);
  timeout.clear();
  jest.advanceTimersByTime(365 * DAY_MS);
  expect(fired).not.toHaveBeenCalled();
  expect(jest.getTimerCount()).toBe(0);
});

it('never fires for an infinite delay, and at once for 0', () => {
  const never = jest.fn();
  const now = jest.fn();
  const forever = new LongTimeout(never, Number.POSITIVE_INFINITY);
  new LongTimeout(now, 0);
  jest.advanceTimersByTime(10 * 365 * DAY_MS);
  expect(never).not.toHaveBeenCalled();
  expect(now).toHaveBeenCalledTimes(1);
  forever.clear();
});
