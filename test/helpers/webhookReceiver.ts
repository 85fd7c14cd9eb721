/**
 * A webhook receiver for tests: a node:http server that verifies Standard
 * Webhooks signatures with the `standardwebhooks` library, dedupes on
 * webhook-id like a careful receiver, keeps per-person access, and can be
 * taken down (any status) for a while.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface ReceivedCall {
  id: string;
  effect: string;
  personId: string;
  grants: { id: string }[];
  cycle: number;
  /** False when the id was seen before (a retry): not applied again. */
  applied: boolean;
}

type ReceiverGrant = { id: string; role: string; privileged: boolean };
export interface ReceiverAccess {
  active: boolean;
  grants: ReceiverGrant[];
  /** What `reduce` took away, for `restore`. */
  removed?: ReceiverGrant[];
}

export interface WebhookReceiver {
  url: string;
  secret: string;
  /** Every request that passed signature verification. */
  calls: ReceivedCall[];
  /** Every request's webhook-id and effect, signed or not, answered or not. */
  attempts: { id: string; effect: string; personId: string }[];
  /** Requests refused for a bad or missing signature. */
  rejected: number;
  /** Answer this status to every request while set. */
  down?: number | undefined;
  /** When set, `down` applies only to this effect. */
  downOnly?: string | undefined;
  /** Per person: what the receiver's system still grants. */
  access: Map<string, ReceiverAccess>;
  /** Applied effects for one person, in order. */
  appliedFor(personId: string): string[];
  close(): Promise<void>;
}

export async function startWebhookReceiver(secret: string, port = 0): Promise<WebhookReceiver> {
  const wh = new Webhook(secret);
  const seen = new Set<string>();
  const receiver: WebhookReceiver = {
    url: '',
    secret,
    calls: [],
    attempts: [],
    rejected: 0,
    access: new Map(),
    appliedFor: (personId) =>
      receiver.calls.filter((c) => c.personId === personId && c.applied).map((c) => c.effect),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const reply = (status: number, body?: unknown) => {
        res.writeHead(status, body === undefined ? {} : { 'content-type': 'application/json' });
        res.end(body === undefined ? undefined : JSON.stringify(body));
      };
      let effect = '?';
      let personId = '?';
      try {
        const peek = JSON.parse(raw) as { effect?: unknown; person?: { id?: unknown } };
        effect = String(peek.effect);
        personId = String(peek.person?.id);
      } catch {
        // logged as '?'
      }
      receiver.attempts.push({ id: String(req.headers['webhook-id']), effect, personId });
      if (receiver.down && (!receiver.downOnly || receiver.downOnly === effect))
        return reply(receiver.down, { message: 'down' });
      let payload: { effect: string; person: { id: string }; grants: { id: string }[]; cycle: number };
      try {
        payload = wh.verify(raw, req.headers as Record<string, string>) as typeof payload;
      } catch {
        receiver.rejected++;
        return reply(401, { message: 'bad signature' });
      }
      const id = String(req.headers['webhook-id']);
      const applied = !seen.has(id);
      seen.add(id);
      receiver.calls.push({
        id,
        effect: payload.effect,
        personId: payload.person.id,
        grants: payload.grants,
        cycle: payload.cycle,
        applied,
      });
      const state = receiver.access.get(payload.person.id);
      if (payload.effect === 'verify') {
        if (!state) return reply(200, { exists: false });
        return reply(200, { exists: true, active: state.active, grants: state.grants });
      }
      if (applied && state) {
        if (payload.effect === 'reduce') {
          state.removed = state.grants.filter((g) => g.privileged);
          state.grants = state.grants.filter((g) => !g.privileged);
        }
        if (payload.effect === 'restore') {
          state.grants.push(...(state.removed ?? []));
          state.removed = [];
        }
        if (payload.effect === 'revoke') {
          state.active = false;
          state.grants = [];
        }
      }
      reply(204);
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/lastday`;
  return receiver;
}
