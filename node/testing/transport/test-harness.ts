// Test support for the transport suites: real grpc-js servers on 127.0.0.1 and event recorders that tests wait on
// (bounded, event-driven: no polling sleeps). Not imported by production code.

import { Server } from '@grpc/grpc-js';
import { PLAINTEXT, serverCredentials } from '../../shared/security/transport-security.js';
import { RaftService } from '../../shared/api/generated/raftstore/v1/raft.js';
import type { Message, NodeId } from '../../src/raft/types.js';
import { createRaftService, type RaftServiceOptions } from '../../src/transport/raft-service.js';
import { raftServerOptions } from '../../src/transport/server-options.js';

/** Records events; waitFor resolves when a predicate over everything recorded holds, or rejects at its timeout. */
export class Recorder<T> {
  readonly items: T[] = [];
  private waiters: { check: () => boolean; resolve: () => void }[] = [];

  push(item: T): void {
    this.items.push(item);
    this.waiters = this.waiters.filter((waiter) => {
      if (!waiter.check()) return true;
      waiter.resolve();
      return false;
    });
  }

  waitFor(predicate: (items: readonly T[]) => boolean, timeoutMs: number, what: string): Promise<void> {
    if (predicate(this.items)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(
          new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${this.items.length} recorded)`),
        );
      }, timeoutMs);
      const waiter = {
        check: () => predicate(this.items),
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.waiters.push(waiter);
    });
  }
}

export interface Delivered {
  readonly shardId: number;
  readonly message: Message;
}

export interface TestServer {
  readonly server: Server;
  readonly port: number;
  readonly address: string;
  readonly delivered: Recorder<Delivered>;
  stop(): void;
}

export interface TestServerOptions extends Partial<RaftServiceOptions> {
  readonly member: NodeId;
  readonly shardId?: number;
  readonly port?: number;
}

export async function startServer(options: TestServerOptions): Promise<TestServer> {
  const delivered = new Recorder<Delivered>();
  const shardId = options.shardId ?? 1;
  const server = new Server(raftServerOptions({ maxMessageBytes: 4 * 1024 * 1024 }));
  server.addService(
    RaftService,
    createRaftService({
      localMember: (shard) => (shard === shardId ? options.member : undefined),
      deliver: (shard, message) => delivered.push({ shardId: shard, message }),
      maxSnapshotBytes: 64 * 1024 * 1024,
      ...options,
    }),
  );
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`127.0.0.1:${options.port ?? 0}`, serverCredentials(PLAINTEXT), (error, bound) =>
      error === null ? resolve(bound) : reject(error),
    );
  });
  return { server, port, address: `127.0.0.1:${port}`, delivered, stop: () => server.forceShutdown() };
}

/** A port that was just free: bound by a server that is then shut down (nothing listens there afterwards). */
export async function deadAddress(): Promise<string> {
  const probe = await startServer({ member: 'nobody' });
  probe.stop();
  return probe.address;
}

export function message(type: Message['type'], from: NodeId, to: NodeId, index: number): Message {
  return {
    type,
    from,
    to,
    term: 3,
    logTerm: 2,
    index,
    entries:
      type === 'app'
        ? [{ term: 3, index: index + 1, type: 'normal', data: Uint8Array.of(index & 0xff) }]
        : [],
    commit: index,
    reject: false,
    rejectHint: 0,
  };
}
