/**
 * Try the SCIM and webhook connectors by hand: starts the test SCIM server
 * (scimmy) and the signature-checking webhook receiver on fixed local ports,
 * seeds person `c-1042` in both, and prints the environment lastday needs.
 * Ctrl-C stops it. See docs/connectors.md.
 *
 *   npx tsx test/helpers/connectorSandbox.ts
 */
import { startScimServer } from './scimServer.ts';
import { startWebhookReceiver } from './webhookReceiver.ts';

const token = 'sandbox-scim-token';
const secret = `whsec_${Buffer.from('lastday-sandbox-webhook-secret-01').toString('base64')}`;

const scim = await startScimServer({ token, port: 8090 });
const receiver = await startWebhookReceiver(secret, 8091);
const user = scim.addUser({ userName: 'c-1042', emails: [{ value: 'c-1042@example.com', primary: true }] });
scim.addGroup('cms-admins', [user.id]);
scim.addGroup('prod-db-admins', [user.id]);
scim.addGroup('staff', [user.id]);
receiver.access.set('c-1042', {
  active: true,
  grants: [
    { id: 'billing-admin', role: 'admin', privileged: true },
    { id: 'wiki', role: 'reader', privileged: false },
  ],
});

process.stdout.write(
  [
    `SCIM server:      ${scim.url}   (user c-1042 in cms-admins, prod-db-admins, staff)`,
    `webhook receiver: ${receiver.url}`,
    '',
    'export these for lastday, and put the two URLs in your config:',
    `  export IDP_SCIM_TOKEN=${token}`,
    `  export TOOLS_WEBHOOK_SECRET=${secret}`,
    '',
  ].join('\n'),
);
setInterval(() => {
  const groups = scim.groupsOf(user.id).join(', ') || '(none)';
  const active = scim.store.users.get(user.id)?.active;
  const calls = receiver.calls.map((c) => c.effect).join(' ');
  process.stdout.write(`c-1042: scim active=${active} groups=${groups} | webhook calls: ${calls}\n`);
}, 5_000).unref();
process.on('SIGINT', () => {
  void Promise.all([scim.close(), receiver.close()]).then(() => process.exit(0));
});
