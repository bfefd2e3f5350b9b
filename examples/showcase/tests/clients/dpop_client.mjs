// panva's oauth4webapi makes every DPoP proof (RFC 9449) against the showcase:
// its DPoP handle signs the proofs (`jwk` header, `htu`, `ath`, the cached
// `DPoP-Nonce`), `protectedResourceRequest` sends bound tokens, and jose reads
// what came back. Arguments: the showcase's address, then `nonce` when the
// showcase asks for server nonces. Prints one JSON line of findings.

import * as oauth from 'oauth4webapi';
import * as jose from 'jose';

const base = process.argv[2];
const nonceMode = process.argv[3] === 'nonce';
const client = { client_id: 'jwt-guard-showcase-test' };
let nonceRetries = 0;
const insecure = { [oauth.allowInsecureRequests]: true };

async function keyPair() {
  return crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
}

// A POST to one of the showcase's JSON endpoints with a proof by `dpop`,
// retried once when the server asks for a nonce (§8) — the proof and the retry
// are oauth4webapi's.
async function post(dpop, path, body) {
  const url = new URL(path, base);
  for (let attempt = 0; attempt < 2; attempt++) {
    const headers = new Headers({ 'content-type': 'application/json' });
    await dpop.addProof(url, headers, 'POST');
    const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
    dpop.cacheNonce(response, url);
    const json = await response.json().catch(() => ({}));
    if (response.status === 400 && json.error === 'use_dpop_nonce' && attempt === 0) {
      nonceRetries++;
      continue;
    }
    return { status: response.status, body: json };
  }
}

// GET a protected resource with a bound token: oauth4webapi's own request,
// retried on `use_dpop_nonce` as its documentation shows.
async function get(dpop, path, token) {
  const url = new URL(path, base);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const response = await oauth.protectedResourceRequest(token, 'GET', url, new Headers(), null, {
        DPoP: dpop,
        ...insecure,
      });
      return { status: response.status, body: await response.json() };
    } catch (err) {
      if (oauth.isDPoPNonceError(err) && attempt === 0) {
        nonceRetries++;
        continue;
      }
      if (err instanceof oauth.WWWAuthenticateChallengeError) {
        return { status: err.status, challenges: err.cause.map((c) => [c.scheme, c.parameters.error]) };
      }
      throw err;
    }
  }
}

const findings = { nonceMode, nonceRetries: 0 };
const dpop = oauth.DPoP(client, await keyPair());
const jkt = await dpop.calculateThumbprint();

// Login binding (§5): a proof with the login; the session's tokens carry the key.
const login = await post(dpop, '/auth/token', { username: 'alice', password: 'alice-password' });
findings.login = { status: login.status, token_type: login.body.token_type };
const access = login.body.access;
const claims = jose.decodeJwt(access);
findings.bound = claims.cnf?.jkt === jkt;

// Resource requests (§7): `ath` binds each proof to the token.
findings.me = (await get(dpop, '/me', access)).status;

// Refusals: the bound token as plain Bearer, and with another key's proof.
const bearer = await fetch(new URL('/me', base), { headers: { authorization: `Bearer ${access}` } });
findings.asBearer = bearer.status;
const other = oauth.DPoP(client, await keyPair());
const stolen = await get(other, '/me', access);
findings.otherKey = stolen.status;
findings.otherKeyChallenges = stolen.challenges ?? null;

// Refresh with the binding kept (§5): a proof by the same key; none by another.
const refreshed = await post(dpop, '/auth/token/refresh', { refresh: login.body.refresh });
findings.refresh = { status: refreshed.status, token_type: refreshed.body.token_type };
findings.refreshBound = jose.decodeJwt(refreshed.body.access).cnf?.jkt === jkt;
findings.refreshedMe = (await get(dpop, '/me', refreshed.body.access)).status;
const thief = await post(other, '/auth/token/refresh', { refresh: refreshed.body.refresh });
findings.refreshOtherKey = { status: thief.status, error: thief.body.error };

findings.nonceRetries = nonceRetries;
console.log(JSON.stringify(findings));
