/**
 * A real local HTTP server standing in for a tool's action callback: counts
 * calls, checks every Standard Webhooks signature, and answers with the
 * statuses a test scripts (then 200). A scripted status 0 is a peer that fails
 * halfway: it receives (and counts) the call, then drops the connection
 * without answering.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface ReceivedCall {
  path: string;
  webhookId: string;
  body: { actionId: string; kind: string; target: string; payload: unknown };
  signatureOk: boolean;
  status: number;
}

export interface CallbackServer {
  url: string;
  calls: ReceivedCall[];
  /** Calls to `/path` (each action gets its own path in tests). */
  callsTo(path: string): ReceivedCall[];
  /** The next answers for `/path`, in order (0: drop the connection unanswered); afterwards 200. */
  script(path: string, statuses: number[]): void;
  /** Holds the answers to `/path` (the call is received and counted) until the returned function is called. */
  hold(path: string): () => void;
  /** Resolves once a call to `/path` has been received. */
  received(path: string): Promise<void>;
  close(): Promise<void>;
}

/** `port`: listen there (a test that needs a peer to come back on the same address); else a free port. */
export async function startCallbackServer(secret: string, port = 0): Promise<CallbackServer> {
  const webhook = new Webhook(secret);
  const calls: ReceivedCall[] = [];
  const scripted = new Map<string, number[]>();
  const held = new Map<string, Promise<void>>();
  const waiting = new Map<string, (() => void)[]>();
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += String(c)));
    req.on('end', () => {
      const path = req.url ?? '/';
      let signatureOk = true;
      try {
        webhook.verify(raw, {
          'webhook-id': String(req.headers['webhook-id']),
          'webhook-timestamp': String(req.headers['webhook-timestamp']),
          'webhook-signature': String(req.headers['webhook-signature']),
        });
      } catch {
        signatureOk = false;
      }
      const status = scripted.get(path)?.shift() ?? 200;
      calls.push({
        path,
        webhookId: String(req.headers['webhook-id']),
        body: JSON.parse(raw || '{}'),
        signatureOk,
        status,
      });
      for (const wake of waiting.get(path) ?? []) wake();
      waiting.delete(path);
      void (held.get(path) ?? Promise.resolve()).then(() =>
        status === 0
          ? req.socket.destroy()
          : res.writeHead(status, { 'content-type': 'application/json' }).end('{"ok":true}'),
      );
    });
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    calls,
    callsTo: (path) => calls.filter((c) => c.path === path),
    script: (path, statuses) => scripted.set(path, [...statuses]),
    hold: (path) => {
      let release!: () => void;
      held.set(path, new Promise<void>((r) => (release = r)));
      return () => {
        held.delete(path);
        release();
      };
    },
    received: (path) =>
      calls.some((c) => c.path === path)
        ? Promise.resolve()
        : new Promise<void>((r) => waiting.set(path, [...(waiting.get(path) ?? []), r])),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
