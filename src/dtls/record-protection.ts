/**
 * Protection of records once a cipher spec is active (epoch ≥ 1): AEAD (AES-128-GCM,
 * RFC 5288 §3; AES-128-CCM with an 8-byte tag, RFC 6655 §3) or AES-128-CBC with HMAC-SHA256
 * (MAC-then-encrypt, RFC 5246 §6.2.3.2). DTLS puts epoch and sequence number where TLS has the
 * implicit sequence number (RFC 6347 §4.1.2.1): in the MAC/AAD and as the AEAD explicit nonce.
 *
 * With a connection ID (RFC 9146 §4-§6) the record's outer type is tls12_cid, the content is
 * DTLSInnerPlaintext (content, real type, zero padding), and the AAD/MAC input is
 *   seq_num_placeholder (8 × 0xff) ‖ 25 ‖ cid_length ‖ 25 ‖ version ‖ epoch ‖ sequence ‖ cid ‖ length.
 * A record that fails to authenticate yields undefined: it is dropped (§4.1.2.7), never an error.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { CipherSuite } from './cipher-suites';
import { keyBlockLength } from './cipher-suites';
import { keyBlock } from './prf';
import {
  ContentType,
  DTLS_1_2,
  RECORD_HEADER_LENGTH,
  encodeRecord,
  writeRecordHeader,
  type DtlsRecord,
} from './record';

export interface DirectionKeys {
  readonly macKey: Buffer;
  readonly encKey: Buffer;
  readonly fixedIv: Buffer;
}

export interface SessionKeys {
  readonly client: DirectionKeys;
  readonly server: DirectionKeys;
}

export function deriveKeys(
  suite: CipherSuite,
  master: Buffer,
  clientRandom: Buffer,
  serverRandom: Buffer,
): SessionKeys {
  const block = keyBlock(master, clientRandom, serverRandom, keyBlockLength(suite));
  let pos = 0;
  const take = (n: number): Buffer => block.subarray(pos, (pos += n));
  const clientMac = take(suite.macKeyLength);
  const serverMac = take(suite.macKeyLength);
  const clientKey = take(suite.encKeyLength);
  const serverKey = take(suite.encKeyLength);
  const clientIv = take(suite.fixedIvLength);
  const serverIv = take(suite.fixedIvLength);
  return {
    client: { macKey: clientMac, encKey: clientKey, fixedIv: clientIv },
    server: { macKey: serverMac, encKey: serverKey, fixedIv: serverIv },
  };
}

const TAG = { ccm8: 8, gcm: 16 } as const;
const EXPLICIT_NONCE = 8;
const CBC_BLOCK = 16;
const MAC_LENGTH = 32;
const PLACEHOLDER = Buffer.alloc(8, 0xff);

/** Epoch and sequence number as the 8-byte "seq_num" of TLS (RFC 6347 §4.1.2.1), written at `at`. */
function writeSeqNum(b: Buffer, at: number, epoch: number, sequence: number): void {
  b.writeUInt16BE(epoch, at);
  b.writeUIntBE(sequence, at + 2, 6);
}

/** The AAD of an AEAD record, or the MAC header of a CBC record, for `length` bytes of content. */
function additionalData(
  type: number,
  epoch: number,
  sequence: number,
  length: number,
  cid: Buffer | undefined,
): Buffer {
  if (cid === undefined) {
    const b = Buffer.allocUnsafe(13);
    writeSeqNum(b, 0, epoch, sequence);
    b[8] = type;
    b.writeUInt16BE(DTLS_1_2, 9);
    b.writeUInt16BE(length, 11);
    return b;
  }
  const b = Buffer.allocUnsafe(8 + 3 + 2 + 8 + cid.length + 2);
  PLACEHOLDER.copy(b, 0);
  b[8] = ContentType.TLS12_CID;
  b[9] = cid.length;
  b[10] = ContentType.TLS12_CID;
  b.writeUInt16BE(DTLS_1_2, 11);
  writeSeqNum(b, 13, epoch, sequence);
  cid.copy(b, 21);
  b.writeUInt16BE(length, 21 + cid.length);
  return b;
}

/** The AEAD nonce: the key block's fixed IV, then the record's explicit nonce (RFC 5288 §3, RFC 6655 §3). */
function aeadNonce(fixedIv: Buffer, explicit: Buffer): Buffer {
  const nonce = Buffer.allocUnsafe(fixedIv.length + EXPLICIT_NONCE);
  fixedIv.copy(nonce, 0);
  explicit.copy(nonce, fixedIv.length, 0, EXPLICIT_NONCE);
  return nonce;
}

/** One direction's protection: the server seals with its write keys and opens with the client's. */
export class RecordProtection {
  constructor(
    private readonly suite: CipherSuite,
    private readonly keys: DirectionKeys,
  ) {}

  /** The whole record: header (with `cid` when given) and protected fragment. */
  seal(type: number, epoch: number, sequence: number, content: Buffer, cid?: Buffer): Buffer {
    const inner = cid !== undefined ? Buffer.concat([content, Buffer.from([type])]) : content;
    const outerType = cid !== undefined ? ContentType.TLS12_CID : type;
    if (this.suite.cipher !== 'cbc') return this.sealAead(outerType, epoch, sequence, inner, cid);
    return encodeRecord(type, epoch, sequence, this.sealCbc(outerType, epoch, sequence, inner, cid), cid);
  }

