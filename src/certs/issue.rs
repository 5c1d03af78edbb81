//! Issuing a `ct-cert-2` certificate: the document, its RFC 8785 bytes, their SHA-256, the
//! Ed25519 signature and the PDF, from a statement and who issues it. Pure (the id, the time
//! and the key come in), so what a certificate holds is tested natively; the handler only
//! stores and answers.

use serde_json::{json, Value};

use super::signing::KeyPair;
use super::statement::Statement;
use super::{jcs, sha256_hex, SCHEMA_V2};
use crate::version::METHODOLOGY_VERSION;

/// Who issues the certificate, when, and where it is checked.
pub struct Issuer<'a> {
    pub certificate_id: &'a str,
    pub issued_at: &'a str,
    pub org_id: &'a str,
    pub org_name: &'a str,
    pub factor_set_version: &'a str,
    /// The published JWK Set, where the key is found by its `kid`.
    pub jwks_url: &'a str,
    /// What the PDF's QR code opens.
    pub verification_url: &'a str,
}

/// A signed certificate, ready to store.
pub struct Issued {
    pub doc: Value,
    /// The RFC 8785 bytes that were signed (what is stored and verified).
    pub canonical: String,
    pub content_hash: String,
    /// base64url Ed25519 signature of `canonical`.
    pub signature: String,
    pub pdf: Vec<u8>,
    pub pdf_hash: String,
}

pub fn issue(s: &Statement, by: &Issuer, key: &KeyPair) -> Issued {
    let doc = json!({
        "schema": SCHEMA_V2,
        "certificate_id": by.certificate_id,
        "issued_at": by.issued_at,
        "issuer": { "org_id": by.org_id, "org_name": by.org_name },
        "kind": s.kind,
        "asset": s.asset,
        "request": s.request,
        "result": s.result,
        "factor_set_version": by.factor_set_version,
        "methodology_version": METHODOLOGY_VERSION,
        // How to check it without us: the key by its id in the published JWK Set.
        "verification": { "alg": "EdDSA", "kid": key.kid, "jwks_url": by.jwks_url,
                          "canonicalization": "RFC 8785" },
    });
    let canonical = jcs::canonicalize(&doc);
    let content_hash = sha256_hex(canonical.as_bytes());
    let signature = key.sign(canonical.as_bytes());
    let pdf = crate::pdf::certificate::render(
        &canonical,
        &doc,
        &content_hash,
        &signature,
        &key.kid,
        by.verification_url,
    );
    let pdf_hash = sha256_hex(&pdf);
    Issued {
        doc,
        canonical,
        content_hash,
        signature,
        pdf,
        pdf_hash,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certs::signing::verify;
    use crate::certs::statement::statement;
    use crate::lca::Engine;

    #[test]
    fn an_issued_certificate_verifies_offline_and_names_its_key() {
        let engine = Engine::builtin();
        let s = statement(
            &json!({"footprint": {"category": "laptop"}, "asset": {"serial": "SN-1"}}),
            &engine,
        )
        .unwrap();
        let key =
            KeyPair::parse("t1:9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
                .unwrap();
        let by = Issuer {
            certificate_id: "cert_1",
            issued_at: "2026-12-02T00:00:00.000Z",
            org_id: "org_1",
            org_name: "Acme",
            factor_set_version: &engine.factors.version,
            jwks_url: "https://ct.example/.well-known/jwks.json",
            verification_url: "https://ct.example/api/v1/certificates/cert_1/verify",
        };
        let c = issue(&s, &by, &key);
        assert!(verify(
            &key.public_x(),
            c.canonical.as_bytes(),
            &c.signature
        ));
        assert!(!verify(&key.public_x(), b"{}", &c.signature));
        assert_eq!(c.content_hash, sha256_hex(c.canonical.as_bytes()));
        assert_eq!(c.pdf_hash, sha256_hex(&c.pdf));
        assert!(c.pdf.starts_with(b"%PDF-"));
        // What a verifier re-canonicalises from the stored bytes is what was signed
        // (RFC 8785 writes 4.0 as 4, so the bytes, not the `Value`, are compared).
        let back: Value = serde_json::from_str(&c.canonical).unwrap();
        assert_eq!(jcs::canonicalize(&back), c.canonical);
        assert_eq!(back["verification"]["kid"], "t1");
        assert_eq!(back["issuer"]["org_name"], "Acme");
        assert_eq!(back["asset"]["serial"], "SN-1");
        assert_eq!(back["schema"], SCHEMA_V2);
    }
}
