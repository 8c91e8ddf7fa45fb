// A real OpenID provider that nobody on the kbgate project wrote: the npm package
// `oidc-provider` (pinned in package.json / package-lock.json), on loopback, for kbgate's
// end-to-end browser-login test (scripts/oidc-tests.sh).
//
// Usage: node provider.mjs <port> <kbgate base URL> <client secret>
//
// One confidential client `kbgate` (client_secret_basic, PKCE S256 required, redirect to
// kbgate's callback, logout back to kbgate's logout page). The development interactions of
// oidc-provider accept any login; the account id is the login, its email is the login, and its
// `kb_orgs` claim (scope `kb`) follows the login's first word: alice → acme, bob → globex.
// Consent is granted automatically (first-party client). Test use only.
import Provider from 'oidc-provider';

const [port, kbgate, secret] = process.argv.slice(2);
if (!port || !kbgate || !secret) {
  console.error('usage: node provider.mjs <port> <kbgate base URL> <client secret>');
  process.exit(2);
}
const issuer = `http://127.0.0.1:${port}`;

const orgsFor = (login) => {
  if (login.startsWith('alice')) return ['acme'];
  if (login.startsWith('bob')) return ['globex'];
  return [];
};

const configuration = {
  clients: [
    {
      client_id: 'kbgate',
      client_secret: secret,
      redirect_uris: [`${kbgate}/_kbgate/callback`],
      post_logout_redirect_uris: [`${kbgate}/_kbgate/logout`],
      response_types: ['code'],
      grant_types: ['authorization_code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  pkce: { required: () => true },
  scopes: ['openid', 'email', 'kb'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    kb: ['kb_orgs'],
  },
  // Scope-requested claims go into the ID token too (kbgate reads the ID token only).
  conformIdTokenClaims: false,
  cookies: { keys: ['kbgate-e2e-cookie-key-0123456789abcdef'] },
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: id, email_verified: true, kb_orgs: orgsFor(id) };
      },
    };
  },
  // First-party client: grant the requested scopes without a consent page.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) {
      return ctx.oidc.provider.Grant.find(grantId);
    }
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid email kb');
    await grant.save();
    return grant;
  },
};

const provider = new Provider(issuer, configuration);
provider.on('server_error', (ctx, err) => console.error('server_error', err));
provider.listen(Number(port), '127.0.0.1', () => {
  console.log(`oidc-provider ready at ${issuer}`);
});
