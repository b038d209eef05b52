// The client side of the peer transport for one Raft group (shard): what the host loop hands `rd.messages` and
// `rd.messagesAfterPersist` to. send() only validates and enqueues, so it never blocks and a slow or dead peer
// costs the others nothing: each peer has its own channel, bounded queue, stream worker and snapshot sender.
// With several shards per process, run one PeerTransport per shard; their channels to the same address share one
// connection (see peer-channel.ts).

import { LOCAL_MESSAGE_TYPES } from '../api/raft-message-codec.js';
import type { Message, NodeId } from '../raft/types.js';
import { TransportUsageError } from './errors.js';
import { batchEntrySizeUpperBound } from './message-size.js';
import {
  type PeerTransportOptions,
  type ResolvedTransportOptions,
  resolveTransportOptions,
  type TransportLogger,
  type TransportMetrics,
} from './options.js';
import { PeerChannel, peerChannelOptions } from './peer-channel.js';
import { SnapshotSender } from './snapshot-sender.js';
import { StreamWorker } from './stream-worker.js';

/** What the admin API shows per peer. */
export interface PeerStats {
  /** A Stream call is open and the peer has answered it. */
  readonly connected: boolean;
  readonly queuedMessages: number;
  readonly queuedBytes: number;
  /** The last failure of this peer's stream ("UNAVAILABLE: ...", "FAILED_PRECONDITION: ..."), if any. */
  readonly lastSendError: string | undefined;
  /** Clock time (options.now) the peer last answered or accepted a write; undefined if never. */
  readonly lastContactMs: number | undefined;
  readonly snapshotInFlight: boolean;
  readonly address: string | undefined;
}

interface Peer {
  readonly channel: PeerChannel;
  readonly stream: StreamWorker;
  readonly snapshots: SnapshotSender;
}

const SILENT_LOGGER: TransportLogger = { warn: () => {}, info: () => {}, debug: () => {} };

export class PeerTransport {
  private readonly options: ResolvedTransportOptions;
  private readonly peers = new Map<NodeId, Peer>();
  private readonly retiring = new Set<Promise<void>>();
  private readonly logger: TransportLogger;
  private readonly metrics: TransportMetrics;
  private closing: Promise<void> | undefined;

  constructor(private readonly raw: PeerTransportOptions) {
    this.options = resolveTransportOptions(raw);
    this.logger = raw.logger ?? SILENT_LOGGER;
    this.metrics = raw.metrics ?? {};
  }

  /**
   * Queues messages for their peers and returns at once. Throws TransportUsageError (before queueing anything) for
   * a message the host must never hand over: a local-only type, one not from selfId, one to selfId or to nobody,
   * a 'snap' without a snapshot. Peer trouble never throws: it drops messages and calls onUnreachable.
   */
  send(messages: readonly Message[]): void {
    for (const message of messages) this.check(message);
    if (this.closing !== undefined) {
      if (messages.length > 0)
        this.logger.debug({ count: messages.length }, 'transport closed; dropping messages');
      return;
    }
    const overflowed = new Set<NodeId>();
    for (const message of messages) {
      const peer = this.peer(message.to);
      if (message.type === 'snap') {
        peer.snapshots.enqueue(message);
      } else if (peer.stream.enqueue(message, batchEntrySizeUpperBound(message)) > 0) {
        overflowed.add(message.to);
      }
    }
    // Reported after send() returns: the host is inside its Ready handling and must not be re-entered.
    for (const id of overflowed) queueMicrotask(() => this.reportUnreachable(id));
  }

  /** A member left the group: cancel its calls, drop its queue, close its channel. Nothing is reported for it. */
  removePeer(id: NodeId): void {
    const peer = this.peers.get(id);
    if (peer === undefined) return;
    this.peers.delete(id);
    this.retire(peer);
  }

  peerStats(id: NodeId): PeerStats | undefined {
    const peer = this.peers.get(id);
    if (peer === undefined) return undefined;
    return {
      connected: peer.stream.connected,
      queuedMessages: peer.stream.queuedMessages,
      queuedBytes: peer.stream.queuedBytes,
      lastSendError: peer.stream.lastSendError,
      lastContactMs: peer.stream.lastContactMs,
      snapshotInFlight: peer.snapshots.inFlight,
      address: peer.channel.currentAddress,
    };
  }

