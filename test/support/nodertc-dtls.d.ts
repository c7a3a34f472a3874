/** The part of @nodertc/dtls (a DTLS client, no types of its own) that the tests use. */
declare module '@nodertc/dtls' {
  import type { Duplex } from 'node:stream';
  export interface ConnectOptions {
    type: 'udp4' | 'udp6';
    remoteAddress: string;
    remotePort: number;
    pskIdentity?: string;
    pskSecret?: Buffer;
    certificate?: Buffer;
    certificatePrivateKey?: Buffer;
    cipherSuites?: string[];
    checkServerIdentity?: (cert: unknown) => boolean;
    maxHandshakeRetransmissions?: number;
  }
  export interface DtlsSocket extends Duplex {
    close(): void;
  }
  export function connect(options: ConnectOptions): DtlsSocket;
}
