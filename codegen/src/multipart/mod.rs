//! `multipart/form-data` operations, which progenitor 0.15 rejects ("unexpected content type").
//!
//! They are generated here as methods on the same `Client`, with builders in the same `builder`
//! module and the same `send()` shape as progenitor's: the same hooks (`pre`, `exec`, `post`), the
//! same `ResponseValue` / `Error` types, the same handling of documented and undocumented statuses.
//! Text fields go on the wire in the order the spec lists them; binary fields are streamed from a
//! `reqwest::Body` (a `Bytes` block is not copied) with their documented content type.
//!
//! [`params`] reads the parameters and, through [`form`], the form fields from the spec,
//! [`responses`] maps the responses to types; [`emit`] writes the `Client` method, the builder and
//! its `send`, from [`setters`] (what the builder offers), [`wire`] (what `send` checks and puts on
//! the wire) and [`form_values`] (the conversions behind typed setters).

mod emit;
mod form;
mod form_values;
mod params;
mod responses;
mod setters;
mod streaming;
mod wire;

use openapiv3::OpenAPI;

pub(crate) use emit::MultipartOperation;
pub(crate) use form::TextFormat;
pub(crate) use form_values::form_value_impls;

use crate::error::CodegenError;
use crate::names::TypeNames;
use crate::spec::OperationRef;

/// Generates the method and the builder of one multipart operation; `lenient` (outside strict
/// mode) reads as bytes the responses a type cannot express, and ignores `required` names that
/// are no field, instead of refusing them.
pub(crate) fn generate(
    spec: &OpenAPI,
    op: &OperationRef<'_>,
    names: &TypeNames,
    file_setters: bool,
    lenient: bool,
) -> Result<MultipartOperation, CodegenError> {
    let fields = params::form_fields(spec, op, lenient)?;
    let responses = responses::responses(spec, op, names, lenient)?;
    emit::generate(op, &fields, responses, names, file_setters)
}
