//! The holders' access tokens of `POST /oauth/v1/token`.

use serde::{Deserialize, Serialize};

wire_struct! {
    /// The form of `POST /oauth/v1/token` (`application/x-www-form-urlencoded`).
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    pub struct TokenRequest {
        /// `authorization_code`, `password` or `refresh_token`.
        pub grant_type: Option<String>,
        pub username: Option<String>,
        pub password: Option<String>,
        /// Space-separated scopes (on refresh: a subset of the token's, to narrow it).
        pub scope: Option<String>,
        pub refresh_token: Option<String>,
        /// The authorization code the holder's approval sent to `redirect_uri`.
        pub code: Option<String>,
        /// The `redirect_uri` of the authorization request, repeated when it named one.
        pub redirect_uri: Option<String>,
    }
}

wire_struct! {
    /// The form of `POST /oauth/v1/session`: an authorization request prepared for a holder whose
    /// e-mail address the client confirmed (`application/x-www-form-urlencoded`).
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    pub struct OAuthSessionRequest {
        /// `code`.
        pub response_type: Option<String>,
        /// The client's MAC id (the one signing the request).
        pub client_id: Option<String>,
        /// Space-separated scopes.
        pub scope: Option<String>,
        /// One of the client's registered redirect URIs.
        pub redirect_uri: Option<String>,
        /// Given back with the code.
        pub state: Option<String>,
        /// The holder's e-mail address, as the client confirmed it.
        #[serde(rename = "user[email]")]
        pub user_email: Option<String>,
    }
}

/// The answer of `POST /oauth/v1/session`: the holder is sent to `{authBase}/oauth/{key}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OAuthSessionAnswer {
    pub key: String,
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
