import type { Message } from '../raft/types.js';
import { MessageQueue, type QueuedMessage } from './message-queue.js';

function item(index: number, bytes = 10): QueuedMessage {
  const message: Message = {
    type: 'heartbeat',
    from: 'a',
    to: 'b',
    term: 1,
    logTerm: 0,
    index,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
  };
  return { message, bytes };
}

const indexes = (items: readonly QueuedMessage[]): number[] => items.map((i) => i.message.index);

describe('MessageQueue', () => {
  it('keeps FIFO order across pushes and batches', () => {
    const queue = new MessageQueue(100, 10_000);
    for (let i = 1; i <= 5; i += 1) expect(queue.push(item(i))).toBe(0);
    expect(indexes(queue.takeBatch(25))).toEqual([1, 2]);
    expect(indexes(queue.takeBatch(1000))).toEqual([3, 4, 5]);
    expect(queue.takeBatch(1000)).toEqual([]);
    expect(queue.length).toBe(0);
    expect(queue.bytes).toBe(0);
  });

  it('drops the oldest message when the count bound is exceeded', () => {
    const queue = new MessageQueue(3, 10_000);
    for (let i = 1; i <= 3; i += 1) queue.push(item(i));
    expect(queue.push(item(4))).toBe(1);
    expect(queue.push(item(5))).toBe(1);
    expect(indexes(queue.takeBatch(1000))).toEqual([3, 4, 5]);
  });

  it('drops as many of the oldest as needed when the byte bound is exceeded', () => {
    const queue = new MessageQueue(100, 100);
    for (let i = 1; i <= 5; i += 1) queue.push(item(i, 20));
    expect(queue.push(item(6, 50))).toBe(3); // 100 + 50 bytes: 1, 2 and 3 go
    expect(queue.bytes).toBe(90);
    expect(indexes(queue.takeBatch(1000))).toEqual([4, 5, 6]);
  });

  it('drops even the new message when it alone exceeds the byte bound', () => {
    const queue = new MessageQueue(100, 100);
    queue.push(item(1, 20));
    expect(queue.push(item(2, 500))).toBe(2);
    expect(queue.length).toBe(0);
  });

  it('hands out a lone message larger than the batch bound', () => {
    const queue = new MessageQueue(100, 10_000);
    queue.push(item(1, 500));
    queue.push(item(2, 10));
    expect(indexes(queue.takeBatch(100))).toEqual([1]);
    expect(indexes(queue.takeBatch(100))).toEqual([2]);
  });

  it('stays correct across internal compaction (many pushes and takes)', () => {
    const queue = new MessageQueue(10_000, 1_000_000);
    let next = 0;
    let expected = 0;
    for (let round = 0; round < 50; round += 1) {
      for (let i = 0; i < 100; i += 1) queue.push(item(next++, 1));
      for (const taken of queue.takeBatch(70)) expect(taken.message.index).toBe(expected++);
    }
    expect(queue.length).toBe(next - expected);
    expect(queue.bytes).toBe(next - expected);
    expect(queue.clear()).toBe(next - expected);
    expect(queue.length).toBe(0);
  });
});
