import { createConnection, createServer, Server, Socket } from 'node:net';

/**
 * A TCP relay in front of a server, for outage tests: `down()` closes the listener and cuts every
 * open connection (the server seems gone: connections reset, new ones refused), `up()` listens
 * again on the same port, `stall()` keeps the connections open but forwards nothing more (the
 * server seems hung, or the network drops its packets: a new connection never completes its
 * handshake), `resume()` forwards again. `stallCommandsOfNewConnections()` lets connections opened
 * from then on complete the MySQL handshake and then forwards nothing more once their client sends
 * its first command (a packet with sequence id 0): a database that accepts a session and then hangs.
 */
export class TcpProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private stalled = false;
  private stallNewAtFirstCommand = false;
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async up(): Promise<void> {
    const server = createServer((client) => {
      const upstream = createConnection({ host: this.targetHost, port: this.targetPort });
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      const stallAtFirstCommand = this.stallNewAtFirstCommand;
      let hung = false;
      client.on('data', (chunk: Buffer) => {
        // A MySQL packet: 3 bytes of length, then its sequence id; a command starts at 0.
        if (stallAtFirstCommand && chunk.length > 3 && chunk[3] === 0) hung = true;
        if (!this.stalled && !hung) upstream.write(chunk);
      });
      upstream.on('data', (chunk: Buffer) => this.stalled || hung || client.write(chunk));
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    this.port = typeof address === 'object' && address ? address.port : 0;
    this.server = server;
  }

  stall(): void {
    this.stalled = true;
  }

  stallCommandsOfNewConnections(): void {
    this.stallNewAtFirstCommand = true;
  }

  /** Forwards again (after `stall()`); connections opened from now on forward their commands too. */
  resume(): void {
    this.stalled = false;
    this.stallNewAtFirstCommand = false;
  }

  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
