//! The seam between the generated client and this crate: one `ClientHooks` implementation adds
//! the access token to every request, traces it, and normalises Feishu's envelope.

use progenitor_client::{ClientHooks, Error, OperationInfo};
use reqwest::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, HeaderValue};
use tracing::Instrument;

use crate::{Client, ClientContext};

impl ClientHooks<ClientContext> for Client {
    async fn pre<E>(&self, request: &mut reqwest::Request, _info: &OperationInfo) -> Result<(), Error<E>> {
        let Some(source) = self.inner.token_source() else {
            return Ok(());
        };
        let token = source.token().await.map_err(|e| Error::Custom(e.to_string()))?;
        let mut value = HeaderValue::try_from(format!("Bearer {}", token.expose()))
            .map_err(|_| Error::InvalidRequest("the access token is not a valid header value".to_owned()))?;
        // Marks the header sensitive, so reqwest and hyper never print it.
        value.set_sensitive(true);
        request.headers_mut().insert(AUTHORIZATION, value);
        Ok(())
    }

    async fn exec(
        &self,
        request: reqwest::Request,
        info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        let span = tracing::debug_span!(
            "feishu_request",
            operation = info.operation_id,
            method = %request.method(),
            path = request.url().path(),
        );
        async {
            let response = self.client.execute(request).await;
            match &response {
                Ok(r) => tracing::debug!(status = r.status().as_u16(), "response"),
                Err(e) => tracing::debug!(error = %e, "transport error"),
            }
            normalize_envelope(response?).await
        }
        .instrument(span)
        .await
    }
}

/// Feishu reports some failures (1061001, 1061006, 1061045, …) with HTTP 200 and a non-zero
/// `code`, often with `"data": {}`. The generated response types hold the success payload in
/// `data`, so such a body would fail to deserialise and the code would be lost. This drops `data`
/// from a 2xx JSON body whose `code` is not 0; the response then deserialises, with its status,
/// headers, code and message intact, and [`FeishuResult`](crate::FeishuResult) turns it into an
/// [`ApiError`](crate::ApiError). Non-JSON bodies (downloads) are passed through untouched.
async fn normalize_envelope(response: reqwest::Response) -> reqwest::Result<reqwest::Response> {
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !response.status().is_success() || !is_json {
        return Ok(response);
    }
    let status = response.status();
    let version = response.version();
    let mut headers = response.headers().clone();
    let body = response.bytes().await?;
    let body = match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(serde_json::Value::Object(mut envelope))
            if envelope
                .get("code")
                .and_then(serde_json::Value::as_i64)
                .is_some_and(|c| c != 0)
                && envelope.contains_key("data") =>
        {
            envelope.remove("data");
            let rewritten = serde_json::to_vec(&envelope).unwrap_or_else(|_| body.to_vec());
            headers.insert(CONTENT_LENGTH, HeaderValue::from(rewritten.len()));
            bytes::Bytes::from(rewritten)
        }
        _ => body,
    };
    let mut rebuilt = http::Response::new(body);
    *rebuilt.status_mut() = status;
    *rebuilt.version_mut() = version;
    *rebuilt.headers_mut() = headers;
    Ok(reqwest::Response::from(rebuilt))
}
