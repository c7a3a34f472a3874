/**
 * Every Redis key of the session store, named "x by y", all under one prefix
 * (REDIS_KEY_PREFIX, default "lwm2m"). This module is the only place that spells a key.
 *
 * Device keys: all carry the device's hash tag `{ep:<endpoint>}` so that the per-device Lua
 * scripts (scripts.ts) touch one Redis Cluster slot only (Redis Cluster spec, "Hash tags").
 *
 *   <p>:{ep:E}:reg   registrationByEndpoint   hash: the registration (registration-codec.ts),
 *                                             plus `in` (instance that last saw the device),
 *                                             `sn` (last seen, ms), `wv` (write version,
 *                                             scripts.ts), `dl` (index deadline, ms). No TTL:
 *                                             only the expiry sweep, De-register or a new
 *                                             Register remove it.
 *   <p>:{ep:E}:prov  provisioningByEndpoint   string: the device's provisioning record (profile,
 *                                             credentials) as JSON, from the compacted devices
 *                                             topic. No TTL: the topic's tombstone deletes it.
 *   <p>:{ep:E}:obs   observationsByEndpoint   hash: token → observation (observation-codec.ts),
 *                                             of the current registration and, until
 *                                             removeByRegistration, of replaced ones.
 *                                             PEXPIREAT = `dl`; RETIRE_MS once the device is gone.
 *   <p>:{ep:E}:rpcq  rpcQueueByEndpoint       list: ids of the device's held RPC requests, in
 *                                             order (docs/rpc-routing.md).
 *   <p>:{ep:E}:rpc   rpcEntriesByEndpoint     hash: id → request entry JSON (rpc/rpc-queue.ts),
 *                                             for the held and the in-flight request.
 *   <p>:{ep:E}:rpcf  rpcFlightByEndpoint      hash {id, by, until}: the request in flight, the
 *                                             instance running it and its lease deadline (ms).
 *   <p>:{ep:E}:caps  capabilitiesByEndpoint   hash: `rid` (the registration the facts are about)
 *                                             and one field per fact: `lacks:<operation>`,
 *                                             `format:<content format>` (server/capabilities/).
 *                                             A fact of another registration replaces them all.
 *                                             PX CAPABILITY_TTL_MS, refreshed by each fact.
 *   <p>:{ep:E}:rpcs  rpcSeenByEndpoint        sorted set: request id → when taken (ms), for
 *                                             refusing a repeated id (DEDUP_WINDOW_MS, trimmed
 *                                             by each enqueue). Queue, entries and seen ids
 *                                             expire a window after their last deadline.
 *
 * Index keys: each in its own slot (its own tag), written with separate commands, never inside
 * a device script. An index is a hint: every reader confirms it through the device hash, so an
 * index left behind by a crash between two writes points to nothing and expires at its TTL.
 *
 *   <p>:{rid:ID}      endpointByRegistrationId  string E. Update/De-register carry only the id
 *                                               (LwM2M-Core 1.2 §6.2.2-6.2.3). PXAT `dl`; kept
 *                                               RETIRE_MS after the registration ends so that
 *                                               removeByRegistration(id) can still find E.
 *   <p>:{addr:A|P}    endpointByAddress         JSON [E, wv]: wv = write version of the device
 *                                               state that set it, so that out-of-order index
 *                                               writes never replace or delete a newer entry
 *                                               (scripts.ts SET_IF_NEWER, DELETE_IF_EQUAL). Send
 *                                               is identified by its source address
 *                                               (LwM2M-Core 1.2 §6.4.3). PXAT `dl`.
 *   <p>:{tok:T}       observationByToken        the serialised observation itself (it never
 *                                               changes), so that a notification, matched by
 *                                               token alone (RFC 7641 §3.2), costs one GET.
 *                                               PXAT `dl`, refreshed by Update.
 *   <p>:{cred:K:ID}   endpointByCredential      string E: the device whose provisioned credentials a
 *                                               DTLS handshake finds by ID: K = psk (identity), rpk
 *                                               (SHA-256 of the key's DER, hex), x509 (CN). No
 *                                               TTL; the reader confirms it in E's provisioning.
 *   <p>:{dtls:SID}    dtlsSessionById           hash: `s` the DTLS connection state (suite, master
 *                                               secret, randoms, identity, CIDs) sealed with
 *                                               AES-256-GCM under DTLS_SHARED_SECRET, `w` the next
 *                                               block of write sequence numbers (HINCRBY), `r` the
 *                                               highest read sequence number recorded. PX session TTL,
 *                                               refreshed with the read mark.
 *   <p>:{dtlscid:C}   dtlsSessionByCid          string SID: the connection whose issued CID is C (hex).
 *   <p>:{dtlspeer:A}  dtlsSessionByPeer         string SID: the connection the device at address A
 *                                               last used (continuation without CID). Both PX the
 *                                               session TTL; readers confirm through the session.
 *   <p>:{rpcdue:S}    rpcDueByShard             sorted set, member E, score = when E's queue next
 *                                               needs the sweep: its earliest request deadline
 *                                               or in-flight lease deadline (or a sweep lease).
 *   <p>:{inst:I}      instanceAlive             string, PX: present while instance I runs (its
 *                                               heartbeat). RPC hand-off asks it before routing.
 *   <p>:{expiry:S}    expiryByShard             sorted set, member E, score = expiresAt (ms) or a
 *                                               lease deadline while a sweeper works on it.
 *                                               S = shard of E, 0 ≤ S < EXPIRY_SHARDS: one slot
 *                                               per shard, so the index spreads over the cluster.
 *
 * Channel (pub/sub, not a key; PUBLISH reaches every node of a cluster):
 *
 *   <p>:cache-invalidation   cacheInvalidationChannel   JSON ["r"|"o", instanceId, endpoint|token]
 *                                               after a write that changes a registration ("r")
 *                                               or removes an observation ("o"), so that other
 *                                               instances drop their cached copy at once
 *                                               (cache-invalidation.ts).
 *   <p>:inst:I               instanceChannel      JSON messages to instance I (rpc-peers.ts):
 *                                               drain an endpoint's RPC queue, or the response
 *                                               to a request it took over HTTP.
 *
 * `dl` (deadline) = expiresAt + grace + lifetime: indexes outlive the registration by one more
 * lifetime, so one missed refresh does not lose them.
 *
 * EXPIRY_SHARDS is part of the layout: changing it orphans members of the removed shards.
 */
