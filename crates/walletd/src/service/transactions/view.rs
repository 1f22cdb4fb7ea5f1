//! A transaction as the API shows it: read back, or as a change just wrote it (no second read).

use crate::error::{ApiError, ApiResult};
use crate::render;
use crate::telemetry::Flow;
use wallet_client::types as wire;
use wallet_core::ids::TransactionKey;
use wallet_store::{PaymentRow, TransactionRow, Tx};

/// Reads a transaction and its payments as the API shows them.
pub(crate) async fn view(tx: &mut Tx, key: &TransactionKey) -> ApiResult<wire::Transaction> {
    let t = tx
        .transaction(key)
        .await?
        .ok_or_else(|| ApiError::not_found_transaction(key))?;
    render_row(tx, &t).await
}

/// A transaction row with its payments and allowance, as the API shows it.
pub(crate) async fn render_row(tx: &mut Tx, t: &TransactionRow) -> ApiResult<wire::Transaction> {
    let payments = tx.payments_of(&t.transaction_key).await?;
    let allowance = tx.allowance_of(&t.transaction_key).await?;
    Ok(render::transaction(t, &payments, allowance.as_ref()))
}

/// A transaction and all its payments as a change leaves them (the change applied to the rows it
/// read: `Tx::set_transaction_and_payments`), the payments in creation order: the change answers
/// from them instead of reading them back.
pub(crate) struct Written {
    pub t: TransactionRow,
    pub payments: Vec<PaymentRow>,
    /// What the change did, counted once it is committed ([`Written::commit`], or its caller).
    pub flow: Flow,
}

impl Written {
    /// The transaction as written, with its changed payments and the ones left as they were.
    pub(crate) fn new(
        t: TransactionRow,
        mut unchanged: Vec<PaymentRow>,
        changed: Vec<PaymentRow>,
    ) -> Written {
        unchanged.extend(changed);
        unchanged.sort_by_key(|p| p.id);
        Written {
            t,
            payments: unchanged,
            flow: Flow::default(),
        }
    }

    /// The transaction as the API shows it: what [`view`] would read, without reading it.
    pub(crate) async fn render(&self, tx: &mut Tx) -> ApiResult<wire::Transaction> {
        let allowance = tx.allowance_of(&self.t.transaction_key).await?;
        Ok(render::transaction(
            &self.t,
            &self.payments,
            allowance.as_ref(),
        ))
    }

    /// Queues the transaction's callback, as written: after a change the client did not make.
    pub(crate) async fn notify(&self, tx: &mut Tx) -> ApiResult<()> {
        let data = self.render(tx).await?;
        crate::callbacks::enqueue_transaction(tx, &self.t, &data).await
    }

    /// Commits `tx` with the transaction as written as the request's answer ([`Written::render`],
    /// `idempotency::commit_answer`), and answers it.
    pub(crate) async fn commit(&self, mut tx: Tx) -> ApiResult<wire::Transaction> {
        let view = self.render(&mut tx).await?;
        crate::idempotency::commit_answer(tx, &view).await?;
        self.flow.committed();
        Ok(view)
    }
}

/// Reads transaction `key` as the API shows it and queues its callback: after a change the
/// client did not make (a holder's decision, deletion by age).
pub(crate) async fn view_and_notify(
    tx: &mut Tx,
    key: &TransactionKey,
) -> ApiResult<wire::Transaction> {
    let t = tx
        .transaction(key)
        .await?
        .ok_or_else(|| ApiError::not_found_transaction(key))?;
    let data = render_row(tx, &t).await?;
    crate::callbacks::enqueue_transaction(tx, &t, &data).await?;
    Ok(data)
}
