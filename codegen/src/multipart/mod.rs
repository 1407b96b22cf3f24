//! `multipart/form-data` operations, which progenitor 0.15 rejects ("unexpected content type").
//!
//! They are generated here as methods on the same `Client`, with builders in the same `builder`
//! module and the same `send()` shape as progenitor's: the same hooks (`pre`, `exec`, `post`), the
//! same `ResponseValue` / `Error` types, the same handling of documented and undocumented statuses.
//! Text fields go on the wire in the order the spec lists them; binary fields are streamed from a
//! `reqwest::Body` (a `Bytes` block is not copied) with their documented content type.
//!
//! [`form`] reads the form from the spec, [`responses`] maps the responses to types, [`emit`]
//! writes the Rust.

mod emit;
mod form;
mod responses;

use openapiv3::OpenAPI;

pub(crate) use emit::{MultipartOperation, form_value_impls};
pub(crate) use form::TextFormat;

use crate::error::CodegenError;
use crate::names::TypeNames;
use crate::spec::OperationRef;

/// Generates the method and the builder of one multipart operation.
pub(crate) fn generate(
    spec: &OpenAPI,
    op: &OperationRef<'_>,
    names: &TypeNames,
) -> Result<MultipartOperation, CodegenError> {
    let fields = form::form_fields(spec, op)?;
    let responses = responses::responses(spec, op, names)?;
    emit::generate(op, &fields, responses, names)
}
