//! Access tokens: where they come from, and keeping them out of logs.
//!
//! Two layers: what a token source is and hands out (`token.rs`: [`TokenSource`],
//! [`AccessToken`], [`AuthError`], [`StaticToken`]), which the client's context holds, and the
//! app credentials that fetch tokens through a client (`app.rs`: [`AppCredentials`]), which
//! hold a client. Split so the context and the client do not import each other.

mod app;
mod token;

pub use app::AppCredentials;
pub use token::{AccessToken, AuthError, StaticToken, TokenSource};
