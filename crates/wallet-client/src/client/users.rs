//! The user calls, made with a holder's access token: `user` is her id or `"me"`.

use super::{Client, Error, Method, segment};
use crate::types::{User, Wallet};
use std::fmt::Display;

impl Client {
    /// `GET user/{user}`: her id, and what the token's scopes show.
    pub async fn get_user(&self, user: impl Display) -> Result<User, Error> {
        let path = format!("user/{}", segment(&user.to_string()));
        self.call(Method::GET, &path, None).await
    }

    /// `GET user/{user}/email` (scope `email`).
    pub async fn get_user_email(&self, user: impl Display) -> Result<String, Error> {
        self.user_part(user, "email").await
    }

    /// `GET user/{user}/phone` (scope `phone`): her confirmed phone, digits only.
    pub async fn get_user_phone(&self, user: impl Display) -> Result<String, Error> {
        self.user_part(user, "phone").await
    }

    /// `GET user/{user}/confirmed-phones` (scope `phone`).
    pub async fn get_user_confirmed_phones(
        &self,
        user: impl Display,
    ) -> Result<Vec<String>, Error> {
        self.user_part(user, "confirmed-phones").await
    }

    /// `GET user/{user}/wallets` (scope `wallet_list`).
    pub async fn get_user_wallets(&self, user: impl Display) -> Result<Vec<Wallet>, Error> {
        self.user_part(user, "wallets").await
    }

    async fn user_part<T: serde::de::DeserializeOwned>(
        &self,
        user: impl Display,
        part: &str,
    ) -> Result<T, Error> {
        let path = format!("user/{}/{part}", segment(&user.to_string()));
        self.call(Method::GET, &path, None).await
    }
}
