//! What every request meets first: a log id, and the fault rules that may answer instead of
//! the endpoint.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use feishu_drive::ErrorCode;

use super::gate::{drop_connection, reject_unread};
use crate::config::{FaultKind, Operation};
use crate::conn::ConnControl;
use crate::error::{Failure, LOG_ID, LOG_ID_HEADER};
use crate::form::{self, FORM_OVERHEAD, TEXT_LIMIT};
use crate::state::App;
use crate::stats::Counters;

/// The most of a request body worth draining for `op` before answering.
pub(super) fn body_cap(app: &App, op: Operation) -> u64 {
    match op {
        Operation::UploadPart | Operation::FileUploadPart => {
            app.config.block_size.saturating_add(FORM_OVERHEAD)
        }
        Operation::UploadAll | Operation::FileUploadAll => {
            app.config.upload_all_limit.saturating_add(FORM_OVERHEAD)
        }
        _ => TEXT_LIMIT,
    }
}

/// A log id shaped like Feishu's: the UTC time `YYYYMMDDhhmmss` and 18 hex digits.
pub(super) fn new_log_id() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    let tail: u128 = rand::random::<u128>() >> 56;
    format!(
        "{year:04}{month:02}{day:02}{:02}{:02}{:02}{tail:018X}",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// What every request meets first: a log id, and the fault rules.
pub(super) async fn front(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let log_id = new_log_id();
    let mut response = LOG_ID.scope(log_id.clone(), faulted(app, req, next)).await;
    if let Ok(value) = HeaderValue::from_str(&log_id) {
        response.headers_mut().insert(LOG_ID_HEADER, value);
    }
    response
}

/// Serves the request, or lets the fault rule that hits it answer instead.
async fn faulted(app: Arc<App>, req: Request, next: Next) -> Response {
    let Some(op) = super::operation(req.method(), req.uri().path()) else {
        return next.run(req).await;
    };
    app.counters.request(op);
    let Some(kind) = app.faults.pick(op) else {
        return next.run(req).await;
    };
    let cap = body_cap(&app, op);
    let counters = &app.counters;
    match kind {
        FaultKind::Delay(delay) => {
            Counters::bump(&counters.delayed_requests);
            tokio::time::sleep(delay).await;
            next.run(req).await
        }
        FaultKind::LoseResponse => {
            let Some(control) = req.extensions().get::<ConnControl>().cloned() else {
                return next.run(req).await;
            };
            // The endpoint does all it would; only its answer never leaves.
            let response = next.run(req).await;
            drop(response);
            Counters::bump(&counters.lost_responses);
            control.drop_connection();
            std::future::pending().await
        }
        FaultKind::DropRequest => {
            let (parts, body) = req.into_parts();
            drop_connection(&app, &parts, body).await
        }
        FaultKind::Html(_) | FaultKind::PlainText(_) | FaultKind::Empty429 => {
            Counters::bump(&counters.foreign_failures);
            let drained = form::drain(req.into_body(), cap).await;
            let mut response = foreign_failure(kind, status_of(kind));
            if !drained {
                response
                    .headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            response
        }
        FaultKind::Envelope200 | FaultKind::Accepted202 | FaultKind::RefuseCredentials => {
            Counters::bump(&counters.injected_envelopes);
            let failure = match kind {
                FaultKind::Accepted202 => {
                    let code = app
                        .faults
                        .choose(&[
                            ErrorCode::CoverGenerating,
                            ErrorCode::FileTypeNotSupportCover,
                            ErrorCode::CoverNotExist,
                        ])
                        .unwrap_or(ErrorCode::CoverGenerating);
                    Failure::new(code, "injected fault")
                }
                FaultKind::RefuseCredentials => {
                    let code = app
                        .faults
                        .choose(&[ErrorCode::AppSecretInvalid, ErrorCode::AppCredentialsInvalid])
                        .unwrap_or(ErrorCode::AppSecretInvalid);
                    Failure::new(code, "injected fault: the credentials are refused")
                }
                _ => {
                    let code = app.faults.choose(&RETRYABLE_200).unwrap_or(ErrorCode::CanRetry);
                    Failure::new(code, "injected fault")
                }
            };
            reject_unread(failure, req.into_body(), cap).await
        }
    }
}

/// The table's codes documented with HTTP 200 (all retryable).
const RETRYABLE_200: [ErrorCode; 3] = [
    ErrorCode::CanRetry,
    ErrorCode::InternalError,
    ErrorCode::InternalTimeout,
];

fn status_of(kind: FaultKind) -> StatusCode {
    let code = match kind {
        FaultKind::Html(status) | FaultKind::PlainText(status) => status,
        _ => 429,
    };
    StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_GATEWAY)
}

/// A failure as a proxy or load balancer in front of Feishu sends it: not Feishu JSON.
fn foreign_failure(kind: FaultKind, status: StatusCode) -> Response {
    let reason = status.canonical_reason().unwrap_or("Error");
    let (content_type, body) = match kind {
        FaultKind::Html(_) => (
            "text/html",
            format!(
                "<html>\r\n<head><title>{code} {reason}</title></head>\r\n<body>\r\n\
                 <center><h1>{code} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n\
                 </body>\r\n</html>\r\n",
                code = status.as_u16()
            ),
        ),
        FaultKind::PlainText(_) => (
            "text/plain; charset=utf-8",
            format!("{} {reason}\n", status.as_u16()),
        ),
        _ => ("", String::new()),
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    if !content_type.is_empty() {
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_ids_look_like_feishus() {
        let id = new_log_id();
        assert_eq!(id.len(), 32, "{id}");
        assert!(id.starts_with("20"), "{id}");
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b)),
            "{id}"
        );
    }
}
