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
fn has_raw_success(spec: &OpenAPI, op: &openapiv3::Operation) -> bool {
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
