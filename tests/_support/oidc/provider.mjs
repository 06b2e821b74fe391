// A real OpenID provider (panva/oidc-provider) for Hypercare's sign-in tests. Never deployed.
//
//   node provider.mjs <redirect_uri>            (or REDIRECT_URI=...; CLIENT_ID / CLIENT_SECRET optional)
//
// Listens on a free port of 127.0.0.1 and prints one line: `READY <issuer>`. One confidential client
// (authorization code + PKCE S256), users in groups, and oidc-provider's development login form
// (devInteractions: any password; the login is the account id). Consent is granted without asking
// (a first-party client), so the form is the only page. Sign-out (end_session_endpoint) asks to confirm, then
// returns to the client's post-logout redirect URI.

import http from "node:http";
import Provider from "oidc-provider";

const redirectUri = process.argv[2] || process.env.REDIRECT_URI;
if (!redirectUri) {
  console.error("usage: node provider.mjs <redirect_uri>");
  process.exit(2);
}
const clientId = process.env.CLIENT_ID || "hypercare";
const clientSecret = process.env.CLIENT_SECRET || "hypercare-test-secret-0123456789abcdef";

// Hypercare's shipped claims file maps these groups; "outsider" is in none of them.
const SAS_HSA_ID = "SE2321000131-FSAS"; // Södra Älvsborgs Sjukhus
const USERS = {
  "chief.sas": { name: "Karin Lindqvist", groups: ["hypercare-chief", "staff"], hsa_org_id: SAS_HSA_ID },
  "walker.one": { name: "Omar Berg", groups: ["hypercare-floorwalker"], hsa_org_id: SAS_HSA_ID },
  "admin.hc": { name: "Hypercare Admin", groups: ["hypercare-admin"], hsa_org_id: "SE2321000131-R" },
  outsider: { name: "Utan Grupp", groups: ["staff"], hsa_org_id: SAS_HSA_ID },
};

const configuration = {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [redirectUri],
      // RP-initiated logout returns the browser to the console (Hypercare's public URL + /console/).
      post_logout_redirect_uris: [new URL("/console/", redirectUri).href],
      grant_types: ["authorization_code"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic",
    },
  ],
  pkce: { required: () => true },
  scopes: ["openid", "profile", "email", "groups", "offline_access"],
  claims: {
    openid: ["sub"],
    profile: ["name", "preferred_username", "hsa_org_id"],
    email: ["email"],
    groups: ["groups"],
  },
  features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
  async findAccount(ctx, id) {
    const user = USERS[id];
    if (!user) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, preferred_username: id, email: `${id}@example.invalid`, ...user };
      },
    };
  },
  // First-party client: grant what it asks for without a consent page.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope("openid profile email groups");
    await grant.save();
    return grant;
  },
};

const server = http.createServer();
server.listen(0, "127.0.0.1", () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, configuration);
  server.on("request", provider.callback());
  console.log(`READY ${issuer}`);
});

for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => server.close(() => process.exit(0)));