  /** The content and its type, or undefined when the record does not authenticate. */
  open(record: DtlsRecord): { type: number; content: Buffer } | undefined {
    const inner = this.suite.cipher === 'cbc' ? this.openCbc(record) : this.openAead(record);
    if (inner === undefined) return undefined;
    if (record.cid === undefined) return { type: record.type, content: inner };
    // DTLSInnerPlaintext: strip the zero padding; the last non-zero byte is the real type (RFC 9146 §4).
    let end = inner.length;
    while (end > 0 && inner[end - 1] === 0) end--;
    if (end === 0) return undefined;
    return { type: inner[end - 1] as number, content: inner.subarray(0, end - 1) };
  }

  /** An AEAD record built in one buffer: header, explicit nonce, ciphertext and tag. */
  private sealAead(type: number, epoch: number, sequence: number, content: Buffer, cid: Buffer | undefined): Buffer {
    const tagLength = this.suite.cipher === 'ccm8' ? TAG.ccm8 : TAG.gcm;
    const headerLength = RECORD_HEADER_LENGTH + (cid?.length ?? 0);
    const fragmentLength = EXPLICIT_NONCE + content.length + tagLength;
    const out = Buffer.allocUnsafe(headerLength + fragmentLength);
    writeRecordHeader(out, type, epoch, sequence, fragmentLength, cid);
    writeSeqNum(out, headerLength, epoch, sequence);
    const nonce = aeadNonce(this.keys.fixedIv, out.subarray(headerLength));
    const aad = additionalData(type, epoch, sequence, content.length, cid);
    const c =
      this.suite.cipher === 'ccm8'
        ? createCipheriv('aes-128-ccm', this.keys.encKey, nonce, { authTagLength: TAG.ccm8 }).setAAD(aad, {
            plaintextLength: content.length,
          })
        : createCipheriv('aes-128-gcm', this.keys.encKey, nonce).setAAD(aad);
    const body = headerLength + EXPLICIT_NONCE;
    // Counter-mode ciphers give all of the ciphertext from update(); final() adds nothing but the tag.
    c.update(content).copy(out, body);
    c.final();
    c.getAuthTag().copy(out, body + content.length);
    return out;
  }

  private openAead(record: DtlsRecord): Buffer | undefined {
    const tagLength = this.suite.cipher === 'ccm8' ? TAG.ccm8 : TAG.gcm;
    const f = record.fragment;
    if (f.length < EXPLICIT_NONCE + tagLength) return undefined;
    const nonce = aeadNonce(this.keys.fixedIv, f);
    const body = f.subarray(EXPLICIT_NONCE, f.length - tagLength);
    const tag = f.subarray(f.length - tagLength);
    const aad = additionalData(record.type, record.epoch, record.sequence, body.length, record.cid);
    try {
      if (this.suite.cipher === 'ccm8') {
        const d = createDecipheriv('aes-128-ccm', this.keys.encKey, nonce, { authTagLength: TAG.ccm8 });
        d.setAuthTag(tag);
        d.setAAD(aad, { plaintextLength: body.length });
        const out = d.update(body);
        d.final();
        return out;
      }
      const d = createDecipheriv('aes-128-gcm', this.keys.encKey, nonce);
      d.setAuthTag(tag);
      d.setAAD(aad);
      const out = d.update(body);
      d.final();
      return out;
    } catch {
      return undefined;
    }
  }

  private mac(type: number, epoch: number, sequence: number, content: Buffer, cid: Buffer | undefined): Buffer {
    return createHmac('sha256', this.keys.macKey)
      .update(additionalData(type, epoch, sequence, content.length, cid))
      .update(content)
      .digest();
  }

  private sealCbc(type: number, epoch: number, sequence: number, content: Buffer, cid: Buffer | undefined): Buffer {
    const mac = this.mac(type, epoch, sequence, content, cid);
    const padLength = CBC_BLOCK - ((content.length + MAC_LENGTH + 1) % CBC_BLOCK);
    const padding = Buffer.alloc((padLength % CBC_BLOCK) + 1, padLength % CBC_BLOCK);
    const iv = randomBytes(CBC_BLOCK);
    const c = createCipheriv('aes-128-cbc', this.keys.encKey, iv);
    c.setAutoPadding(false);
    return Buffer.concat([iv, c.update(Buffer.concat([content, mac, padding])), c.final()]);
  }

  private openCbc(record: DtlsRecord): Buffer | undefined {
    const f = record.fragment;
    if (f.length < 2 * CBC_BLOCK + MAC_LENGTH || f.length % CBC_BLOCK !== 0) return undefined;
    let plain: Buffer;
    try {
      const d = createDecipheriv('aes-128-cbc', this.keys.encKey, f.subarray(0, CBC_BLOCK));
      d.setAutoPadding(false);
      plain = Buffer.concat([d.update(f.subarray(CBC_BLOCK)), d.final()]);
    } catch {
      return undefined;
    }
    // Check padding and MAC together, computing the MAC even when the padding is wrong, so that
    // both failures take about the same time (RFC 5246 §6.2.3.2, note on timing).
    const padLength = plain[plain.length - 1] as number;
    let paddingOk = padLength + 1 + MAC_LENGTH <= plain.length;
    const padStart = paddingOk ? plain.length - padLength - 1 : plain.length - 1;
    for (let i = padStart; i < plain.length; i++) if (plain[i] !== padLength) paddingOk = false;
    const contentEnd = (paddingOk ? padStart : plain.length - 1) - MAC_LENGTH;
    const content = plain.subarray(0, Math.max(0, contentEnd));
    const expected = this.mac(record.type, record.epoch, record.sequence, content, record.cid);
    const got = plain.subarray(Math.max(0, contentEnd), Math.max(0, contentEnd) + MAC_LENGTH);
    const macOk = got.length === MAC_LENGTH && timingSafeEqual(expected, got);
    return paddingOk && macOk ? content : undefined;
  }
}
