// A real OpenID Connect provider (the npm `oidc-provider` package, the same certified library
// many identity services run) for the sign-in tests: authorisation code with PKCE, one
// confidential client, accounts whose `roles` claim the tests choose.
//
//   node tests/oidc/provider.mjs PORT REDIRECT_URI ACCOUNTS_JSON
//
// ACCOUNTS_JSON: {"<login>": {"name": "...", "roles": ["..."], "employee_number": "..."}}
// (employee_number optional: left out of the claims when not given). Any password is accepted
// (the provider's development login page). Prints "ready <issuer>" once listening.
import Provider from 'oidc-provider';

const [port, redirectUri, accountsJson] = process.argv.slice(2);
const accounts = JSON.parse(accountsJson || '{}');
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'dispatch-tests',
    client_secret: 'dispatch-tests-secret',
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  pkce: { required: () => true },
  scopes: ['openid', 'profile'],
  claims: { openid: ['sub'], profile: ['name', 'roles', 'employee_number'] },
  // The claims the scopes grant go into the ID token too (what the service reads).
  conformIdTokenClaims: false,
  findAccount: async (ctx, sub) => ({
    accountId: sub,
    claims: async () => ({
      sub,
      name: accounts[sub]?.name ?? sub,
      roles: accounts[sub]?.roles ?? [],
      ...(accounts[sub]?.employee_number ? { employee_number: accounts[sub].employee_number } : {}),
    }),
  }),
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ['dispatch-tests-cookie-key'] },
});
provider.proxy = false;

const server = provider.listen(Number(port), '127.0.0.1', () => {
  console.log(`ready ${issuer}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
