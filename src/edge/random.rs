//! Cryptographic randomness from the runtime's Web Crypto (`crypto.getRandomValues`).

use js_sys::{Function, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};

/// `n` cryptographically random bytes; an error if Web Crypto is unavailable (callers that
/// need secrets, such as API keys, must fail closed on it).
pub fn secure_bytes(n: usize) -> Result<Vec<u8>, JsValue> {
    let buf = Uint8Array::new_with_length(n as u32);
    let crypto = Reflect::get(&js_sys::global(), &JsValue::from_str("crypto"))?;
    let f: Function = Reflect::get(&crypto, &JsValue::from_str("getRandomValues"))?.dyn_into()?;
    f.call1(&crypto, &buf)?;
    Ok(buf.to_vec())
}

/// A lowercase hex id of `n` random bytes. Ids are not secrets: should Web Crypto fail, the
/// clock and `Math.random` still make a unique-enough id rather than failing the request.
pub fn hex_id(n: usize) -> String {
    let bytes = secure_bytes(n).unwrap_or_else(|_| {
        let seed = js_sys::Date::now() as u64;
        (0..n)
            .map(|i| ((js_sys::Math::random() * 256.0) as u8) ^ (seed >> (8 * (i % 8))) as u8)
            .collect()
    });
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
