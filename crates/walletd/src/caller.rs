//! Who is calling: the API client a request's MAC signature proved, and the holder whose access
//! token signed it, if any. Authentication makes it; handlers and operations read it.

use wallet_core::ids::{UserId, WalletId};
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
    /// Whether the request is signed with a holder's token whose scope has `scope` (or its
    /// `_offline` form). Scopes are separated by spaces (OAuth) or commas.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scope.as_deref().is_some_and(|s| {
            s.split([' ', ','])
                .any(|g| g == scope || g.strip_suffix("_offline") == Some(scope))
        })
    }
}
