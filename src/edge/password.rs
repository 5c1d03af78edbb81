//! Password key derivation: PBKDF2-HMAC-SHA256 through the runtime's WebCrypto
//! (`crypto.subtle.deriveBits`), native code where the same 100,000 iterations in wasm would
//! take several times the CPU. The record's format and comparison are `accounts::password`.

use js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;

use crate::accounts::password::{Record, HASH_LEN, ITERATIONS, SALT_LEN};

fn get(target: &JsValue, name: &str) -> Result<JsValue, JsValue> {
    Reflect::get(target, &JsValue::from_str(name))
}

fn call(target: &JsValue, name: &str, args: &[JsValue]) -> Result<Promise, JsValue> {
    let f: Function = get(target, name)?.dyn_into()?;
    let args: Array = args.iter().collect();
    f.apply(target, &args)?.dyn_into()
}

/// The PBKDF2-HMAC-SHA256 of `password` with `salt` over `iterations`: [`HASH_LEN`] bytes.
pub async fn derive(password: &str, salt: &[u8], iterations: u32) -> Result<Vec<u8>, String> {
    let run = async {
        let subtle = get(&get(&js_sys::global(), "crypto")?, "subtle")?;
        let algo = Object::new();
        Reflect::set(&algo, &"name".into(), &"PBKDF2".into())?;
        let usages: Array = [JsValue::from_str("deriveBits")].iter().collect();
        let key = JsFuture::from(call(
            &subtle,
            "importKey",
            &[
                "raw".into(),
                Uint8Array::from(password.as_bytes()).into(),
                algo.clone().into(),
                false.into(),
                usages.into(),
            ],
        )?)
        .await?;
        Reflect::set(&algo, &"hash".into(), &"SHA-256".into())?;
        Reflect::set(&algo, &"salt".into(), &Uint8Array::from(salt).into())?;
        Reflect::set(&algo, &"iterations".into(), &JsValue::from(iterations))?;
        let bits = JsFuture::from(call(
            &subtle,
            "deriveBits",
            &[algo.into(), key, JsValue::from((HASH_LEN * 8) as u32)],
        )?)
        .await?;
        Ok::<_, JsValue>(Uint8Array::new(&bits).to_vec())
    };
    run.await.map_err(|e| format!("PBKDF2: {e:?}"))
}

/// A new record for `password`: fresh salt from the runtime's randomness, today's cost.
pub async fn new_record(password: &str) -> Result<Record, String> {
    let salt = super::random::secure_bytes(SALT_LEN).map_err(|e| format!("salt: {e:?}"))?;
    let hash = derive(password, &salt, ITERATIONS).await?;
    Ok(Record {
        iterations: ITERATIONS,
        salt,
        hash,
    })
}

/// Whether `password` matches `record` (its own salt and cost).
pub async fn matches(password: &str, record: &Record) -> Result<bool, String> {
    let derived = derive(password, &record.salt, record.iterations).await?;
    Ok(record.matches(&derived))
}
