/**
 * Webhook connector: for anything without SCIM, lastday POSTs each effect to
 * an internal service, signed with Standard Webhooks (webhook-id,
 * webhook-timestamp, webhook-signature over the raw body).
 *
 * Body: `{"effect": "reduce"|"restore"|"revoke"|"verify", "person": {id, email,
 * name}, "grants": [...], "cycle": n}`. A 2xx answer means done. `verify` is also
 * how lastday reads access there: the receiver may answer
 * `{"exists"?: bool, "active"?: bool, "grants"?: [{id, role?, privileged?}]}`;
 * an empty 2xx body means nothing is left.
 *
 * Writes (`reduce`, `restore`, `revoke`) carry a webhook-id derived from
 * (connector, person, cycle, plan version, effect): every retry of the same
 * effect has the same id, so a receiver that dedupes on it never applies one
 * twice. The plan version is in it because `reduce` and `restore` can happen
 * again in one cycle (an extension restores, the new last day reduces again):
 * those are new effects and must not be taken for duplicates. `verify` is a
 * query and gets a fresh id per call: receivers must answer it every time.
 */
import { createHash, randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import type { AccessState, Connector, Grant, PersonRef } from './connector.ts';
import { ConnectorError } from './connector.ts';
import { errorDetail, HttpClient, type RetryPolicy } from './httpClient.ts';

export type WebhookEffect = 'reduce' | 'restore' | 'revoke' | 'verify';

export interface WebhookConnectorConfig {
  name: string;
  url: string;
  timeoutMs: number;
  concurrency: number;
}

export interface WebhookConnectorOptions {
  /** The Standard Webhooks secret (`whsec_…`, read from `secretEnv` by the registry). */
  secret: string;
  retry?: Partial<RetryPolicy>;
  now?: () => Date;
}

/** What a receiver posts back to `verify` (all fields optional). */
interface VerifyAnswer {
  exists?: unknown;
  active?: unknown;
  grants?: unknown;
}

export class WebhookConnector implements Connector {
  readonly type = 'webhook';
  readonly name: string;
  readonly http: HttpClient;
  private readonly signer: Webhook;
  private readonly now: () => Date;

  constructor(
    private readonly config: WebhookConnectorConfig,
    options: WebhookConnectorOptions,
  ) {
    this.name = config.name;
    this.signer = new Webhook(options.secret);
    this.now = options.now ?? (() => new Date());
    this.http = new HttpClient({
      name: config.name,
      timeoutMs: config.timeoutMs,
      concurrency: config.concurrency,
      ...(options.retry ? { retry: options.retry } : {}),
    });
  }

  async read(person: PersonRef): Promise<AccessState> {
    const answer = (await this.post('verify', person, [])) as VerifyAnswer | undefined;
    if (answer === undefined || typeof answer !== 'object' || answer === null) {
      return { exists: true, active: false, grants: [] };
    }
    if (answer.exists === false) return { exists: false, active: false, grants: [] };
    return { exists: true, active: answer.active === true, grants: this.grantsFrom(answer.grants) };
  }

  /** Always posts, even with no grants listed: the receiver knows what is privileged on its side. */
  async removeGrants(person: PersonRef, grants: readonly Grant[]): Promise<void> {
    await this.post('reduce', person, grants);
  }

  async restoreGrants(person: PersonRef, grants: readonly Grant[]): Promise<void> {
    await this.post('restore', person, grants);
  }

  async disable(person: PersonRef): Promise<void> {
    await this.post('revoke', person, []);
  }

  /** Stable id of one effect for one person in one plan (see the module comment). */
  messageId(person: PersonRef, effect: WebhookEffect): string {
    if (effect === 'verify') return `msg_${randomUUID()}`;
    const digest = createHash('sha256')
      .update(JSON.stringify([this.name, person.id, person.cycle ?? 1, person.planVersion ?? 0, effect]))
      .digest('hex')
      .slice(0, 32);
    return `msg_${digest}`;
  }

  private async post(effect: WebhookEffect, person: PersonRef, grants: readonly Grant[]): Promise<unknown> {
    const body = JSON.stringify({
      effect,
      person: { id: person.id, email: person.email, name: person.name },
      grants,
      cycle: person.cycle ?? 1,
    });
    const id = this.messageId(person, effect);
    return this.http.withRetries(async () => {
      // Signed per try: the timestamp must be fresh for the receiver's tolerance window.
      const at = this.now();
      const res = await this.http.send({
        method: 'POST',
        url: this.config.url,
        headers: {
          'content-type': 'application/json',
          'webhook-id': id,
          'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
          'webhook-signature': this.signer.sign(id, at, body),
        },
        body,
      });
      if (res.status < 200 || res.status >= 300) {
        throw new ConnectorError(
          `${this.name}: ${effect} answered ${res.status}: ${errorDetail(res)}`,
          false,
          res.status,
        );
      }
      return res.json;
    });
  }

  private grantsFrom(raw: unknown): Grant[] {
    if (!Array.isArray(raw)) return [];
    return raw.flatMap((g): Grant[] => {
      if (typeof g !== 'object' || g === null) return [];
      const { id, role, privileged } = g as { id?: unknown; role?: unknown; privileged?: unknown };
      if (typeof id !== 'string' || id === '') return [];
      return [
        {
          id,
          system: this.name,
          role: typeof role === 'string' && role ? role : id,
          privileged: privileged === true,
        },
      ];
    });
  }
}