import { ConfigError } from '../common/errors';

export const EXPIRY_SHARDS = 16;

/** How long indexes and observations of an ended registration stay for the cleanup that follows. */
export const RETIRE_MS = 300_000;

export class RedisKeys {
  private readonly p: string;

  constructor(prefix: string) {
    // A brace in the prefix would become every key's hash tag: the whole store in one slot.
    if (prefix === '' || /[{}]/.test(prefix))
      throw new ConfigError(
        `Redis key prefix (REDIS_KEY_PREFIX) must be non-empty and contain no "{" or "}", got "${prefix}"`,
      );
    this.p = prefix;
  }

  registrationByEndpoint(endpoint: string): string {
    return `${this.p}:{ep:${endpoint}}:reg`;
  }

  provisioningByEndpoint(endpoint: string): string {
    return `${this.p}:{ep:${endpoint}}:prov`;
  }

  dtlsSessionById(sessionIdHex: string): string {
    return `${this.p}:{dtls:${sessionIdHex}}`;
  }

  dtlsSessionByCid(cidHex: string): string {
    return `${this.p}:{dtlscid:${cidHex}}`;
  }

  dtlsSessionByPeer(peer: string): string {
    return `${this.p}:{dtlspeer:${peer}}`;
  }

  endpointByCredential(kind: string, id: string): string {
    return `${this.p}:{cred:${kind}:${id}}`;
  }

  observationsByEndpoint(endpoint: string): string {
    return `${this.p}:{ep:${endpoint}}:obs`;
  }

  endpointByRegistrationId(id: string): string {
    return `${this.p}:{rid:${id}}`;
  }

  endpointByAddress(address: string, port: number): string {
    return `${this.p}:{addr:${address}|${port}}`;
  }

  observationByToken(token: string): string {
    return `${this.p}:{tok:${token}}`;
  }

  capabilitiesByEndpoint(endpoint: string): string {
    return `${this.p}:{ep:${endpoint}}:caps`;
  }

  rpcQueueByEndpoint(endpoint: string): string {
    return `${this.p}:{ep:${endpoint}}:rpcq`;
  }

  rpcEntriesByEndpoint(endpoint: string): string {
    return `${this.p}:{ep:${endpoint}}:rpc`;
  }

  rpcFlightByEndpoint(endpoint: string): string {
    return `${this.p}:{ep:${endpoint}}:rpcf`;
  }

  rpcSeenByEndpoint(endpoint: string): string {
    return `${this.p}:{ep:${endpoint}}:rpcs`;
  }

  rpcDueByShard(shard: number): string {
    return `${this.p}:{rpcdue:${shard}}`;
  }

  rpcDueShards(): string[] {
    return Array.from({ length: EXPIRY_SHARDS }, (_, s) => this.rpcDueByShard(s));
  }

  rpcDueOf(endpoint: string): string {
    return this.rpcDueByShard(shardOf(endpoint));
  }

  instanceAlive(instance: string): string {
    return `${this.p}:{inst:${instance}}`;
  }

  instanceChannel(instance: string): string {
    return `${this.p}:inst:${instance}`;
  }

  cacheInvalidationChannel(): string {
    return `${this.p}:cache-invalidation`;
  }

  expiryByShard(shard: number): string {
    return `${this.p}:{expiry:${shard}}`;
  }

  expiryShards(): string[] {
    return Array.from({ length: EXPIRY_SHARDS }, (_, s) => this.expiryByShard(s));
  }

  expiryOf(endpoint: string): string {
    return this.expiryByShard(shardOf(endpoint));
  }
}

/** FNV-1a over the UTF-16 code units, modulo EXPIRY_SHARDS. Stable across instances and versions. */
export function shardOf(endpoint: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < endpoint.length; i++) {
    h ^= endpoint.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % EXPIRY_SHARDS;
}

/** The part of a key Redis Cluster hashes (Redis Cluster spec, "Hash tags"); exported for tests. */
export function clusterHashTag(key: string): string {
  const open = key.indexOf('{');
  if (open < 0) return key;
  const close = key.indexOf('}', open + 1);
  if (close < 0 || close === open + 1) return key;
  return key.slice(open + 1, close);
}

/** Index deadline: expiresAt + grace + one more lifetime. Mirrored by the Update script. */
export function indexDeadline(expiresAt: number, lifetimeS: number, graceMs: number): number {
  return expiresAt + graceMs + lifetimeS * 1000;
}

/** The value of an endpointByAddress entry; `version` is the write version of the device state. */
export function addressEntry(endpoint: string, version: number): string {
  return JSON.stringify([endpoint, version]);
}

/** The endpoint an endpointByAddress entry points to, undefined when malformed. */
export function endpointOfAddressEntry(value: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(value);
    return Array.isArray(parsed) && typeof parsed[0] === 'string' ? parsed[0] : undefined;
  } catch {
    return undefined;
  }
}
