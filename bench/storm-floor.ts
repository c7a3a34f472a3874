/**
 * "The floor" of the registration storm (bench/storm.ts): the least a Node process can do per
 * CoAP request, a UDP responder that answers each CON request with a piggybacked 2.01 (Message
 * ID and token echoed, RFC 7252 §5.2.1) and nothing else. Its CPU per request, measured in the
 * same session, scales the bridge's figures to other machines. Prints {"port": n} once bound.
 */
import { createSocket } from 'node:dgram';

const socket = createSocket({ type: 'udp4' });
socket.on('message', (buf, rinfo) => {
  if (buf.length < 4 || (buf[0] as number) >> 6 !== 1 || (((buf[0] as number) >> 4) & 3) !== 0) return;
  const tkl = (buf[0] as number) & 0x0f;
  const out = Buffer.allocUnsafe(4 + tkl);
  out[0] = 0x60 | tkl; // ACK
  out[1] = 0x41; // 2.01 Created
  buf.copy(out, 2, 2, 4 + tkl);
  socket.send(out, rinfo.port, rinfo.address);
});
socket.bind(0, '127.0.0.1', () => {
  try {
    socket.setRecvBufferSize(8 * 1024 * 1024);
  } catch {
    // rmem_max bounds it; the default still works
  }
  process.stdout.write(`${JSON.stringify({ port: socket.address().port })}\n`);
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
