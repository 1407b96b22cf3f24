//! The endpoints, with the real API's paths and envelopes, routed from the generated operation
//! table: every operation of the spec at its method and path.
//!
//! Every request first meets the [front](front): it gets a log id (the `X-Tt-Logid` header of
//! every answer, and `error.log_id` of a failure envelope), and a [fault rule](crate::FaultRule)
//! may take it over there — a proxy's HTML page, a lost answer, a delay. Every API request then
//! passes the same [gate](gate), in the gateway's order: added latency, the bearer token
//! (99991661/99991663/99991668), the rate limit, the daily quota. Then an injected fault may
//! replace it, and only then is it read and checked. Bodies are always read (or drained, up to
//! the cap) before an error is answered, so a client still sending a block reads the answer
//! rather than a reset connection.

mod download;
mod fields;
mod folders;
mod front;
mod gate;
mod token;
mod uploads;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter, on};
use feishu_drive::ErrorCode;

use crate::config::Operation;
use crate::error::Failure;
use crate::state::App;
use crate::storage::Family;

pub(crate) fn router(app: Arc<App>) -> Router {
    let mut router = Router::new();
    for &op in Operation::ALL {
        // The spec's path templates (`{file_token}`) are axum's syntax too.
        router = router.route(op.path(), endpoint(op));
    }
    router
        .layer(axum::middleware::from_fn_with_state(app.clone(), front::front))
        .with_state(app)
}

/// The operation a request is for, from its method and path.
fn operation(method: &Method, path: &str) -> Option<Operation> {
    Operation::match_path(method.as_str(), path).map(|(op, _)| op)
}

/// The handler of one operation, on the operation's method.
fn endpoint(op: Operation) -> MethodRouter<Arc<App>> {
    let filter = Method::from_bytes(op.method().as_bytes())
        .ok()
        .and_then(|m| MethodFilter::try_from(m).ok())
        .unwrap_or(MethodFilter::GET);
    type Upload =
        fn(Arc<App>, Operation, Family, Request) -> std::pin::Pin<Box<dyn Future<Output = Response> + Send>>;
    let upload = |handler: Upload, family: Family| {
        on(filter, move |State(app): State<Arc<App>>, req: Request| {
            handler(app, op, family, req)
        })
    };
    let download = |family: Family| {
        on(
            filter,
            move |State(app): State<Arc<App>>, Path(token): Path<String>, req: Request| {
                download::download(app, op, family, token, req)
            },
        )
    };
    match op {
        Operation::TenantAccessTokenInternal => {
            on(filter, move |State(app): State<Arc<App>>, req: Request| {
                token::tenant_access_token(app, op, req)
            })
        }
        Operation::UploadPrepare => {
            upload(|a, o, f, r| Box::pin(uploads::prepare(a, o, f, r)), Family::Media)
        }
        Operation::UploadPart => upload(|a, o, f, r| Box::pin(uploads::part(a, o, f, r)), Family::Media),
        Operation::UploadFinish => upload(|a, o, f, r| Box::pin(uploads::finish(a, o, f, r)), Family::Media),
        Operation::UploadAll => upload(
            |a, o, f, r| Box::pin(uploads::upload_all(a, o, f, r)),
            Family::Media,
        ),
        Operation::Download => download(Family::Media),
        Operation::FileUploadPrepare => {
            upload(|a, o, f, r| Box::pin(uploads::prepare(a, o, f, r)), Family::File)
        }
        Operation::FileUploadPart => upload(|a, o, f, r| Box::pin(uploads::part(a, o, f, r)), Family::File),
        Operation::FileUploadFinish => {
            upload(|a, o, f, r| Box::pin(uploads::finish(a, o, f, r)), Family::File)
        }
        Operation::FileUploadAll => upload(
            |a, o, f, r| Box::pin(uploads::upload_all(a, o, f, r)),
            Family::File,
        ),
        Operation::FileDownload => download(Family::File),
        Operation::CreateFolder => on(filter, move |State(app): State<Arc<App>>, req: Request| {
            folders::create_folder(app, op, req)
        }),
        Operation::ListFiles => on(filter, move |State(app): State<Arc<App>>, req: Request| {
            folders::list_files(app, op, req)
        }),
        // An operation the spec gained that this server does not serve yet.
        _ => on(filter, move || async move {
            Failure::new(
                ErrorCode::NotFound,
                format!("this server does not serve {}", op.as_str()),
            )
            .into_response()
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every operation is routed at its own method and path, and the front finds it there.
    #[test]
    fn operations_from_paths() {
        for &op in Operation::ALL {
            let path = op.path().replace("{file_token}", "boxcnX");
            let method = Method::from_bytes(op.method().as_bytes()).expect("a method");
            assert_eq!(operation(&method, &path), Some(op), "{op:?}");
            let other = if method == Method::GET {
                Method::POST
            } else {
                Method::GET
            };
            assert_ne!(operation(&other, &path), Some(op), "{op:?} at {other}");
        }
        assert_eq!(
            operation(&Method::GET, "/open-apis/drive/v1/medias//download"),
            None
        );
    }
}
