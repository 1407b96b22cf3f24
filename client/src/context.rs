//! What every request of a [`Client`](crate::Client) shares: how it authenticates.

use std::sync::Arc;

use crate::auth::{StaticToken, TokenSource};

/// The state a [`Client`](crate::Client) hands to its hooks: the source of its access tokens.
///
/// ```
/// use feishu_drive::{Client, ClientContext};
///
/// let client = Client::new("https://open.feishu.cn", ClientContext::with_token("t-example"));
/// ```
#[derive(Clone, Debug, Default)]
pub struct ClientContext {
    tokens: Option<Arc<dyn TokenSource>>,
}

impl ClientContext {
    /// No `Authorization` header: for the token endpoint itself, or a server that needs none.
    pub fn anonymous() -> Self {
        Self::default()
    }

    /// Every request carries this access token (`tenant_access_token` or `user_access_token`).
    pub fn with_token(token: impl Into<String>) -> Self {
        Self::with_source(StaticToken::new(token))
    }

    /// Every request asks `source` for its token, so the source can cache and refresh it.
    pub fn with_source(source: impl TokenSource + 'static) -> Self {
        Self {
            tokens: Some(Arc::new(source)),
        }
    }

    /// The token source, if requests are authenticated.
    pub fn token_source(&self) -> Option<&Arc<dyn TokenSource>> {
        self.tokens.as_ref()
    }
}
