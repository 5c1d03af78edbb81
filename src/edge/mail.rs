//! Mail to people: the console's email verification and invitation links. In production,
//! Cloudflare's `send_email` binding `MAIL` sends them from the address in `MAIL_FROM`; where
//! neither is configured (local mode under `wrangler dev` has no mail), the message goes to the
//! log, which is then the inbox (README, "Console").

use worker::{Env, SendEmailBuilder};

use super::bindings::{self, MAIL, MAIL_FROM};

/// Send `text` to `to` under `subject` (through the binding, or to the log without one).
pub async fn send(env: &Env, to: &str, subject: &str, text: &str) -> Result<(), String> {
    let (Ok(mail), Some(from)) = (env.send_email(MAIL), bindings::setting(env, MAIL_FROM)) else {
        worker::console_log!("mail to {to}: {subject}\n{text}");
        return Ok(());
    };
    let message = SendEmailBuilder::builder(&from, to, subject)
        .text(text)
        .build();
    mail.send_with_builder(&message)
        .await
        .map(|_| ())
        .map_err(|e| format!("send_email: {e:?}"))
}
