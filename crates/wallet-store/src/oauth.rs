//! Rows of the OAuth authorization code grant: the redirect URIs clients registered, the codes
//! (known only by their hash) and the authorization requests clients prepare for a holder
//! (`POST /oauth/v1/session`).

use crate::{ClientRow, Result, Tx, db};
use wallet_core::ids::{ClientId, UserId};

db::row_type! {
    /// An authorization code, as the token request redeems it.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct CodeGrantRow {
        pub client_id: ClientId,
        pub user_id: UserId,
        pub scope: String,
        pub redirect_uri: String,
        /// Whether the authorization request named `redirect_uri` (then the token request must).
        pub redirect_given: bool,
        pub expires_at: i64,
    }
}

db::row_type! {
    /// An authorization request a client prepared for a holder (`POST /oauth/v1/session`).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct OAuthSessionRow {
        pub client_id: ClientId,
        pub scope: String,
        pub redirect_uri: String,
        pub redirect_given: bool,
        pub state: Option<String>,
        /// The e-mail address the client confirmed: the sign-in form asks for this account.
        pub email: Option<String>,
    }
}

impl Tx {
    /// A client by its id.
    pub async fn client(&mut self, id: ClientId) -> Result<Option<ClientRow>> {
        self.optional(db::select("FROM clients WHERE id = $1"), (id,))
            .await
    }

    /// The redirect URIs `client_id` registered, in order.
    pub async fn redirect_uris(&mut self, client_id: ClientId) -> Result<Vec<String>> {
        self.all_scalars(
            "SELECT uri FROM client_redirect_uris WHERE client_id = $1 ORDER BY uri",
            (client_id,),
        )
        .await
    }

    /// Replaces the redirect URIs of `client_id` with `uris`.
    pub async fn set_redirect_uris(&mut self, client_id: ClientId, uris: &[String]) -> Result<()> {
        self.exec(
            "DELETE FROM client_redirect_uris WHERE client_id = $1",
            (client_id,),
        )
        .await?;
        for uri in uris {
            self.exec(
                "INSERT INTO client_redirect_uris (client_id, uri) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                (client_id, uri),
            )
            .await?;
        }
        Ok(())
    }

    /// Stores a new authorization code (its hash).
    pub async fn insert_code_grant(
        &mut self,
        code_hash: &str,
        g: &CodeGrantRow,
        now: i64,
    ) -> Result<()> {
        self.exec(
            "INSERT INTO oauth_codes (code_hash, client_id, user_id, scope, redirect_uri, redirect_given, expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            (
                code_hash,
                g.client_id,
                g.user_id,
                &g.scope,
                &g.redirect_uri,
                i64::from(g.redirect_given),
                g.expires_at,
                now,
            ),
        )
        .await
    }

    /// Marks the code of `client_id` hashing to `code_hash` used at `now` and returns it, if it
    /// was unused (expiry is the caller's check): a code is redeemed once.
    pub async fn take_code_grant(
        &mut self,
        code_hash: &str,
        client_id: ClientId,
        now: i64,
    ) -> Result<Option<CodeGrantRow>> {
        self.optional(
            db::returning(
                "UPDATE oauth_codes SET used_at = $3 WHERE code_hash = $1 AND client_id = $2 AND used_at IS NULL",
            ),
            (code_hash, client_id, now),
        )
        .await
    }

    /// Whether `client_id` already redeemed the code hashing to `code_hash`.
    pub async fn code_grant_used(&mut self, code_hash: &str, client_id: ClientId) -> Result<bool> {
        let used: i64 = self
            .one_scalar(
                "SELECT COUNT(*) FROM oauth_codes WHERE code_hash = $1 AND client_id = $2 AND used_at IS NOT NULL",
                (code_hash, client_id),
            )
            .await?;
        Ok(used > 0)
    }

    /// Records that `access_token` descends from the code hashing to `code_hash`.
    pub async fn set_token_grant_code(
        &mut self,
        access_token: &str,
        code_hash: &str,
    ) -> Result<()> {
        self.exec(
            "UPDATE access_tokens SET grant_code = $2 WHERE access_token = $1",
            (access_token, code_hash),
        )
        .await
    }

    /// Gives `access_token` the code its predecessor `from` (refreshed into it) descends from.
    pub async fn inherit_grant_code(&mut self, access_token: &str, from: &str) -> Result<()> {
        self.exec(
            "UPDATE access_tokens SET grant_code = (SELECT o.grant_code FROM access_tokens o WHERE o.access_token = $2) WHERE access_token = $1",
            (access_token, from),
        )
        .await
    }

    /// Revokes every token descending from the code hashing to `code_hash`; how many.
    pub async fn revoke_tokens_of_code(&mut self, code_hash: &str) -> Result<u64> {
        self.changed(
            "UPDATE access_tokens SET revoked = 1, refresh_hash = NULL WHERE grant_code = $1 AND revoked = 0",
            (code_hash,),
        )
        .await
    }

    /// Stores an authorization request prepared by a client, until `expires_at`.
    pub async fn insert_oauth_session(
        &mut self,
        key_hash: &str,
        s: &OAuthSessionRow,
        now: i64,
        expires_at: i64,
    ) -> Result<()> {
        self.exec(
            "INSERT INTO oauth_sessions (key_hash, client_id, scope, redirect_uri, redirect_given, state, email, expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            (
                key_hash,
                s.client_id,
                &s.scope,
                &s.redirect_uri,
                i64::from(s.redirect_given),
                &s.state,
                &s.email,
                expires_at,
                now,
            ),
        )
        .await
    }

    /// The prepared authorization request with this key hash, if it has not expired at `now`.
    pub async fn oauth_session(
        &mut self,
        key_hash: &str,
        now: i64,
    ) -> Result<Option<OAuthSessionRow>> {
        self.optional(
            db::select("FROM oauth_sessions WHERE key_hash = $1 AND expires_at > $2"),
            (key_hash, now),
        )
        .await
    }

    /// Ends a prepared authorization request (the holder decided). `false` if it was gone.
    pub async fn delete_oauth_session(&mut self, key_hash: &str) -> Result<bool> {
        Ok(self
            .changed(
                "DELETE FROM oauth_sessions WHERE key_hash = $1",
                (key_hash,),
            )
            .await?
            > 0)
    }

    /// Deletes authorization codes and prepared requests that expired before `before`.
    pub async fn forget_oauth_grants(&mut self, before: i64) -> Result<u64> {
        let codes = self
            .changed("DELETE FROM oauth_codes WHERE expires_at < $1", (before,))
            .await?;
        let sessions = self
            .changed(
                "DELETE FROM oauth_sessions WHERE expires_at < $1",
                (before,),
            )
            .await?;
        Ok(codes + sessions)
    }
}
