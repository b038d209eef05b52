#!/usr/bin/env node
// raftctl: the command-line client (like etcdctl). Exit status 0 on success, 1 on failure with the reason on stderr.
import { checkReadable } from '../../shared/security/transport-security.js';
import { readFile } from 'node:fs/promises';
import { Metadata } from '@grpc/grpc-js';
import {
  type AddLearnerResponse,
  type ForceNewClusterResponse,
  type Member,
  type MemberListResponse,
  type PromoteResponse,
  type RemoveMemberResponse,
  type SetDataFormatResponse,
  type SnapshotResponse,
  type StatusResponse,
  type TransferLeadershipResponse,
} from '../../shared/api/generated/raftstore/v1/cluster.js';
import type {
  DeleteRequest,
  DeleteResponse,
  GetResponse,
  KeyRange,
  KeyValue,
  PutResponse,
  RangeResponse,
  TxnRequest,
  TxnResponse,
} from '../../shared/api/generated/raftstore/v1/kv.js';
import { describeError, FailoverClient, unary } from '../../shared/client/failover-client.js';
import { deleteEveryShard, rangeEveryShard } from '../../shared/client/fan-out.js';
import { KeyRouter } from '../../shared/client/key-router.js';
import type { RequestHeader } from '../../shared/api/generated/raftstore/v1/common.js';
import { prefixSlot } from '../sharding/range-routing.js';
import {
  parseRaftctlArgs,
  USAGE,
  UsageError,
  type GlobalOptions,
  type RaftctlCommand,
} from './raftctl-args.js';
import { dataFormatChangeText, ROLE, statusJson, statusTable, type StatusRow } from './raftctl-output.js';
import { renderTable } from './table.js';
import { parseTxnSpec } from './txn-spec.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

function printKvs(options: GlobalOptions, kvs: readonly KeyValue[], keysOnly = false): void {
  if (options.output === 'json') {
    console.log(
      JSON.stringify(
        kvs.map((kv) => ({
          key: dec(kv.key),
          value: dec(kv.value),
          createRevision: kv.createRevision,
          modRevision: kv.modRevision,
          version: kv.version,
        })),
      ),
    );
    return;
  }
  for (const kv of kvs) console.log(keysOnly ? dec(kv.key) : `${dec(kv.key)}\n${dec(kv.value)}`);
}

function printMembers(options: GlobalOptions, members: readonly Member[]): void {
  if (options.output === 'json') {
    console.log(JSON.stringify(members.map((m) => ({ ...m, role: ROLE[m.role] ?? 'unknown' }))));
    return;
  }
  console.log(
    renderTable(
      ['NAME', 'ID', 'ADDRESS', 'ROLE', 'MATCH', 'LAG', 'LAST CONTACT'],
      members.map((m) => [
        m.name,
        m.id,
        m.address,
        ROLE[m.role] ?? 'unknown',
        String(m.matchIndex),
        String(m.lag),
        `${m.lastContactMs}ms`,
      ]),
    ),
  );
}

function printStatus(options: GlobalOptions, rows: readonly StatusRow[]): void {
  console.log(options.output === 'json' ? statusJson(rows) : statusTable(rows));
}

/** The first key a transaction names (empty when it names none: any shard can run it). */
function firstTxnKey(spec: Omit<TxnRequest, 'header'>): Uint8Array {
  const compare = spec.compare[0];
  if (compare !== undefined) return compare.key;
  for (const op of [...spec.success, ...spec.failure]) {
    switch (op.op?.$case) {
      case 'put':
        return op.op.put.key;
      case 'delete':
      case 'range': {
        const range = op.op.$case === 'delete' ? op.op.delete.range : op.op.range.range;
        switch (range?.kind?.$case) {
          case 'key':
            return range.kind.key;
          case 'prefix':
            return range.kind.prefix;
          case 'interval':
            return range.kind.interval.start;
          default:
            continue;
        }
      }
      default:
        continue;
    }
  }
  return new Uint8Array();
}

/** One delete; the header is made once, so a retry on another member is the same write. */
function deleteOne(client: FailoverClient, request: DeleteRequest): Promise<DeleteResponse> {
  return client.kv((c, deadline) =>
    unary<DeleteResponse>((cb) => c.delete(request, new Metadata(), { deadline }, cb)),
  );
}

