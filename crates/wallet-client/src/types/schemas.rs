//! The wire types' JSON schemas, for walletd's OpenAPI document (the `openapi` feature).

use super::*;

/// Every wire type's JSON schema under its name, with the schemas it refers to: what walletd's
/// OpenAPI document must hold for the API's requests and answers (walletd's tests compare them).
pub fn schemas() -> Vec<(
    String,
    utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
)> {
    fn add<T: utoipa::ToSchema>(
        out: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        out.push((T::name().into_owned(), T::schema()));
        T::schemas(out);
    }
    let mut out = Vec::new();
    add::<Transaction>(&mut out);
    add::<NewTransaction>(&mut out);
    add::<TransactionPage>(&mut out);
    add::<Payment>(&mut out);
    add::<NewPayment>(&mut out);
    add::<PaymentPage>(&mut out);
    add::<Allowance>(&mut out);
    add::<NewAllowance>(&mut out);
    add::<AllowanceAmount>(&mut out);
    add::<InquiredInformation>(&mut out);
    add::<ReserveRequest>(&mut out);
    add::<PasswordRequest>(&mut out);
    add::<PaymentPassword>(&mut out);
    add::<ConfirmPrice>(&mut out);
    add::<Receipt>(&mut out);
    add::<FreezeChange>(&mut out);
    add::<FinalPrice>(&mut out);
    add::<CurrencyBalance>(&mut out);
    add::<Wallet>(&mut out);
    add::<StatementPage>(&mut out);
    add::<SufficientAmount>(&mut out);
    add::<User>(&mut out);
    add::<UserAddress>(&mut out);
    add::<UserIdentity>(&mut out);
    add::<PoliticallyExposedPerson>(&mut out);
    add::<WalletBarcode>(&mut out);
    add::<TokenRequest>(&mut out);
    add::<TokenAnswer>(&mut out);
    add::<OAuthSessionRequest>(&mut out);
    add::<OAuthSessionAnswer>(&mut out);
    add::<ErrorBody>(&mut out);
    add::<TransactionKey>(&mut out);
    add::<WalletId>(&mut out);
    add::<PaymentId>(&mut out);
    add::<AllowanceId>(&mut out);
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out.dedup_by(|a, b| a.0 == b.0);
    out
}
