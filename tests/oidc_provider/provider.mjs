// A real OpenID Connect provider for TeamMoa's sign-in tests: the certified `oidc-provider` package,
// configured like a production identity provider (authorization code + PKCE, signed ID tokens, discovery,
// JWKS, userinfo), listening on 127.0.0.1 only.
//
// Usage: node provider.mjs <port> <client-json>   (client-json: {"client_id", "client_secret", "redirect_uris"})
// It prints "ready <issuer>" on stdout once it listens.
//
// Test-only additions, all under /__test/ and never part of the protocol:
//   POST /__test/accounts  {"sub", "email", "email_verified", "name", "preferred_username"}: an account to sign in as
//   POST /__test/tamper    {"mode": "aud" | "iss" | "expired" | "unknown_key" | "rotated_key" | "nonce"}: the next
//                           token response carries an ID token altered that way (re-signed, so only the altered claim
//                           or the key is wrong) — how the tests get the bad tokens a real provider never issues
//   POST /__test/rotate    publish a second signing key from now on ("rotated_key" signs with it)
//   GET  /__test/stats     how often the JWKS was fetched
// The sign-in page is a plain form (/interaction/<uid>) that takes the account's subject; consent is implied.
import http from 'node:http';
import crypto from 'node:crypto';
import Provider from 'oidc-provider';
import * as jose from 'jose';

const port = Number(process.argv[2]);
const client = JSON.parse(process.argv[3]);
const issuer = `http://127.0.0.1:${port}`;

async function signingKey(kid) {
  const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
  return { ...(await jose.exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };
}

const primary = await signingKey('primary-' + crypto.randomBytes(4).toString('hex'));
const rotated = await signingKey('rotated-' + crypto.randomBytes(4).toString('hex'));
const stranger = await signingKey('stranger-' + crypto.randomBytes(4).toString('hex'));
const publicOf = ({ d, p, q, dp, dq, qi, ...rest }) => rest;

const accounts = new Map();
let tamper = null;
let rotatedPublished = false;
let jwksFetches = 0;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: client.client_id,
      client_secret: client.client_secret,
      redirect_uris: client.redirect_uris,
      response_types: ['code'],
      grant_types: ['authorization_code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  jwks: { keys: [primary] },
  cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'preferred_username'] },
  features: { devInteractions: { enabled: false } },
  pkce: { required: () => true },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, id) {
    const account = accounts.get(id);
    if (!account) return undefined;
    return { accountId: id, claims: async () => ({ ...account, sub: id }) };
  },
  async loadExistingGrant(ctx) {
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid email profile');
    await grant.save();
    return grant;
  },
  renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = `<!doctype html><title>Provider error</title><h1 id="op-error">${out.error}</h1><p>${out.error_description ?? ''}</p>`;
  },
});
provider.proxy = false;

async function resign(idToken, mode) {
  const claims = jose.decodeJwt(idToken);
  let key = primary;
  const now = Math.floor(Date.now() / 1000);
  if (mode === 'aud') claims.aud = 'someone-else';
  if (mode === 'iss') claims.iss = 'http://127.0.0.1:1/not-the-issuer';
  if (mode === 'expired') Object.assign(claims, { iat: now - 7200, exp: now - 3600 });
  if (mode === 'nonce') claims.nonce = 'a-nonce-from-another-sign-in';
  if (mode === 'unknown_key') key = stranger;
  if (mode === 'rotated_key') key = rotated;
  const privateKey = await jose.importJWK(key, 'RS256');
  return new jose.SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' }).sign(privateKey);
}

provider.use(async (ctx, next) => {
  await next();
  if (ctx.path === '/jwks') {
    jwksFetches += 1;
    if (rotatedPublished && ctx.body && Array.isArray(ctx.body.keys)) {
      ctx.body = { keys: [...ctx.body.keys, publicOf(rotated)] };
    }
  }
  if (ctx.path === '/token' && tamper && ctx.status === 200 && ctx.body && ctx.body.id_token) {
    const mode = tamper;
    tamper = null;
    ctx.body = { ...ctx.body, id_token: await resign(ctx.body.id_token, mode) };
  }
});

function readBody(req) {
  return new Promise((resolve, reject) => {
    let data = '';
    req.on('data', (chunk) => { data += chunk; });
    req.on('end', () => resolve(data));
    req.on('error', reject);
  });
}

function send(res, status, body, type = 'application/json') {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

async function interaction(req, res) {
  const uid = req.url.split('/')[2];
  try {
    if (req.method === 'GET') {
      const details = await provider.interactionDetails(req, res);
      return send(
        res,
        200,
        `<!doctype html><title>Sign in to the test provider</title><h1>Test provider</h1>
<form method="post" action="/interaction/${escape(details.uid)}/login">
<label>Account <input name="login" id="op-login" autofocus></label>
<button type="submit" id="op-submit">Sign in</button></form>`,
        'text/html; charset=utf-8',
      );
    }
    const form = new URLSearchParams(await readBody(req));
    const login = form.get('login') || '';
    if (!accounts.has(login)) return send(res, 400, `unknown account ${escape(login)} (${escape(uid)})`, 'text/plain');
    return await provider.interactionFinished(req, res, { login: { accountId: login } }, { mergeWithLastSubmission: false });
  } catch (err) {
    return send(res, 400, `interaction failed: ${escape(err.message)}`, 'text/plain');
  }
}

async function testControl(req, res) {
  const body = req.method === 'POST' ? JSON.parse((await readBody(req)) || '{}') : {};
  if (req.url === '/__test/accounts') {
    accounts.set(body.sub, { email: body.email, email_verified: body.email_verified, name: body.name, preferred_username: body.preferred_username });
    return send(res, 201, { sub: body.sub });
  }
  if (req.url === '/__test/tamper') {
    tamper = body.mode;
    return send(res, 200, { mode: tamper });
  }
  if (req.url === '/__test/rotate') {
    rotatedPublished = true;
    return send(res, 200, { kid: rotated.kid });
  }
  if (req.url === '/__test/stats') return send(res, 200, { jwks_fetches: jwksFetches });
  return send(res, 404, { error: 'not_found' });
}

const callback = provider.callback();
const server = http.createServer((req, res) => {
  if (req.url.startsWith('/__test/')) return void testControl(req, res);
  if (req.url.startsWith('/interaction/')) return void interaction(req, res);
  return callback(req, res);
});
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`ready ${issuer}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
