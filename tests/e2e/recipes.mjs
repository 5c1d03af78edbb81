// The README's offline verification recipes, as the end-to-end suite runs them: a
// certificate JSON and the published JWK Set in, valid or not out, no call to the API.
import { createPublicKey, verify as edVerify } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';

// ---- the README's Node recipe ----
export const jcs = (v) => (v === null || typeof v !== 'object' ? JSON.stringify(v)
  : Array.isArray(v) ? `[${v.map(jcs).join(',')}]`
    : `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${jcs(v[k])}`).join(',')}}`);
export function verifyOffline(cert, signature, jwks) {
  const jwk = jwks.keys.find((k) => k.kid === signature.kid && k.purpose === 'certificate');
  if (!jwk) return false;
  const key = createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x }, format: 'jwk' });
  return edVerify(null, Buffer.from(jcs(cert)), key, Buffer.from(signature.value, 'base64url'));
}
// ---- the README's Python recipe ----
const PYTHON = `
import base64, json, sys, jcs
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
issued, jwks = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
sig = issued["signature"]
jwk = next(k for k in jwks["keys"] if k["kid"] == sig["kid"] and k["purpose"] == "certificate")
pub = Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(jwk["x"] + "=="))
try:
    pub.verify(base64.urlsafe_b64decode(sig["value"] + "=="), jcs.canonicalize(issued["certificate"]))
    print("valid")
except Exception:
    print("invalid")
`;
export function verifyInPython(issued, jwks) {
  const dir = process.env.CT_STATE_DIR;
  const [a, b] = [`${dir}/issued.json`, `${dir}/jwks.json`];
  writeFileSync(a, JSON.stringify(issued));
  writeFileSync(b, JSON.stringify(jwks));
  return execFileSync('python3', ['-c', PYTHON, a, b], { encoding: 'utf8' }).trim();
}