  /** The peers this transport currently has state for. */
  peerIds(): NodeId[] {
    return [...this.peers.keys()];
  }

  /**
   * Graceful and bounded: snapshots are cancelled at once; queued messages get until timeouts.closeMs (or the
   * caller's shorter `withinMs`: a stopping process has its own grace period) to be flushed to reachable peers and
   * their streams ended; then every call is cancelled and every channel closed. No callback fires for what is
   * dropped. Idempotent.
   */
  close(withinMs?: number): Promise<void> {
    this.closing ??= this.shutdown(Math.min(withinMs ?? Infinity, this.options.timeouts.closeMs));
    return this.closing;
  }

  private async shutdown(closeMs: number): Promise<void> {
    const peers = [...this.peers.values()];
    this.peers.clear();
    for (const peer of peers) {
      peer.snapshots.stop();
      peer.stream.drain();
    }
    const timer = setTimeout(() => {
      this.logger.warn({ closeMs }, 'transport close timed out; cancelling streams');
      for (const peer of peers) peer.stream.stop();
    }, closeMs);
    try {
      await Promise.all(peers.flatMap((peer) => [peer.stream.done, peer.snapshots.done]));
    } finally {
      clearTimeout(timer);
    }
    for (const peer of peers) peer.channel.close();
    await Promise.all([...this.retiring]);
  }

  private check(message: Message): void {
    const what = `${message.type} message from '${message.from}' to '${message.to}'`;
    if (LOCAL_MESSAGE_TYPES.has(message.type)) {
      throw new TransportUsageError(`${what}: local-only message types are never sent to peers`);
    }
    if (message.from !== this.options.selfId) {
      throw new TransportUsageError(`${what}: not from this member '${this.options.selfId}'`);
    }
    if (message.to === '' || message.to === this.options.selfId) {
      throw new TransportUsageError(`${what}: a message must go to another member`);
    }
    if (message.type === 'snap' && message.snapshot === undefined) {
      throw new TransportUsageError(`${what}: a snap message without a snapshot`);
    }
  }

  private peer(id: NodeId): Peer {
    const existing = this.peers.get(id);
    if (existing !== undefined) return existing;
    const channel = new PeerChannel(
      id,
      this.raw.resolve,
      peerChannelOptions(this.options),
      this.raw.credentials,
      this.logger,
      this.raw.now ?? Date.now,
      this.options.timeouts.channelRecreateMinIntervalMs,
    );
    const common = { peer: id, options: this.options, channel, logger: this.logger, metrics: this.metrics };
    const peer: Peer = {
      channel,
      stream: new StreamWorker({
        ...common,
        random: this.raw.random ?? Math.random,
        now: this.raw.now ?? Date.now,
        onUnreachable: (peerId) => this.reportUnreachable(peerId),
      }),
      snapshots: new SnapshotSender({
        ...common,
        onSnapshotStatus: (peerId, ok) => this.reportSnapshotStatus(peerId, ok),
      }),
    };
    this.peers.set(id, peer);
    return peer;
  }

  private retire(peer: Peer): void {
    peer.snapshots.stop();
    peer.stream.stop();
    const finished = Promise.all([peer.stream.done, peer.snapshots.done]).then(() => peer.channel.close());
    this.retiring.add(finished);
    void finished.finally(() => this.retiring.delete(finished));
  }

  // Host callbacks run inside the workers' loops; one that throws must not kill a worker.
  private reportUnreachable(id: NodeId): void {
    if (this.closing !== undefined) return;
    try {
      this.raw.onUnreachable(id);
    } catch (error) {
      this.logger.warn({ peer: id, err: String(error) }, 'onUnreachable threw');
    }
  }

  private reportSnapshotStatus(id: NodeId, ok: boolean): void {
    if (this.closing !== undefined) return;
    try {
      this.raw.onSnapshotStatus(id, ok);
    } catch (error) {
      this.logger.warn({ peer: id, err: String(error) }, 'onSnapshotStatus threw');
    }
  }
}
