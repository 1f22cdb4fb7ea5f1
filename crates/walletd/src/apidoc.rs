//! What the OpenAPI document is made of besides the handlers' `#[utoipa::path]`s: its root
//! (info, tags, security schemes), the error answers of an operation ([`errors!`]), and the
//! holder pages' operations ([`page`]). Request and response schemas are `wallet_client`'s wire
//! types, so the SDK and the document agree.

use crate::error::ApiError;
use std::collections::{BTreeMap, BTreeSet};
use utoipa::Modify;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{AllOfBuilder, ObjectBuilder, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, Required};
use utoipa_axum::router::OpenApiRouter;

/// The root of the document: what is not a route (info, tags, security schemes).
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "walletd",
        description = "An open implementation of the Wallet API: transactions that group payments, \
            authorised by the wallet holder (reservation code, PIN, allowance, FLASH SMS, \
            confirmation page), confirmed or revoked by the client. Amounts are integer minor units \
            of an ISO 4217 currency. Every error answer is `{\"error\", \"error_description\"}`; \
            each operation lists the codes it can give, by HTTP status.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    modifiers(&SecuritySchemes),
    components(schemas(wallet_client::types::ErrorBody)),
    tags(
        (name = "transactions", description = "Transactions and their authorisation"),
        (name = "payments", description = "Payments, their freezes and finalisation"),
        (name = "allowances", description = "Allowances a holder gives a client"),
        (name = "wallets", description = "Wallets, balances and statements"),
        (name = "oauth", description = "Holders' MAC access tokens"),
        (name = "callbacks", description = "The key callbacks are signed with"),
        (name = "operations", description = "Health, readiness, metrics, this document"),
        (name = "admin", description = "Sandbox operator endpoints (only with --admin-token)"),
        (name = "holder pages", description = "The holder's HTML pages"),
    )
)]
pub struct Root;

/// The four ways a caller is known.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, doc: &mut OpenApi) {
        let c = doc.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "mac",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "OAuth 2.0 MAC (draft -01), as the Wallet API's PHP client signs: `MAC id=\"…\", \
                 ts=\"…\", nonce=\"…\", mac=\"…\", ext=\"body_hash=…\"`, with the client's \
                 credentials or a holder's access token from POST /oauth/v1/token.",
            ))),
        );
        for (name, what) in [
            (
                "admin_token",
                "the token given to `walletd serve --admin-token`",
            ),
            (
                "metrics_token",
                "the token given to `walletd serve --metrics-token`",
            ),
        ] {
            c.add_security_scheme(
                name,
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .description(Some(what))
                        .build(),
                ),
            );
        }
        c.add_security_scheme(
            "holder_session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::web::session::SESSION_COOKIE,
                "the holder's login session on walletd's pages",
            ))),
        );
    }
}

/// The responses of an operation's error answers: one per HTTP status, its description listing
/// the error codes and its body the error body with `error` one of them. 408 and 413 (a body too
/// slow or too large), 500 and 503 (the store failed or is overloaded, or no answer in time) can
/// come from any operation, and are always there.
pub fn error_responses(errors: &[ApiError]) -> BTreeMap<String, RefOr<utoipa::openapi::Response>> {
    let always = [
        ApiError::BodyTooSlow(String::new()),
        ApiError::BodyTooLarge(String::new()),
        ApiError::Unavailable,
        ApiError::Internal(anyhow::anyhow!("")),
    ];
    let mut by_status: BTreeMap<u16, BTreeSet<&'static str>> = BTreeMap::new();
    for e in errors.iter().chain(&always) {
        by_status
            .entry(e.status().as_u16())
            .or_default()
            .insert(e.code());
    }
    by_status
        .into_iter()
        .map(|(status, codes)| (status.to_string(), error_response(&codes).into()))
        .collect()
}

fn error_response(codes: &BTreeSet<&'static str>) -> utoipa::openapi::Response {
    let list: Vec<String> = codes.iter().map(|c| format!("`{c}`")).collect();
    let narrowed = ObjectBuilder::new().property(
        "error",
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(codes.iter().copied())),
    );
    let schema = AllOfBuilder::new()
        .item(Ref::from_schema_name("ErrorBody"))
        .item(narrowed);
    ResponseBuilder::new()
        .description(list.join(", "))
        .content(
            "application/json",
            ContentBuilder::new().schema(Some(schema)).build(),
        )
        .build()
}

