/**
 * A TCP proxy in front of a test Redis that can lose an answer: `cutNextReply`
 * drops the connection when Redis's next bytes come back, after Redis ran what
 * was sent (a network that failed between the two, or a CLIENT KILL that beat
 * the reply out). ioredis then reconnects and sends again what it had not
 * been answered. New connections wait for `before` (e.g. a SCRIPT FLUSH, as a
 * restarted Redis has) to be done.
 */
import { connect, createServer, type Socket } from 'node:net';

export interface ReplyCutter {
  url: string;
  /** Drops the connection that next receives bytes from Redis, instead of passing them on. */
  cutNextReply(before?: () => Promise<unknown>): void;
  /** How many answers were dropped. */
  readonly cuts: number;
  close(): Promise<void>;
}

export async function startReplyCutter(redisUrl: string): Promise<ReplyCutter> {
  const target = new URL(redisUrl);
  const sockets = new Set<Socket>();
  let armed = false;
  let before: (() => Promise<unknown>) | undefined;
  let gate: Promise<unknown> = Promise.resolve();
  let cuts = 0;
  const track = (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
  };
  const server = createServer((client) => {
    track(client);
    client.pause();
    void gate.then(() => {
      if (client.destroyed) return;
      const up = connect(Number(target.port), target.hostname);
      track(up);
      client.on('data', (d) => up.write(d));
      up.on('data', (d) => {
        if (armed) {
          armed = false;
          cuts++;
          gate = (before?.() ?? Promise.resolve()).catch(() => undefined);
          client.destroy();
          up.destroy();
          return;
        }
        client.write(d);
      });
      client.on('close', () => up.destroy());
      up.on('close', () => client.destroy());
      client.resume();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `redis://127.0.0.1:${port}${target.pathname}`,
    cutNextReply(hook) {
      armed = true;
      before = hook;
    },
    get cuts() {
      return cuts;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
