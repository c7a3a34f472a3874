/**
 * Messages between a cluster test (or bench:failover) and its device fleet, a child process in
 * the devices' network namespace (./fleet-worker.ts) speaking over Node's IPC channel.
 */
import { createHash } from 'node:crypto';

/** The PSK of a fleet device, derived from its identity (the test provisions the same). */
export function fleetKey(identity: string): Buffer {
  return createHash('sha256').update(`fleet key ${identity}`).digest().subarray(0, 16);
}

export interface FleetConfig {
  /** The Service's virtual IP: every device talks to VIP:5683 (plain) or VIP:5684 (DTLS). */
  readonly vip: string;
  readonly plain: number;
  readonly dtls: number;
  /** Every n-th device registers in queue mode (b=UQ); 0: none. */
  readonly queueEvery: number;
  /** Endpoint names: `${prefix}p<i>` (plain) and `${prefix}s<i>` (DTLS, PSK identity = endpoint). */
  readonly prefix: string;
  /** Each device sends one value (LwM2M Send) about this often while the load runs. */
  readonly sendIntervalMs: number;
  /** Registration lifetime, long enough that no Update is due during a run. */
  readonly lifetimeS: number;
}

export type FleetCommand =
  | { readonly id: number; readonly cmd: 'open'; readonly config: FleetConfig }
  | { readonly id: number; readonly cmd: 'load'; readonly on: boolean }
  /** These devices stop sending until their next Update, once their request in flight finished. */
  | { readonly id: number; readonly cmd: 'hold'; readonly endpoints: readonly string[] }
  /** Each listed device (by endpoint) sends a registration Update (after a NAT rebinding), then sends again. */
  | { readonly id: number; readonly cmd: 'update'; readonly endpoints: readonly string[] }
  /** The local ports of these devices (to rebind their NAT mappings). */
  | { readonly id: number; readonly cmd: 'ports'; readonly endpoints: readonly string[] }
  /** Until every device's last request finished (no request in flight), bounded. */
  | { readonly id: number; readonly cmd: 'settle'; readonly timeoutMs: number }
  | { readonly id: number; readonly cmd: 'stats' };

export interface FleetCounters {
  devices: number;
  registered: number;
  /** Registrations after the first (a 4.04 to an Update or a Send): the target is 0. */
  reregistrations: number;
  /** DTLS handshakes, the first of each device included: the target is the DTLS device count. */
  handshakes: number;
  updates: number;
  sendsSent: number;
  /** Sends answered 2.04: the bridge had them acknowledged by Kafka. */
  sendsAcked: number;
  /** Sends answered 5.03 (back-pressure): not acknowledged, so not expected on Kafka. */
  sendsRefused: number;
  /** Sends with no answer after every retransmission. */
  sendsTimedOut: number;
  /** Other answers, by code ("4.04"...). */
  sendsOther: Record<string, number>;
  retransmissions: number;
  /** Requests from the bridge (RPC downlinks), answered. */
  downlinks: number;
  /** Datagrams that did not come from the VIP and the port the device talks to: the target is 0. */
  wrongSource: number;
  /** The first unexpected answers, for diagnostics: "endpoint kind code payload". */
  unexpected: string[];
}

export interface FleetStats {
  readonly counters: FleetCounters;
  /** Acknowledged values per endpoint (the Send's value is the device's sequence number). */
  readonly acked: Record<string, number[]>;
}

/** Sent by the fleet unasked: a device got 4.04 to a Send (it registers again a second later). */
export interface FleetNotice {
  readonly notice: 'send-not-found';
  readonly endpoint: string;
  readonly localPort: number;
  readonly at: number;
}

export type FleetReply =
  | { readonly id: number; readonly ok: true; readonly stats?: FleetStats; readonly ports?: Record<string, number> }
  | { readonly id: number; readonly ok: false; readonly error: string };