/// Declares `$name`, the error answers of an operation, for its `responses(…)`: the `ApiError`
/// variants (those with a description) it can give, mapped to status and code by `ApiError`
/// itself.
macro_rules! errors {
    // An operation behind MAC authentication: besides its own, the errors of signature checks
    // (`auth`), expired tokens, a token's scope (`http::scope`), the rate limit and idempotency
    // keys (`idempotency`).
    ($(#[$doc:meta])* mac $name:ident = [$($variant:ident),* $(,)?]) => {
        $crate::apidoc::errors!($(#[$doc])* $name = [
            Unauthorized, InvalidGrant, Forbidden, RateLimitExceeded, InvalidRequest, $($variant),*
        ]);
    };
    ($(#[$doc:meta])* $name:ident = [$($variant:ident),* $(,)?]) => {
        $(#[$doc])*
        pub struct $name;

        impl utoipa::IntoResponses for $name {
            fn responses() -> std::collections::BTreeMap<
                String,
                utoipa::openapi::RefOr<utoipa::openapi::Response>,
            > {
                $crate::apidoc::error_responses(&[
                    $($crate::error::ApiError::$variant(String::new())),*
                ])
            }
        }
    };
}
pub(crate) use errors;

/// One operation of a holder page. Every page answers HTML (200); besides, a redirect (303: to
/// the login, or after a form) and error pages (4xx, 5xx; their bodies are left undescribed, since
/// a refused form is answered by axum in plain text).
pub struct PageOp {
    pub method: HttpMethod,
    pub summary: &'static str,
    /// Whether the request is a form (`application/x-www-form-urlencoded`, a CSRF token in it).
    pub form: bool,
}

/// Statuses besides 200 that any page can answer.
const PAGE_STATUSES: [(u16, &str); 13] = [
    (302, "the OAuth page: back to the client's redirect_uri"),
    (303, "a redirect: to the login page, or after the form"),
    (400, "an error page: the request is invalid"),
    (401, "an error page: the login failed"),
    (403, "an error page: the CSRF token or the session is wrong"),
    (404, "an error page: no such transaction"),
    (408, "the form did not arrive in time (a JSON error)"),
    (413, "the form is too large (a JSON error)"),
    (415, "the form is not a form"),
    (422, "the form cannot be read"),
    (429, "an error page: too many attempts"),
    (500, "an error page: the store failed"),
    (
        503,
        "an error page: the store is overloaded; or no answer in time (a JSON error)",
    ),
];

/// Adds a holder page route with its description: the pages are closures per language, which a
/// `#[utoipa::path]` cannot annotate, so their operations are written here.
pub fn page<S: Clone + Send + Sync + 'static>(
    router: OpenApiRouter<S>,
    path: &str,
    method_router: axum::routing::MethodRouter<S>,
    ops: &[PageOp],
) -> OpenApiRouter<S> {
    #[allow(clippy::disallowed_methods)] // described just below
    let mut router = router.route(path, method_router);
    let paths = &mut router.get_openapi_mut().paths;
    for op in ops {
        paths.add_path_operation(path, vec![op.method.clone()], page_operation(path, op));
    }
    router
}

fn page_operation(path: &str, op: &PageOp) -> utoipa::openapi::path::Operation {
    let text = || ObjectBuilder::new().schema_type(Type::String);
    let mut b = OperationBuilder::new()
        .tag("holder pages")
        .summary(Some(op.summary))
        .response(
            "200",
            ResponseBuilder::new().description("the page").content(
                "text/html",
                ContentBuilder::new().schema(Some(text())).build(),
            ),
        )
        .security(utoipa::openapi::security::SecurityRequirement::new(
            "holder_session",
            Vec::<String>::new(),
        ))
        .security(utoipa::openapi::security::SecurityRequirement::default());
    for (status, what) in PAGE_STATUSES {
        b = b.response(status.to_string(), ResponseBuilder::new().description(what));
    }
    if op.form {
        let fields = ObjectBuilder::new().additional_properties(Some(text()));
        b = b.request_body(Some(
            utoipa::openapi::request_body::RequestBodyBuilder::new()
                .content(
                    "application/x-www-form-urlencoded",
                    ContentBuilder::new().schema(Some(fields)).build(),
                )
                .required(Some(Required::True))
                .build(),
        ));
    }
    if path.contains("{key}") {
        b = b
            .parameter(path_parameter("key").schema(Some(Ref::from_schema_name("TransactionKey"))));
    }
    if path.contains("{payment}") {
        b = b.parameter(path_parameter("payment").schema(Some(Ref::from_schema_name("PaymentId"))));
    }
    if path.contains("{session}") {
        b = b.parameter(
            path_parameter("session")
                .description(Some("the `key` of POST /oauth/v1/session"))
                .schema(Some(text())),
        );
    }
    b.build()
}

/// The required path parameter `name` of a page.
fn path_parameter(name: &str) -> ParameterBuilder {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
}
