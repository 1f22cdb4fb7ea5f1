//! Stored rows into the spec's JSON shapes.

use wallet_client::types::{self as wire, CallbackUri, Reserve};
use wallet_core::ids::HoldId;
use wallet_core::money::format_decimal;
use wallet_core::reserve::ReserveSpec;
use wallet_store::{AllowanceRow, PaymentRow, TransactionRow};

fn json(text: &Option<String>) -> Option<serde_json::Value> {
    text.as_deref().and_then(|t| serde_json::from_str(t).ok())
}

/// A payment as `GET payment/{id}` returns it.
pub fn payment(p: &PaymentRow) -> wire::Payment {
    wire::Payment {
        id: p.id,
        transaction_key: p.transaction_key.clone(),
        created_at: p.created_at,
        status: p.status,
        price: p.price,
        currency: p.currency.code().to_string(),
        price_decimal: format_decimal(p.price, p.currency),
        wallet: p.payer_wallet_id,
        confirmed_at: p.confirmed_at,
        freeze: (p.freeze_for.is_some() || p.freeze_until.is_some()).then_some(wire::Freeze {
            for_seconds: p.freeze_for,
            until: p.freeze_until,
        }),
        freeze_for: p.freeze_for.filter(|s| s % 3600 == 0).map(|s| s / 3600),
        freeze_until: p.freeze_until,
        description: p.description.clone(),
        parameters: json(&p.parameters),
        price_rules: p
            .price_rules
            .as_deref()
            .and_then(|r| serde_json::from_str(r).ok()),
        // The payment's transfer is its hold: placed at reservation, settled (its money moved to
        // the beneficiary) at confirmation, or released (docs/decisions.md, "Ledger").
        transfer_id: p.hold_id.map(HoldId::get),
        purpose: p.purpose.clone(),
        beneficiary: json(&p.beneficiary_json),
        password: p
            .password_json
            .as_deref()
            .and_then(|j| serde_json::from_str(j).ok()),
        cancelable: (p.status == wallet_core::PaymentStatus::Confirmed && p.freeze_until.is_some())
            .then_some(true),
    }
}

/// A transaction as `GET transaction/{key}` returns it.
///
/// `reserve.until` (and flat `reserve_until`) show the deadline while funds are held, else the
/// requested moment if one was given; `reserve.for` shows the requested seconds, and the flat
/// `reserve_for` the same in hours when it is a whole number of hours.
pub fn transaction(
    t: &TransactionRow,
    payments: &[PaymentRow],
    allowance: Option<&AllowanceRow>,
) -> wire::Transaction {
    let (for_seconds, requested_until) = match t.reserve {
        ReserveSpec::Default => (None, None),
        ReserveSpec::For { seconds, .. } => (Some(seconds), None),
        ReserveSpec::Until { at, .. } => (None, Some(at)),
    };
    let until = if t.status.holds_funds() {
        t.reserved_until
    } else {
        requested_until
    };
    let reserve =
        (for_seconds.is_some() || until.is_some()).then_some(Reserve { for_seconds, until });
    wire::Transaction {
        transaction_key: t.transaction_key.clone(),
        created_at: t.created_at,
        status: t.status,
        kind: t.kind,
        wallet: t.wallet_id,
        valid_for_payment_card_debit: false,
        confirmed_at: t.confirmed_at,
        correlation_key: t
            .correlation_key
            .clone()
            .filter(|_| t.status == wallet_core::TransactionStatus::Waiting),
        project_id: Some(t.project_id),
        payments: payments.iter().map(payment).collect(),
        allowance: allowance.map(|a| wire::TransactionAllowance {
            optional: a.optional,
            data: self::allowance(a),
        }),
        reserve,
        reserve_until: until,
        reserve_for: for_seconds.filter(|s| s % 3600 == 0).map(|s| s / 3600),
        use_allowance: Some(t.use_allowance),
        suggest_allowance: Some(t.suggest_allowance),
        auto_confirm: t.auto_confirm,
        redirect_uri: t.redirect_uri.clone(),
        callback_uri: if t.callbacks_disabled {
            Some(CallbackUri::Disabled)
        } else {
            t.callback_uri.clone().map(CallbackUri::Uri)
        },
        user: json(&t.user_json),
        inquiries: json(&t.inquiries_json),
        restrictions: json(&t.restrictions_json),
        location_id: t.location_id,
        manager_id: t.manager_id,
    }
}

/// An allowance as `GET allowance/{id}` returns it.
pub fn allowance(a: &AllowanceRow) -> wire::Allowance {
    let decimal = |amount: i64| format_decimal(amount, a.currency);
    let valid = (a.valid_for.is_some() || a.valid_until.is_some()).then_some(wire::Valid {
        for_seconds: a.valid_for,
        until: a.valid_until,
    });
    wire::Allowance {
        id: a.id,
        transaction_key: a.transaction_key.clone(),
        created_at: a.created_at,
        status: a.status.clone(),
        currency: a.currency.code().to_string(),
        wallet: a.wallet_id,
        confirmed_at: a.confirmed_at,
        valid,
        valid_until: a.valid_until,
        valid_for: a.valid_for.filter(|s| s % 3600 == 0).map(|s| s / 3600),
        description: a.description.clone(),
        max_price: a.max_price,
        max_price_decimal: a.max_price.map(decimal),
        limits: a
            .limits
            .iter()
            .map(|l| wire::AllowanceLimit {
                max_price: l.max_price,
                max_price_decimal: Some(decimal(l.max_price)),
                time: l.time,
            })
            .collect(),
    }
}
