//! Operations whose success is a body of any media type, with JSON envelope failures that also
//! arrive with a 2xx status (`download`: the media with its own `Content-Type`, or the envelope
//! with `application/json` and 200 or 202, and 206 for a range).
//!
//! The spec states this exactly: a 2xx response may list `application/json` (the envelope) next
//! to a non-JSON type such as `*/*` (the media). progenitor 0.15 cannot express it: it picks the
//! JSON type whenever a response lists one (so the media would be parsed as JSON), and it
//! asserts that all 2xx responses of an operation share one type (so 200/206 bytes next to a 202
//! envelope make it panic). For progenitor's copy of the spec, such an operation's 2xx responses
//! are all made raw: the generated method returns the `ByteStream` with its status and headers
//! for 200, 202 and 206 alike, and the caller tells an envelope from the media by
//! `Content-Type` (the spec's rule; `feishu_drive::download` does it).

use openapiv3::{MediaType, OpenAPI, ReferenceOr, Response, StatusCode};

use crate::spec::JSON;

/// Whether a content type is JSON (`application/json`, with parameters, or `…+json`).
pub(crate) fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    essence == JSON || (essence.starts_with("application/") && essence.ends_with("+json"))
}

fn is_success(status: &StatusCode) -> bool {
    match status {
        StatusCode::Code(code) => (200..300).contains(code),
        StatusCode::Range(range) => *range == 2,
    }
}

/// Whether one of the operation's 2xx responses has a non-JSON body.
pub(crate) fn has_raw_success(spec: &OpenAPI, op: &openapiv3::Operation) -> bool {
    op.responses.responses.iter().any(|(status, response)| {
        is_success(status) && resolve(spec, response).is_some_and(|r| r.content.keys().any(|t| !is_json(t)))
    })
}

fn resolve<'a>(spec: &'a OpenAPI, response: &'a ReferenceOr<Response>) -> Option<&'a Response> {
    match response {
        ReferenceOr::Item(r) => Some(r),
        ReferenceOr::Reference { reference } => {
            let name = reference.strip_prefix("#/components/responses/")?;
            match spec.components.as_ref()?.responses.get(name)? {
                ReferenceOr::Item(r) => Some(r),
                ReferenceOr::Reference { .. } => None,
            }
        }
    }
}

/// Rewrites, in progenitor's copy of the spec, every 2xx response of an operation with a
/// non-JSON success body to a single raw body (`*/*`, binary): see the module documentation.
pub(crate) fn rewrite(spec: &mut OpenAPI) {
    let original = spec.clone();
    for (_, item) in spec.paths.paths.iter_mut() {
        let ReferenceOr::Item(item) = item else { continue };
        for op in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.options,
            &mut item.head,
            &mut item.patch,
            &mut item.trace,
        ]
        .into_iter()
        .flatten()
        {
            if !has_raw_success(&original, op) {
                continue;
            }
            for (status, response) in op.responses.responses.iter_mut() {
                if !is_success(status) {
                    continue;
                }
                let Some(mut inline) = resolve(&original, response).cloned() else {
                    continue;
                };
                if inline.content.is_empty() {
                    continue;
                }
                let raw = inline
                    .content
                    .iter()
                    .find(|(t, _)| !is_json(t))
                    .map(|(_, media)| media.clone())
                    .unwrap_or_else(|| MediaType {
                        schema: Some(ReferenceOr::Item(openapiv3::Schema {
                            schema_data: Default::default(),
                            schema_kind: openapiv3::SchemaKind::Type(openapiv3::Type::String(
                                openapiv3::StringType {
                                    format: openapiv3::VariantOrUnknownOrEmpty::Item(
                                        openapiv3::StringFormat::Binary,
                                    ),
                                    ..Default::default()
                                },
                            )),
                        })),
                        ..Default::default()
                    });
                inline.content.clear();
                inline.content.insert("*/*".to_owned(), raw);
                *response = ReferenceOr::Item(inline);
            }
        }
    }
}

/// What progenitor makes of a response's body: the JSON schema (as text), raw bytes, or none.
fn body_type(spec: &OpenAPI, response: &ReferenceOr<Response>) -> String {
    match resolve(spec, response) {
        Some(r) if r.content.is_empty() => "none".to_owned(),
        Some(r) => match r.content.iter().find(|(t, _)| is_json(t)) {
            Some((_, media)) => serde_json::to_string(&media.schema).unwrap_or_default(),
            None => "raw".to_owned(),
        },
        None => "none".to_owned(),
    }
}

fn raw_response(spec: &OpenAPI, response: &ReferenceOr<Response>) -> ReferenceOr<Response> {
    let mut inline = resolve(spec, response).cloned().unwrap_or_default();
    let media = MediaType {
        schema: Some(ReferenceOr::Item(openapiv3::Schema {
            schema_data: Default::default(),
            schema_kind: openapiv3::SchemaKind::Type(openapiv3::Type::String(openapiv3::StringType {
                format: openapiv3::VariantOrUnknownOrEmpty::Item(openapiv3::StringFormat::Binary),
                ..Default::default()
            })),
        })),
        ..Default::default()
    };
    inline.content.clear();
    inline.content.insert("*/*".to_owned(), media);
    ReferenceOr::Item(inline)
}

/// progenitor 0.15 asserts that an operation's successes (2xx, 101 and `default`) share one
/// type, and so do its errors (4xx, 5xx and `default`). In its copy of the spec: a `default`
/// beside documented successes becomes the `4XX` and `5XX` responses it stands for (so that its
/// schema is the error type), and a class whose responses still have different types is made
/// raw (the method returns the bytes with status and headers, for the caller to read).
pub(crate) fn rewrite_mixed(spec: &mut OpenAPI) {
    let original = spec.clone();
    for (_, item) in spec.paths.paths.iter_mut() {
        let ReferenceOr::Item(item) = item else { continue };
        for op in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.options,
            &mut item.head,
            &mut item.patch,
            &mut item.trace,
        ]
        .into_iter()
        .flatten()
        {
            let responses = &mut op.responses;
            let has_success = responses.responses.keys().any(is_success);
            if has_success && let Some(default) = responses.default.take() {
                for range in [4, 5] {
                    responses
                        .responses
                        .entry(StatusCode::Range(range))
                        .or_insert_with(|| default.clone());
                }
            }
            let success = |s: &StatusCode| is_success(s) || *s == StatusCode::Code(101);
            for class in [true, false] {
                let in_class = |s: &StatusCode| if class { success(s) } else { !success(s) };
                let mut types: Vec<String> = responses
                    .responses
                    .iter()
                    .filter(|(s, _)| in_class(s))
                    .map(|(_, r)| body_type(&original, r))
                    .collect();
                if let Some(default) = &responses.default {
                    types.push(body_type(&original, default));
                }
                types.sort();
                types.dedup();
                if types.len() < 2 {
                    continue;
                }
                for (status, response) in responses.responses.iter_mut() {
                    if in_class(status) {
                        *response = raw_response(&original, response);
                    }
                }
                if let Some(default) = responses.default.as_mut() {
                    *default = raw_response(&original, default);
                }
            }
        }
    }
}
