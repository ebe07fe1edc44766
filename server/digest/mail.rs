//! Turning a rendered digest into a MIME message and handing it to the SMTP
//! server (lettre). The message is multipart/alternative: plain text, then
//! multipart/related with the HTML and the chart as an inline PNG that the
//! HTML references by Content-ID.

use crate::config::{SmtpSettings, SmtpTls};
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

/// The Content-ID of the chart part; the HTML's `<img src="cid:…">`.
pub const CHART_CID: &str = "trend@shipshape";

/// A digest ready to address to someone.
#[derive(Debug, Clone)]
pub struct Mail {
    pub subject: String,
    pub text: String,
    pub html: String,
    pub chart_png: Vec<u8>,
    /// The recipient's own unsubscribe URL, also offered as the
    /// `List-Unsubscribe` header so mail clients show their button.
    pub unsubscribe: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("invalid recipient address `{0}`")]
    Address(String),
    #[error("could not build the message: {0}")]
    Build(#[from] lettre::error::Error),
    #[error("invalid content type: {0}")]
    ContentType(#[from] lettre::message::header::ContentTypeErr),
    #[error("SMTP: {0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
}

/// An SMTP connection pool for the configured server.
#[derive(Clone, Debug)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    /// # Errors
    /// TLS parameters that cannot be built for the host.
    pub fn new(smtp: &SmtpSettings) -> Result<Mailer, MailError> {
        let builder = match smtp.tls {
            SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host)?,
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host)?,
            SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host),
        };
        let mut builder = builder.port(smtp.port).timeout(Some(Duration::from_secs(smtp.timeout_secs)));
        if let Some(user) = &smtp.username {
            let password = smtp.password.as_ref().map(|p| p.expose().to_string()).unwrap_or_default();
            builder = builder.credentials(Credentials::new(user.clone(), password));
        }
        Ok(Mailer { transport: builder.build(), from: smtp.from.clone() })
    }

    /// Sends `mail` to `to`; `Ok` once the server accepted it.
    ///
    /// # Errors
    /// A bad address, or the SMTP server unreachable or refusing.
    pub async fn send(&self, to: &str, mail: &Mail) -> Result<(), MailError> {
        let message = message(&self.from, to, mail)?;
        self.transport.send(message).await?;
        Ok(())
    }
}

/// The MIME message of `mail` addressed to `to`.
///
/// # Errors
/// A bad address or a header lettre refuses.
pub fn message(from: &Mailbox, to: &str, mail: &Mail) -> Result<Message, MailError> {
    let to: Mailbox = to.parse().map_err(|_| MailError::Address(to.to_string()))?;
    let mut builder = Message::builder().from(from.clone()).to(to).subject(mail.subject.clone());
    if let Some(url) = &mail.unsubscribe {
        builder = builder
            .raw_header(HeaderValue::new(HeaderName::new_from_ascii_str("List-Unsubscribe"), format!("<{url}>")))
            // RFC 8058: the client may POST to the URL without opening a page.
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                "List-Unsubscribe=One-Click".into(),
            ));
    }
    let png = ContentType::parse("image/png")?;
    let related = MultiPart::related()
        .singlepart(SinglePart::html(mail.html.clone()))
        .singlepart(Attachment::new_inline(CHART_CID.to_string()).body(mail.chart_png.clone(), png));
    let body = MultiPart::alternative().singlepart(SinglePart::plain(mail.text.clone())).multipart(related);
    Ok(builder.multipart(body)?)
}
