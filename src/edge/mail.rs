//! Mail to people: the console's email verification and invitation links. In production,
//! Cloudflare's `send_email` binding `MAIL` sends them from the address in `MAIL_FROM`; where
//! neither is configured (local mode under `wrangler dev` has no mail), the message goes to the
//! log, which is then the inbox (README, "Console").

use worker::{Env, SendEmailBuilder};

use super::bindings::{self, MAIL, MAIL_FROM};

/// How a message left.
pub enum Sent {
    /// Through the `MAIL` binding.
    Mailed,
    /// To the log (no binding or no sender configured).
    Logged,
}

/// Send `text` to `to` under `subject`.
pub async fn send(env: &Env, to: &str, subject: &str, text: &str) -> Result<Sent, String> {
    let (Ok(mail), Some(from)) = (env.send_email(MAIL), bindings::setting(env, MAIL_FROM)) else {
        worker::console_log!("mail to {to}: {subject}\n{text}");
        return Ok(Sent::Logged);
    };
    let message = SendEmailBuilder::builder(&from, to, subject)
        .text(text)
        .build();
    mail.send_with_builder(&message)
        .await
        .map(|_| Sent::Mailed)
        .map_err(|e| format!("send_email: {e:?}"))
}
