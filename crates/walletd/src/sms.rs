//! Where FLASH SMS go: the gateway interface and its default, the operators' outbox.

use crate::error::ApiResult;
use std::future::Future;
use std::pin::Pin;
use wallet_core::ids::TransactionKey;
use wallet_store::Tx;

/// A text message to a wallet holder's phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sms<'a> {
    pub phone: &'a str,
    pub body: &'a str,
    pub transaction_key: &'a TransactionKey,
}

/// Sends holders' SMS. `send` runs inside the database transaction that changes the
/// transaction, so a message exists exactly when the change does; a gateway to a real SMS
/// provider records it there and hands it over after the commit (as callbacks are).
pub trait SmsGateway: Send + Sync {
    fn send<'a>(
        &'a self,
        tx: &'a mut Tx,
        sms: Sms<'a>,
        now: i64,
    ) -> Pin<Box<dyn Future<Output = ApiResult<()>> + Send + 'a>>;
}

/// The default gateway: messages stay in the SMS outbox, where operators read them
/// (`walletd admin sms list`) and answer for the holder (`walletd admin sms answer`).
#[derive(Debug, Default, Clone, Copy)]
pub struct OutboxGateway;

impl SmsGateway for OutboxGateway {
    fn send<'a>(
        &'a self,
        tx: &'a mut Tx,
        sms: Sms<'a>,
        now: i64,
    ) -> Pin<Box<dyn Future<Output = ApiResult<()>> + Send + 'a>> {
        Box::pin(async move {
            tx.insert_sms(sms.phone, sms.body, Some(sms.transaction_key), now)
                .await?;
            Ok(())
        })
    }
}
