/**
 * Anti-replay window of RFC 6347 §4.1.2.6 (the sliding window of RFC 4303 §3.4.3): a record is
 * accepted once per sequence number, and one older than the window's 64 numbers is refused.
 * Checked before a record is used, marked only once it authenticated (a forged record must not
 * move the window).
 */
const WINDOW = 64;

export class ReplayWindow {
  /** Highest sequence number marked; -1 before any. */
  private top: number;
  /** Bit i set: top - i was seen. Bits as a bigint, 64 of them. */
  private bits = 0n;

  /** `floor`: sequence numbers at or below it count as seen (a window continued from elsewhere). */
  constructor(floor = -1) {
    this.top = floor;
    if (floor >= 0) this.bits = (1n << BigInt(WINDOW)) - 1n;
  }

  get highest(): number {
    return this.top;
  }

  /** True when `seq` may be new: above the window, or inside it and not marked. */
  mayAccept(seq: number): boolean {
    if (seq > this.top) return true;
    const age = this.top - seq;
    if (age >= WINDOW) return false;
    return ((this.bits >> BigInt(age)) & 1n) === 0n;
  }

  mark(seq: number): void {
    if (seq > this.top) {
      const shift = seq - this.top;
      this.bits = shift >= WINDOW ? 1n : ((this.bits << BigInt(shift)) | 1n) & ((1n << BigInt(WINDOW)) - 1n);
      this.top = seq;
      return;
    }
    const age = this.top - seq;
    if (age < WINDOW) this.bits |= 1n << BigInt(age);
  }
}
