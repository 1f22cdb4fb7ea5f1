//! Who is calling: the API client a request's MAC signature proved, and the holder whose access
//! token signed it, if any. Authentication makes it; handlers and operations read it.

use crate::error::{ApiError, ApiResult};
use crate::service::scopes;
use wallet_core::ids::{LocationId, UserId, WalletId};
use wallet_store::ClientRow;

/// The authenticated API client of a request.
#[derive(Clone, Debug)]
pub struct Caller {
    pub client: ClientRow,
    /// The wallet holder, when the request is signed with her access token (`me` in paths).
    pub holder: Option<UserId>,
    /// The scope of the holder's access token (`None` with client credentials): what of her the
    /// token may read (`user/{id}`: `email`, `phone`, `wallet_list` …).
    pub scope: Option<String>,
    /// What creating a transaction needs of the client's project, read with its credentials so
    /// that create does not read it again; `None` for an access token (create then reads it).
    pub project: Option<CallerProject>,
    /// `location_id` of the MAC `ext`, as signed (the PHP client's `walletClient(['location_id'
    /// => …])`): read by `POST transaction` only, which checks it ([`Caller::location_id`]).
    pub location: Option<String>,
}

/// The client's project as authentication read it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CallerProject {
    /// The project's beneficiary wallet (a project's wallet never changes).
    pub wallet_id: WalletId,
    /// Whether the project limits a transaction's total in some currency: then create reads the
    /// limits in its own database transaction.
    pub limited: bool,
}

impl Caller {
    /// Whether the request is signed with a holder's token whose scope grants `scope`
    /// ([`scopes::grants`]).
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scope
            .as_deref()
            .is_some_and(|s| scopes::grants(s, scope))
    }

    /// The location the request names in its MAC `ext`, if any: a positive integer, else
    /// `invalid_request`.
    pub fn location_id(&self) -> ApiResult<Option<LocationId>> {
        let Some(text) = self.location.as_deref() else {
            return Ok(None);
        };
        match text.parse::<i64>() {
            Ok(id) if id > 0 && text.bytes().all(|b| b.is_ascii_digit()) => {
                Ok(Some(LocationId::new(id)))
            }
            _ => {
                let shown: String = text.chars().take(32).collect();
                Err(ApiError::invalid(format!(
                    "location_id {shown:?} in the MAC ext is not a location id (a positive integer)"
                )))
            }
        }
    }
}