async function execute(
  options: GlobalOptions,
  command: RaftctlCommand,
  client: FailoverClient,
): Promise<void> {
  // KV requests go to the shard --shard names, or to the shard that owns the key (the slot map a member gives).
  // Member commands address one group: shard 0 unless --shard names another.
  const shardId = options.shard;
  const groupId = options.shard ?? 0;
  const router = new KeyRouter(client);
  const onKeyShard = <T>(
    key: Uint8Array,
    call: (shard: number, header: RequestHeader) => Promise<T>,
  ): Promise<T> =>
    shardId !== undefined ? call(shardId, client.nextHeader(shardId)) : router.call(key, call);
  switch (command.kind) {
    case 'help':
      console.log(USAGE);
      return;
    case 'put': {
      const key = enc(command.key);
      await onKeyShard(key, (shard, header) =>
        client.kv((c, deadline) =>
          unary<PutResponse>((cb) =>
            c.put(
              { shardId: shard, header, key, value: enc(command.value), prevKv: false },
              new Metadata(),
              { deadline },
              cb,
            ),
          ),
        ),
      );
      console.log('OK');
      return;
    }
    case 'get': {
      const key = enc(command.key);
      const res = await onKeyShard(key, (shard) =>
        client.kv((c, deadline) =>
          unary<GetResponse>((cb) =>
            c.get(
              { shardId: shard, header: undefined, key, serializable: command.serializable },
              new Metadata(),
              { deadline },
              cb,
            ),
          ),
        ),
      );
      if (!res.kv) throw new Error(`key "${command.key}" not found`);
      printKvs(options, [res.kv]);
      return;
    }
    case 'del': {
      const range: KeyRange = command.prefix
        ? { kind: { $case: 'prefix', prefix: enc(command.key) } }
        : { kind: { $case: 'key', key: enc(command.key) } };
      const res =
        shardId === undefined && command.prefix && prefixSlot(command.key) === undefined
          ? await deleteEveryShard(client, { range, prevKv: false }, (shard) => client.nextHeader(shard))
          : await onKeyShard(enc(command.key), (shard, header) =>
              deleteOne(client, { shardId: shard, header, range, prevKv: false }),
            );
      console.log(String(res.deleted));
      return;
    }
    case 'range': {
      const range: KeyRange = command.prefix
        ? { kind: { $case: 'prefix', prefix: enc(command.start) } }
        : {
            kind: { $case: 'interval', interval: { start: enc(command.start), end: enc(command.end ?? '') } },
          };
      const request = {
        header: undefined,
        range,
        limit: command.limit,
        keysOnly: command.keysOnly,
        countOnly: false,
        serializable: command.serializable,
      };
      // One shard when named, or when a tagged prefix pins every key to one slot; otherwise every shard.
      const oneSlot = command.prefix && prefixSlot(command.start) !== undefined;
      const res =
        shardId === undefined && !oneSlot
          ? await rangeEveryShard(client, request)
          : await client.kv((c, deadline) =>
              unary<RangeResponse>((cb) =>
                c.range({ ...request, shardId }, new Metadata(), { deadline }, cb),
              ),
            );
      printKvs(options, res.kvs, command.keysOnly);
      return;
    }
    case 'txn': {
      const text = command.file === '-' ? await readStdin() : await readFile(command.file, 'utf8');
      const spec = parseTxnSpec(text, shardId);
      // A transaction stays in one slot (the members refuse one that does not): its first key names the shard.
      const res = await onKeyShard(firstTxnKey(spec), (shard, header) =>
        client.kv((c, deadline) =>
          unary<TxnResponse>((cb) =>
            c.txn({ ...spec, shardId: shard, header }, new Metadata(), { deadline }, cb),
          ),
        ),
      );
      console.log(res.succeeded ? 'SUCCESS' : 'FAILURE');
      for (const r of res.responses) {
        if (r.response?.$case === 'range') printKvs(options, r.response.range.kvs);
      }
      return;
    }
    case 'memberList': {
      const res = await client.cluster((c, deadline) =>
        unary<MemberListResponse>((cb) =>
          c.memberList({ shardId: groupId }, new Metadata(), { deadline }, cb),
        ),
      );
      printMembers(options, res.members);
      return;
    }
    case 'memberAdd': {
      const res = await client.cluster((c, deadline) =>
        unary<AddLearnerResponse>((cb) =>
          c.addLearner(
            {
              shardId: groupId,
              name: command.name,
              id: command.id,
              address: command.peerUrl,
              clientAddress: command.clientUrl,
              incarnation: '',
            },
            new Metadata(),
            { deadline },
            cb,
          ),
        ),
      );
      printMembers(options, res.members);
      return;
    }
    case 'memberPromote': {
      const res = await client.cluster((c, deadline) =>
        unary<PromoteResponse>((cb) =>
          c.promote({ shardId: groupId, id: command.id }, new Metadata(), { deadline }, cb),
        ),
      );
      printMembers(options, res.members);
      return;
    }
    case 'memberRemove': {
      const res = await client.cluster((c, deadline) =>
        unary<RemoveMemberResponse>((cb) =>
          c.removeMember({ shardId: groupId, id: command.id }, new Metadata(), { deadline }, cb),
        ),
      );
      printMembers(options, res.members);
      return;
    }
    case 'memberForceNewCluster': {
      const res = await client.clusterAt(0, (c, deadline) =>
        unary<ForceNewClusterResponse>((cb) =>
          c.forceNewCluster({ shardId: groupId, member: command.name }, new Metadata(), { deadline }, cb),
        ),
      );
      if (options.output === 'json') {
        console.log(JSON.stringify({ member: command.name, ...res }));
        return;
      }
      console.log(
        `${command.name} keeps its log up to commit index ${res.commit} (it had ${res.lastIndex - res.commit} uncommitted entries after it; last index ${res.lastIndex}, term ${res.lastLogTerm}); it now restarts as the only voter of shard ${groupId}. Add members back with member add and member promote.`,
      );
      return;
    }
    case 'transferLeader': {
      const res = await client.cluster((c, deadline) =>
        unary<TransferLeadershipResponse>((cb) =>
          c.transferLeadership({ shardId: groupId, toMember: command.to }, new Metadata(), { deadline }, cb),
        ),
      );
      console.log(`leader is now ${res.leader}`);
      return;
    }
    case 'status': {
      const rows = await Promise.all(
        options.endpoints.map(async (endpoint, i) => {
          try {
            return {
              endpoint,
              status: await client.clusterAt(i, (c, deadline) =>
                unary<StatusResponse>((cb) =>
                  c.status({ shardId: groupId }, new Metadata(), { deadline }, cb),
                ),
              ),
            };
          } catch (err) {
            return { endpoint, error: describeError(err) };
          }
        }),
      );
      printStatus(options, rows);
      if (rows.every((r) => r.error !== undefined)) throw new Error('no endpoint answered');
      return;
    }
    case 'snapshot': {
      const res = await client.cluster((c, deadline) =>
        unary<SnapshotResponse>((cb) => c.snapshot({ shardId: groupId }, new Metadata(), { deadline }, cb)),
      );
      console.log(`snapshot at index ${res.index} (term ${res.term}), ${res.sizeBytes} bytes`);
      return;
    }
    case 'dataFormatSet': {
      const res = await client.cluster((c, deadline) =>
        unary<SetDataFormatResponse>((cb) =>
          c.setDataFormat({ shardId: groupId, format: command.format }, new Metadata(), { deadline }, cb),
        ),
      );
      if (options.output === 'json') {
        console.log(
          JSON.stringify({ shard: groupId, previous: res.previous, format: res.format, index: res.index }),
        );
        return;
      }
      console.log(dataFormatChangeText(groupId, res));
      return;
    }
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function main(): Promise<number> {
  let parsed: ReturnType<typeof parseRaftctlArgs>;
  try {
    parsed = parseRaftctlArgs(process.argv.slice(2), process.env);
  } catch (err) {
    console.error(`raftctl: ${(err as Error).message}`);
    return 1;
  }
  let client: FailoverClient;
  try {
    checkReadable(parsed.options.security);
    client = new FailoverClient(
      parsed.options.endpoints,
      parsed.options.timeoutMs,
      undefined,
      parsed.options.security,
    );
  } catch (err) {
    console.error(`raftctl: ${(err as Error).message}`);
    return 1;
  }
  try {
    await execute(parsed.options, parsed.command, client);
    return 0;
  } catch (err) {
    const message = err instanceof UsageError ? err.message : describeError(err);
    // A plaintext client cannot even say hello to a member that speaks TLS: all it sees is a failed connection.
    const hint =
      parsed.options.security.mode === 'plaintext' && message.includes('UNAVAILABLE')
        ? ' (if the cluster uses mutual TLS, give --cacert, --cert and --key)'
        : '';
    console.error(`raftctl: ${message}${hint}`);
    return 1;
  } finally {
    client.close();
  }
}

process.exitCode = await main();
