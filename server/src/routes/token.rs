//! The tenant token endpoint: app credentials in, a tenant_access_token out.

use std::sync::Arc;

use axum::Json;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use feishu_drive::{ErrorCode, types};

use super::fields::required;
use super::gate::{JsonFields, answer, drop_connection, injected};
use crate::config::Operation;
use crate::error::Failure;
use crate::faults::Fault;
use crate::form;
use crate::state::App;

pub(super) async fn tenant_access_token(app: Arc<App>, op: Operation, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let fault = app.faults.roll(op);
    if fault == Some(Fault::Drop) {
        return drop_connection(&app, &parts, body).await;
    }
    let parsed = form::read_json(body).await.map(JsonFields);
    if let Some(Fault::Retryable(code)) = fault {
        return injected(&app, code).into_response();
    }
    answer((|| {
        let request = parsed.map_err(Failure::params)?;
        let app_id = required(request.text("app_id")?, "app_id")?;
        let app_secret = required(request.text("app_secret")?, "app_secret")?;
        let (token, expire) = app
            .tokens
            .issue(app_id, app_secret)
            .ok_or_else(|| Failure::new(ErrorCode::AuthFailed, "unknown app_id or wrong app_secret"))?;
        Ok(Json(types::TenantAccessTokenResponse {
            code: 0,
            msg: "ok".to_owned(),
            tenant_access_token: Some(token),
            expire: Some(i64::try_from(expire).unwrap_or(i64::MAX)),
        })
        .into_response())
    })())
}
