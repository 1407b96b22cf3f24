//! Tenant tokens and the identity behind a bearer token.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, header};
use feishu_drive::ErrorCode;
use rand::Rng;

use crate::config::AppCredentials;
use crate::error::Failure;

/// Who sends a request: the app a tenant token was issued to, or a user of a `u-<name>` token
/// (a user of the first configured app). An upload, and the file it makes, belongs to the
/// identity that sent it (1062007 / 1061004 for anyone else); rate limits and quotas belong to
/// the app.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub(crate) enum Identity {
    App(String),
    User { app: String, name: String },
}

impl Identity {
    /// The app whose limits the request counts against.
    pub(crate) fn app_id(&self) -> &str {
        match self {
            Identity::App(id) | Identity::User { app: id, .. } => id,
        }
    }
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Identity::App(id) => write!(f, "app {id}"),
            Identity::User { name, .. } => write!(f, "user {name}"),
        }
    }
}

/// A token the tenant-token endpoint handed out.
#[derive(Debug)]
struct Issued {
    app_id: String,
    expires_at: Instant,
}

/// `now + ttl`, for any `ttl`: lifetimes beyond a century are a century, so no configured value
/// can overflow an `Instant`.
pub(crate) fn deadline(now: Instant, ttl: Duration) -> Instant {
    const CENTURY: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);
    now.checked_add(ttl.min(CENTURY)).unwrap_or(now)
}

/// The apps, the tokens issued to them, and the rules for user tokens.
#[derive(Debug)]
pub(crate) struct Tokens {
    apps: Vec<AppCredentials>,
    accept_user_tokens: bool,
    ttl: Duration,
    issued: Mutex<HashMap<String, Issued>>,
}

/// Feishu hands back the same tenant token while it has more than this left, and a new one after.
const REISSUE_BELOW: Duration = Duration::from_secs(30 * 60);

impl Tokens {
    pub(crate) fn new(apps: Vec<AppCredentials>, accept_user_tokens: bool, ttl: Duration) -> Self {
        Self {
            apps,
            accept_user_tokens,
            ttl,
            issued: Mutex::new(HashMap::new()),
        }
    }

    /// A tenant token for the app, and the seconds it has left; `None` for unknown credentials.
    pub(crate) fn issue(&self, app_id: &str, app_secret: &str) -> Option<(String, u64)> {
        let known = self
            .apps
            .iter()
            .any(|app| app.app_id == app_id && app.app_secret == app_secret);
        if !known {
            return None;
        }
        let now = Instant::now();
        let mut issued = lock(&self.issued);
        // Like Feishu, a token with plenty of time left is handed out again rather than replaced.
        let reusable = issued
            .iter()
            .filter(|(_, t)| t.app_id == app_id)
            .map(|(token, t)| (token, t.expires_at.saturating_duration_since(now)))
            .filter(|(_, left)| *left > REISSUE_BELOW)
            .max_by_key(|(_, left)| *left)
            .map(|(token, left)| (token.clone(), left.as_secs()));
        if let Some(found) = reusable {
            return Some(found);
        }
        // Tokens expired for more than a whole lifetime are forgotten (they then read as invalid
        // rather than expired), so a client that fetches a token per request cannot grow the map
        // without bound.
        issued.retain(|_, t| now.saturating_duration_since(t.expires_at) < self.ttl);
        let token = format!("t-{}", random_hex(40));
        issued.insert(
            token.clone(),
            Issued {
                app_id: app_id.to_owned(),
                expires_at: deadline(now, self.ttl),
            },
        );
        Some((token, self.ttl.as_secs()))
    }

    /// The identity behind the request's `Authorization: Bearer …` header, or the gateway's
    /// answer: 99991661 without a bearer token, 99991663 for one it never issued, 99991668 for an
    /// expired one.
    pub(crate) fn authenticate(&self, headers: &HeaderMap) -> Result<Identity, Failure> {
        let token = bearer_token(headers).ok_or_else(|| {
            Failure::new(ErrorCode::AccessTokenMissing, "no `Authorization: Bearer` header")
        })?;
        if let Some(name) = token.strip_prefix("u-")
            && self.accept_user_tokens
            && !name.is_empty()
        {
            let app = self.apps.first().map(|a| a.app_id.clone()).unwrap_or_default();
            return Ok(Identity::User {
                app,
                name: name.to_owned(),
            });
        }
        let issued = lock(&self.issued);
        let found = issued.get(token).ok_or_else(|| {
            Failure::new(
                ErrorCode::AccessTokenInvalid,
                "the server never issued this token",
            )
        })?;
        if Instant::now() >= found.expires_at {
            return Err(Failure::new(
                ErrorCode::UserAccessTokenInvalid,
                "the token expired",
            ));
        }
        Ok(Identity::App(found.app_id.clone()))
    }
}

fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

fn random_hex(len: usize) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut rng = rand::rng();
    (0..len)
        .map(|_| char::from(HEX[rng.random_range(0..HEX.len())]))
        .collect()
}

/// Locks a mutex, recovering from poisoning: every critical section leaves its map consistent
/// (single inserts and removals), so a panic elsewhere must not wedge the server.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, value.parse().expect("header value"));
        h
    }

    #[test]
    fn issues_and_checks_tenant_tokens() {
        let tokens = Tokens::new(
            vec![AppCredentials::new("a", "s")],
            true,
            Duration::from_secs(7200),
        );
        assert!(tokens.issue("a", "wrong").is_none());
        let (token, expire) = tokens.issue("a", "s").expect("token");
        assert_eq!(expire, 7200);
        // Plenty of time left: the same token again.
        assert_eq!(tokens.issue("a", "s").expect("token").0, token);
        let who = tokens
            .authenticate(&headers(&format!("Bearer {token}")))
            .expect("valid");
        assert_eq!(who, Identity::App("a".into()));
        let who = tokens
            .authenticate(&headers(&format!("bearer  {token} ")))
            .expect("valid");
        assert_eq!(who, Identity::App("a".into()));
    }

    #[test]
    fn gateway_codes_for_bad_tokens() {
        let tokens = Tokens::new(vec![AppCredentials::new("a", "s")], false, Duration::ZERO);
        let code = |h: &HeaderMap| tokens.authenticate(h).expect_err("rejected").code();
        assert_eq!(code(&HeaderMap::new()), ErrorCode::AccessTokenMissing);
        assert_eq!(code(&headers("Basic abc")), ErrorCode::AccessTokenMissing);
        assert_eq!(code(&headers("Bearer ")), ErrorCode::AccessTokenMissing);
        assert_eq!(code(&headers("Bearer t-nope")), ErrorCode::AccessTokenInvalid);
        // User tokens are refused when not enabled.
        assert_eq!(code(&headers("Bearer u-alice")), ErrorCode::AccessTokenInvalid);
        let (token, _) = tokens.issue("a", "s").expect("token");
        assert_eq!(
            code(&headers(&format!("Bearer {token}"))),
            ErrorCode::UserAccessTokenInvalid
        );
    }

    #[test]
    fn user_tokens_name_users() {
        let tokens = Tokens::new(vec![], true, Duration::from_secs(1));
        let who = tokens.authenticate(&headers("Bearer u-alice")).expect("user");
        assert_eq!(
            who,
            Identity::User {
                app: String::new(),
                name: "alice".into()
            }
        );
        let err = tokens
            .authenticate(&headers("Bearer u-"))
            .expect_err("empty name");
        assert_eq!(err.code(), ErrorCode::AccessTokenInvalid);
    }
}
