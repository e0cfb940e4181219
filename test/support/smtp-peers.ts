// SMTP peers that misbehave on purpose (npm smtp-server): rejecting recipients or messages with a
// chosen reply, or accepting and then never answering.
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';

export interface Peer {
  port: number;
  received: number;
  close(): Promise<void>;
}

export async function startPeer(behaviour: Partial<SMTPServerOptions>): Promise<Peer> {
  const peer = { port: 0, received: 0, close: async () => {} };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, _session, callback) {
      stream.resume();
      stream.on('end', () => {
        peer.received++;
        callback();
      });
    },
    ...behaviour,
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  peer.port = (server.server.address() as { port: number }).port;
  peer.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return peer;
}

/** A callback error carrying an SMTP reply code, as smtp-server expects. */
export function reply(code: number, text: string): Error {
  return Object.assign(new Error(text), { responseCode: code });
}

/**
 * A minimal SMTP server that takes the whole message and then drops the connection instead of
 * answering: the sender cannot know whether the message was accepted.
 */
export async function startDroppingPeer(): Promise<Peer> {
  const { createServer } = await import('node:net');
  const peer = { port: 0, received: 0, close: async () => {} };
  const server = createServer((socket) => {
    let inData = false;
    let buffer = '';
    socket.write('220 drop.test ESMTP\r\n');
    socket.on('data', (chunk) => {
      buffer += chunk.toString('latin1');
      if (inData) {
        if (buffer.includes('\r\n.\r\n')) {
          peer.received++;
          socket.destroy();
        }
        return;
      }
      let i: number;
      while ((i = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, i).toUpperCase();
        buffer = buffer.slice(i + 2);
        if (line.startsWith('EHLO') || line.startsWith('HELO')) socket.write('250 drop.test\r\n');
        else if (line.startsWith('DATA')) {
          inData = true;
          socket.write('354 go ahead\r\n');
          return;
        } else if (line.startsWith('QUIT')) socket.end('221 bye\r\n');
        else socket.write('250 OK\r\n');
      }
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  peer.port = (server.address() as { port: number }).port;
  peer.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return peer;
}
