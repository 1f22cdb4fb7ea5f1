//! The holders' access tokens of `POST /oauth/v1/token`.

use serde::{Deserialize, Serialize};

wire_struct! {
    /// The form of `POST /oauth/v1/token` (`application/x-www-form-urlencoded`).
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    pub struct TokenRequest {
        /// `password` or `refresh_token`.
        pub grant_type: Option<String>,
        pub username: Option<String>,
        pub password: Option<String>,
        /// Space-separated scopes.
        pub scope: Option<String>,
        pub refresh_token: Option<String>,
    }
}

/// The token answer: exactly what the PHP client's `MacAccessToken` reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenAnswer {
    /// `mac`.
    pub token_type: String,
    /// `hmac-sha-256`.
    pub mac_algorithm: String,
    pub access_token: String,
    pub mac_key: String,
    pub expires_in: i64,
    pub refresh_token: String,
    pub scope: String,
}
