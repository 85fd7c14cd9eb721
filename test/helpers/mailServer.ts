/**
 * A real SMTP server for tests (the `smtp-server` package) on a free port,
 * keeping every accepted mail parsed (mailparser) with the instant it
 * arrived. It can be stopped and started again on the same port, to play a
 * mail server that is down for a while.
 */
import type { AddressInfo } from 'node:net';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  at: number;
  envelopeTo: string[];
  /** Whether the session was upgraded to TLS (STARTTLS) before the mail. */
  secure: boolean;
  mail: ParsedMail;
}

export interface MailServer {
  url: string;
  port: number;
  received: ReceivedMail[];
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function startMailServer(): Promise<MailServer> {
  let server: SMTPServer | undefined;
  const received: ReceivedMail[] = [];
  const make = () =>
    new SMTPServer({
      authOptional: true,
      // STARTTLS stays on, with smtp-server's own self-signed certificate, as a stock server has it.
      disabledCommands: ['AUTH'],
      logger: false,
      // The server's own reverse DNS of the client (slow without a resolver here) is not lastday's delay.
      disableReverseLookup: true,
      onData(stream, session, callback) {
        simpleParser(stream)
          .then((mail) => {
            received.push({
              at: Date.now(),
              envelopeTo: session.envelope.rcptTo.map((r) => r.address),
              secure: session.secure,
              mail,
            });
            callback();
          })
          .catch((err: Error) => callback(err));
      },
    });
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server = make();
      server.on('error', reject);
      server.listen(port, '127.0.0.1', () => resolve((server!.server.address() as AddressInfo).port));
    });
  const port = await listen(0);
  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    received,
    stop: () => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())),
    start: async () => {
      await listen(port);
    },
  };
}

/** A Slack-compatible incoming webhook: keeps each posted `{text}`; `status` is what it answers. */
export interface SlackHook {
  url: string;
  posts: { at: number; text: string }[];
  status: number;
  close(): Promise<void>;
}

export async function startSlackHook(): Promise<SlackHook> {
  const { createServer } = await import('node:http');
  const hook: SlackHook = { url: '', posts: [], status: 200, close: async () => undefined };
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d));
    req.on('end', () => {
      if (hook.status === 200)
        hook.posts.push({ at: Date.now(), text: (JSON.parse(body) as { text: string }).text });
      res.writeHead(hook.status, { 'content-type': 'text/plain' }).end(hook.status === 200 ? 'ok' : 'down');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  hook.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/services/T000/B000/secret`;
  hook.close = () =>
    new Promise<void>((r) => {
      server.close(() => r());
      server.closeAllConnections();
    });
  return hook;
}
