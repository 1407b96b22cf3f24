//! The gateway's checks every API request passes (latency, token, rate limit, quota), injected
//! faults, and reading the body of a JSON or multipart request.

use axum::body::Body;
use axum::extract::Request;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use feishu_drive::ErrorCode;
use futures::StreamExt;
use serde_json::Value;

use crate::auth::Identity;
use crate::config::Operation;
use crate::conn::ConnControl;
use crate::error::Failure;
use crate::faults::Fault;
use crate::form::{self, Form, FormError, TEXT_LIMIT};
use crate::state::App;
use crate::stats::Counters;

pub(super) type Answer = Result<Response, Failure>;

pub(super) fn answer(result: Answer) -> Response {
    result.unwrap_or_else(IntoResponse::into_response)
}

/// Latency, token, rate limit: what the gateway does before the endpoint sees the request.
pub(super) async fn gate(app: &App, headers: &HeaderMap, op: Operation) -> Result<Identity, Failure> {
    let latency = app.faults.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let who = app.tokens.authenticate(headers)?;
    app.faults
        .check_rate(&who, op)
        .inspect_err(|_| Counters::bump(&app.counters.rate_limited))?;
    app.faults
        .check_quota(&who, op)
        .inspect_err(|_| Counters::bump(&app.counters.quota_exceeded))?;
    Ok(who)
}

/// Answers `failure` after draining up to `cap` bytes of the body the request still carries.
pub(super) async fn reject_unread(failure: Failure, body: Body, cap: u64) -> Response {
    let failure = if form::drain(body, cap).await {
        failure
    } else {
        failure.closing()
    };
    failure.into_response()
}

/// Drops the connection after the first chunk of the body arrived, without an answer: the
/// connection task owns the socket and closes it; this handler never finishes.
pub(super) async fn drop_connection(app: &App, parts: &Parts, body: Body) -> Response {
    let Some(control) = parts.extensions.get::<ConnControl>() else {
        return Failure::internal("no connection to drop").into_response();
    };
    let _ = body.into_data_stream().next().await;
    Counters::bump(&app.counters.dropped_connections);
    control.drop_connection();
    std::future::pending().await
}

pub(super) fn injected(app: &App, code: ErrorCode) -> Failure {
    Counters::bump(&app.counters.injected_errors);
    Failure::new(code, "injected fault")
}

/// The fields of a JSON body. No field of the spec is nullable, so `null` is as wrong as any
/// other value of the wrong type (1061002), not the same as absent.
pub(super) struct JsonFields(pub(super) serde_json::Map<String, Value>);

impl JsonFields {
    pub(super) fn text(&self, name: &str) -> Result<Option<&str>, Failure> {
        match self.0.get(name) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(_) => Err(Failure::params(format!("`{name}` must be a string"))),
        }
    }

    pub(super) fn integer(&self, name: &str) -> Result<Option<i64>, Failure> {
        match self.0.get(name) {
            None => Ok(None),
            Some(Value::Number(n)) if n.as_i64().is_some() => Ok(n.as_i64()),
            Some(_) => Err(Failure::params(format!("`{name}` must be an integer"))),
        }
    }
}

/// What every media request goes through: the gate, then an injected fault, then `read` of the
/// body (at most `cap` bytes). A retryable fault is answered only after the body was read, as a
/// real server that failed late would.
pub(super) async fn admit<T, Fut>(
    app: &App,
    op: Operation,
    req: Request,
    cap: u64,
    read: impl FnOnce(HeaderMap, Body) -> Fut,
) -> Result<(Identity, T), Response>
where
    Fut: Future<Output = Result<T, Failure>>,
{
    let (parts, body) = req.into_parts();
    let who = match gate(app, &parts.headers, op).await {
        Ok(who) => who,
        Err(failure) => return Err(reject_unread(failure, body, cap).await),
    };
    let fault = app.faults.roll(op);
    if fault == Some(Fault::Drop) {
        return Err(drop_connection(app, &parts, body).await);
    }
    let read = read(parts.headers, body).await;
    if let Some(Fault::Retryable(code)) = fault {
        return Err(injected(app, code).into_response());
    }
    read.map(|value| (who, value))
        .map_err(IntoResponse::into_response)
}

/// A JSON endpoint's body, small and read whole.
pub(super) async fn json_request(
    app: &App,
    op: Operation,
    req: Request,
) -> Result<(Identity, JsonFields), Response> {
    admit(app, op, req, TEXT_LIMIT, |_, body| async {
        form::read_json(body)
            .await
            .map(JsonFields)
            .map_err(Failure::params)
    })
    .await
}

/// A multipart endpoint's form, its file streamed to disk. A body over `cap` is answered with
/// `too_large`.
pub(super) async fn form_request(
    app: &App,
    op: Operation,
    req: Request,
    cap: u64,
    too_large: ErrorCode,
) -> Result<(Identity, Form), Response> {
    admit(app, op, req, cap, |headers, body| async move {
        // Each body in flight holds a buffer and a temporary file: past the cap, the request is
        // refused unread (and its connection closed) rather than queued.
        let Ok(_permit) = app.upload_bodies.clone().try_acquire_owned() else {
            Counters::bump(&app.counters.uploads_refused);
            return Err(
                Failure::new(ErrorCode::CanRetry, "too many uploads in flight; try again later").closing(),
            );
        };
        form::read_form(&app.storage, &headers, body, cap)
            .await
            .map_err(|e| {
                let closes = e.leaves_body_unread();
                let failure = match e {
                    FormError::TooLarge(_) => Failure::new(too_large, e.to_string()),
                    FormError::Malformed(_) => Failure::params(e.to_string()),
                    FormError::Io(_) => Failure::internal(e),
                };
                if closes { failure.closing() } else { failure }
            })
    })
    .await
}
