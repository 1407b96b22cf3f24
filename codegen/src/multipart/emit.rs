//! `multipart/form-data` operations, which progenitor 0.15 rejects ("unexpected content type").
//!
//! They are generated here as methods on the same `Client`, with builders in the same `builder`
//! module and the same `send()` shape as progenitor's: the same hooks (`pre`, `exec`, `post`), the
//! same `ResponseValue` / `Error` types, the same handling of documented and undocumented statuses.
//! Text fields go on the wire in the order the spec lists them; binary fields are streamed from a
//! `reqwest::Body` (a `Bytes` block is not copied) with their documented content type.

use heck::{ToSnakeCase, ToUpperCamelCase};
use openapiv3::{OpenAPI, ReferenceOr, Schema, SchemaKind, StatusCode, Type};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::error::{CodegenError, op_error};
use crate::spec::{self, MULTIPART, OperationRef};

/// One field of a multipart form.
#[derive(Debug)]
pub(crate) struct FormField {
    name: String,
    required: bool,
    description: Option<String>,
    kind: FieldKind,
}

#[derive(Debug)]
enum FieldKind {
    /// Bytes sent as a file part with this content type.
    Binary { content_type: String },
    /// A decimal integer, with the spec's bounds checked before sending.
    Integer {
        minimum: Option<i64>,
        maximum: Option<i64>,
    },
    /// Text whose Rust type is the component schema's generated newtype (it validates itself).
    Component { type_name: String },
    /// Inline text, with the spec's length bounds checked before sending.
    Text {
        min_length: Option<usize>,
        max_length: Option<usize>,
    },
}

/// Why a multipart operation cannot have parameters.
pub(crate) const NO_PARAMETERS: &str = "multipart operations with path, query or header parameters are not supported yet; send the values as form fields";

/// Names the generated builder uses itself: its `client` field, its `new` and `send` methods, and
/// the `form` being built in `send`. A form field of that name would not compile.
const RESERVED_FIELD_NAMES: [&str; 4] = ["client", "new", "send", "form"];

/// Whether `name` cannot name a method or field: syn's keywords, plus `gen`, reserved since
/// edition 2024 (the client's edition) but still an identifier to syn.
fn is_keyword(name: &str) -> bool {
    name == "gen" || syn::parse_str::<syn::Ident>(name).is_err()
}

/// Reads the form fields of a multipart operation, rejecting what cannot be sent as a form.
pub(crate) fn form_fields(spec: &OpenAPI, op: &OperationRef<'_>) -> Result<Vec<FormField>, CodegenError> {
    // A path template without a declared parameter would be sent with its `{…}` as written.
    if !op.op.parameters.is_empty() || op.path.contains('{') {
        return Err(op_error(op, NO_PARAMETERS));
    }
    if is_keyword(op.id()) {
        return Err(op_error(
            op,
            format!(
                "operationId `{}` is a Rust keyword, so it cannot name the generated method",
                op.id()
            ),
        ));
    }
    let body = spec::request_body(spec, op)?
        .ok_or_else(|| op_error(op, "multipart operation without a request body"))?;
    let media = &body.content[MULTIPART];
    let schema = media.schema.as_ref().ok_or_else(|| {
        op_error(
            op,
            "the multipart body has no schema; describe its fields as an object",
        )
    })?;
    let (_, schema) = spec::resolve_schema(spec, schema).ok_or_else(|| {
        op_error(
            op,
            "the multipart body schema is a reference that points to nothing",
        )
    })?;
    let SchemaKind::Type(Type::Object(object)) = &schema.schema_kind else {
        return Err(op_error(
            op,
            "the multipart body schema must be an object whose properties are the form fields",
        ));
    };
    if object.properties.is_empty() {
        return Err(op_error(
            op,
            "the multipart body schema has no properties, so the form would be empty",
        ));
    }
    for required in &object.required {
        if !object.properties.contains_key(required) {
            return Err(op_error(
                op,
                format!("field `{required}` is listed as required but is not a property"),
            ));
        }
    }
    object
        .properties
        .iter()
        .map(|(name, property)| {
            if is_keyword(name) || name.to_snake_case() != *name {
                return Err(op_error(
                    op,
                    format!("form field `{name}` is not a snake_case Rust identifier, so it cannot name a builder method"),
                ));
            }
            if RESERVED_FIELD_NAMES.contains(&name.as_str()) {
                return Err(op_error(
                    op,
                    format!("form field `{name}` would clash with the generated builder's own `{name}`; rename it"),
                ));
            }
            let property = match property {
                ReferenceOr::Item(schema) => ReferenceOr::Item((**schema).clone()),
                ReferenceOr::Reference { reference } => ReferenceOr::Reference { reference: reference.clone() },
            };
            let (component, schema) = spec::resolve_schema(spec, &property).ok_or_else(|| {
                op_error(op, format!("form field `{name}` references a schema that does not exist"))
            })?;
            let kind = field_kind(op, name, component, schema, media)?;
            Ok(FormField {
                name: name.clone(),
                required: object.required.contains(name),
                description: schema.schema_data.description.clone(),
                kind,
            })
        })
        .collect()
}

fn field_kind(
    op: &OperationRef<'_>,
    name: &str,
    component: Option<&str>,
    schema: &Schema,
    media: &openapiv3::MediaType,
) -> Result<FieldKind, CodegenError> {
    if spec::is_binary(schema) {
        // `send` names a binary part's length `len`.
        if name == "len" {
            return Err(op_error(
                op,
                "binary form field `len` would clash with the generated code's own `len`; rename it",
            ));
        }
        let content_type = media
            .encoding
            .get(name)
            .and_then(|e| e.content_type.clone())
            .unwrap_or_else(|| "application/octet-stream".to_owned());
        if !content_type.contains('/') || content_type.contains(',') {
            return Err(op_error(
                op,
                format!("form field `{name}`: encoding content type `{content_type}` is not one media type"),
            ));
        }
        return Ok(FieldKind::Binary { content_type });
    }
    match (&schema.schema_kind, component) {
        (SchemaKind::Type(Type::Integer(int)), None) => Ok(FieldKind::Integer {
            minimum: int.minimum.map(|m| if int.exclusive_minimum { m + 1 } else { m }),
            maximum: int.maximum.map(|m| if int.exclusive_maximum { m - 1 } else { m }),
        }),
        (SchemaKind::Type(Type::String(_)), Some(component)) => Ok(FieldKind::Component {
            type_name: component.to_upper_camel_case(),
        }),
        (SchemaKind::Type(Type::String(s)), None) => {
            if s.pattern.is_some() || !s.enumeration.is_empty() {
                return Err(op_error(
                    op,
                    format!(
                        "form field `{name}`: an inline pattern or enum cannot be checked; move the schema to components/schemas and reference it"
                    ),
                ));
            }
            Ok(FieldKind::Text {
                min_length: s.min_length,
                max_length: s.max_length,
            })
        }
        (SchemaKind::Type(Type::Integer(_)), Some(component)) => Err(op_error(
            op,
            format!(
                "form field `{name}`: integer component `{component}` is not supported; write the integer inline"
            ),
        )),
        (other, _) => Err(op_error(
            op,
            format!(
                "form field `{name}` has type {}; multipart fields must be strings, integers or binary strings",
                describe_kind(other)
            ),
        )),
    }
}

fn describe_kind(kind: &SchemaKind) -> &'static str {
    match kind {
        SchemaKind::Type(Type::Object(_)) => "object",
        SchemaKind::Type(Type::Array(_)) => "array",
        SchemaKind::Type(Type::Boolean(_)) => "boolean",
        SchemaKind::Type(Type::Number(_)) => "number",
        SchemaKind::Type(Type::Integer(_)) => "integer",
        SchemaKind::Type(Type::String(_)) => "string",
        SchemaKind::OneOf { .. } => "oneOf",
        SchemaKind::AllOf { .. } => "allOf",
        SchemaKind::AnyOf { .. } => "anyOf",
        SchemaKind::Not { .. } => "not",
        SchemaKind::Any(_) => "an untyped schema",
    }
}

/// The generated pieces of one multipart operation.
pub(crate) struct MultipartOperation {
    /// The `impl Client` method.
    pub(crate) method: TokenStream,
    /// The builder struct and its impl, for the `builder` module.
    pub(crate) builder: TokenStream,
}

/// How the responses of an operation map to types.
struct Responses {
    success: Vec<TokenStream>,
    errors: Vec<TokenStream>,
    success_type: TokenStream,
    error_type: TokenStream,
}

fn responses(spec: &OpenAPI, op: &OperationRef<'_>) -> Result<Responses, CodegenError> {
    if op.op.responses.default.is_some() {
        return Err(op_error(
            op,
            "a `default` response is not supported on multipart operations; document each status",
        ));
    }
    let mut success = Vec::new();
    let mut errors = Vec::new();
    let mut success_type: Option<String> = None;
    let mut error_type: Option<String> = None;
    for (status, response) in &op.op.responses.responses {
        let (pattern, class) = match status {
            StatusCode::Code(code) => {
                let code = Some(*code)
                    .filter(|c| (100..=599).contains(c))
                    .ok_or_else(|| op_error(op, format!("response status {code} is not an HTTP status")))?;
                (quote! { #code }, code / 100)
            }
            StatusCode::Range(range) => {
                let range = Some(*range).filter(|r| (1..=5).contains(r)).ok_or_else(|| {
                    op_error(
                        op,
                        format!("response status range {range}XX is not an HTTP status class"),
                    )
                })?;
                let (lo, hi) = (range * 100, range * 100 + 99);
                (quote! { #lo..=#hi }, range)
            }
        };
        let type_name = response_schema_name(spec, op, &status.to_string(), response)?;
        let slot = if class == 2 {
            &mut success_type
        } else {
            &mut error_type
        };
        match slot {
            Some(existing) if *existing != type_name => {
                return Err(op_error(
                    op,
                    format!(
                        "responses of one class must share one schema: {status} uses `{type_name}`, another uses `{existing}`"
                    ),
                ));
            }
            _ => *slot = Some(type_name),
        }
        if class == 2 {
            success.push(pattern);
        } else if class >= 4 {
            errors.push(pattern);
        } else {
            return Err(op_error(
                op,
                format!("response status {status} (1xx/3xx) is not supported on multipart operations"),
            ));
        }
    }
    let success_type = success_type.ok_or_else(|| op_error(op, "no 2xx response is documented"))?;
    let success_ident = format_ident!("{}", success_type);
    let error_type = match error_type {
        Some(name) => {
            let ident = format_ident!("{}", name);
            quote! { types::#ident }
        }
        None => quote! { () },
    };
    Ok(Responses {
        success,
        errors,
        success_type: quote! { types::#success_ident },
        error_type,
    })
}

fn response_schema_name(
    spec: &OpenAPI,
    op: &OperationRef<'_>,
    status: &str,
    response: &ReferenceOr<openapiv3::Response>,
) -> Result<String, CodegenError> {
    let response = match response {
        ReferenceOr::Item(r) => r,
        ReferenceOr::Reference { reference } => {
            let name = reference
                .strip_prefix("#/components/responses/")
                .unwrap_or(reference);
            match spec.components.as_ref().and_then(|c| c.responses.get(name)) {
                Some(ReferenceOr::Item(r)) => r,
                _ => {
                    return Err(op_error(
                        op,
                        format!("response {status} references `{reference}`, which does not exist"),
                    ));
                }
            }
        }
    };
    let schema = response
        .content
        .get(spec::JSON)
        .and_then(|m| m.schema.as_ref())
        .ok_or_else(|| {
            op_error(
                op,
                format!(
                    "response {status} of a multipart operation must have an `{}` schema",
                    spec::JSON
                ),
            )
        })?;
    match schema {
        ReferenceOr::Reference { reference } => reference
            .strip_prefix("#/components/schemas/")
            .filter(|name| {
                spec.components
                    .as_ref()
                    .is_some_and(|c| c.schemas.contains_key(*name))
            })
            .map(|name| name.to_upper_camel_case())
            .ok_or_else(|| {
                op_error(
                    op,
                    format!("response {status} references `{reference}`, which does not exist"),
                )
            }),
        ReferenceOr::Item(_) => Err(op_error(
            op,
            format!(
                "response {status} of a multipart operation must reference a schema in components/schemas (inline schemas have no stable type name)"
            ),
        )),
    }
}

/// Generates the method and the builder of one multipart operation.
pub(crate) fn generate(spec: &OpenAPI, op: &OperationRef<'_>) -> Result<MultipartOperation, CodegenError> {
    let fields = form_fields(spec, op)?;
    let responses = responses(spec, op)?;
    let id = op.id();
    let method_ident = format_ident!("{}", id);
    let builder_ident = format_ident!("{}", id.to_upper_camel_case());
    let path = op.path;
    let http_method = format_ident!("{}", op.method.to_lowercase());
    let method_upper = op.method.to_uppercase();

    let method_doc = method_doc(op, &fields);
    let method = quote! {
        #[doc = #method_doc]
        pub fn #method_ident(&self) -> builder::#builder_ident<'_> {
            builder::#builder_ident::new(self)
        }
    };

    let field_idents: Vec<_> = fields.iter().map(|f| format_ident!("{}", f.name)).collect();
    let field_decls = fields.iter().zip(&field_idents).map(|(f, ident)| {
        let ty = storage_type(f);
        quote! { #ident: #ty }
    });
    let field_inits = fields.iter().zip(&field_idents).map(|(f, ident)| match f.kind {
        FieldKind::Binary { .. } => quote! { #ident: None },
        _ => quote! { #ident: Ok(None) },
    });
    let setters = fields
        .iter()
        .zip(&field_idents)
        .map(|(f, ident)| setter(f, ident));
    let takes = fields
        .iter()
        .zip(&field_idents)
        .map(|(f, ident)| take_value(f, ident));
    let appends = fields
        .iter()
        .zip(&field_idents)
        .map(|(f, ident)| append_part(f, ident));

    let Responses {
        success,
        errors,
        success_type,
        error_type,
    } = responses;
    let success_arms = success.iter().map(|pattern| {
        quote! { #pattern => ResponseValue::from_response(response).await, }
    });
    // Every documented error response has a JSON schema (checked in `response_schema_name`),
    // so each one deserialises into the error type.
    let error_arms = errors.iter().map(|pattern| {
        quote! { #pattern => Err(Error::ErrorResponse(ResponseValue::from_response(response).await?)), }
    });
    let builder_doc = format!("Builder for [`Client::{id}`]\n\n[`Client::{id}`]: super::Client::{id}");
    let send_doc = format!("Sends a `{method_upper}` request to `{path}` as `{MULTIPART}`");
    let url_format = format!("{{}}{path}");

    let builder = quote! {
        #[doc = #builder_doc]
        #[derive(Debug)]
        pub struct #builder_ident<'a> {
            client: &'a super::Client,
            #(#field_decls,)*
        }

        impl<'a> #builder_ident<'a> {
            pub fn new(client: &'a super::Client) -> Self {
                Self {
                    client,
                    #(#field_inits,)*
                }
            }

            #(#setters)*

            #[doc = #send_doc]
            pub async fn send(self) -> Result<ResponseValue<#success_type>, Error<#error_type>> {
                let Self { client, #(#field_idents,)* } = self;
                #(#takes)*
                let form = ::reqwest::multipart::Form::new();
                #(#appends)*
                let url = format!(#url_format, client.baseurl);
                let mut header_map = ::reqwest::header::HeaderMap::with_capacity(1usize);
                header_map.append(
                    ::reqwest::header::HeaderName::from_static("api-version"),
                    ::reqwest::header::HeaderValue::from_static(super::Client::api_version()),
                );
                #[allow(unused_mut)]
                let mut request = client
                    .client
                    .#http_method(url)
                    .header(
                        ::reqwest::header::ACCEPT,
                        ::reqwest::header::HeaderValue::from_static("application/json"),
                    )
                    .multipart(form)
                    .headers(header_map)
                    .build()?;
                let info = OperationInfo { operation_id: #id };
                client.pre(&mut request, &info).await?;
                let result = client.exec(request, &info).await;
                client.post(&result, &info).await?;
                let response = result?;
                match response.status().as_u16() {
                    #(#success_arms)*
                    #(#error_arms)*
                    _ => Err(Error::UnexpectedResponse(response)),
                }
            }
        }
    };
    Ok(MultipartOperation { method, builder })
}

fn method_doc(op: &OperationRef<'_>, fields: &[FormField]) -> String {
    let mut doc = String::new();
    if let Some(summary) = &op.op.summary {
        doc.push_str(summary.trim());
        doc.push_str("\n\n");
    }
    if let Some(description) = &op.op.description {
        doc.push_str(description.trim());
        doc.push_str("\n\n");
    }
    doc.push_str(&format!(
        "Sends a `{}` request to `{}` as `{MULTIPART}`; the fields go on the wire in this order.\n\n```ignore\nlet response = client.{}()",
        op.method.to_uppercase(),
        op.path,
        op.id()
    ));
    for f in fields {
        doc.push_str(&format!("\n    .{0}({0})", f.name));
    }
    doc.push_str("\n    .send()\n    .await;\n```");
    doc
}

fn value_type(f: &FormField) -> TokenStream {
    match &f.kind {
        FieldKind::Binary { .. } => quote! { ::reqwest::Body },
        FieldKind::Integer { .. } => quote! { i64 },
        FieldKind::Component { type_name } => {
            let ident = format_ident!("{}", type_name);
            quote! { types::#ident }
        }
        FieldKind::Text { .. } => quote! { ::std::string::String },
    }
}

fn storage_type(f: &FormField) -> TokenStream {
    let ty = value_type(f);
    match f.kind {
        // A body is moved in whole, so there is no conversion that could fail.
        FieldKind::Binary { .. } => quote! { Option<#ty> },
        _ => quote! { Result<Option<#ty>, String> },
    }
}

fn setter(f: &FormField, ident: &proc_macro2::Ident) -> TokenStream {
    let name = &f.name;
    let doc = match &f.description {
        Some(d) => format!("{}{}", d.trim(), if f.required { "" } else { " (optional)" }),
        None => format!(
            "Sets the `{name}` field{}.",
            if f.required { "" } else { " (optional)" }
        ),
    };
    match &f.kind {
        FieldKind::Binary { content_type } => {
            let doc = format!(
                "{doc}\n\nSent as a file part with `Content-Type: {content_type}`. `Bytes` and `Vec<u8>` are moved, not copied, and sent with a `Content-Length`; a streaming body is sent as it is read."
            );
            quote! {
                #[doc = #doc]
                pub fn #ident<B>(mut self, value: B) -> Self
                where
                    B: ::std::convert::Into<::reqwest::Body>,
                {
                    self.#ident = Some(value.into());
                    self
                }
            }
        }
        FieldKind::Text { .. } => quote! {
            #[doc = #doc]
            pub fn #ident<V>(mut self, value: V) -> Self
            where
                V: ::std::convert::Into<::std::string::String>,
            {
                self.#ident = Ok(Some(value.into()));
                self
            }
        },
        _ => {
            let ty = value_type(f);
            let ty_name = match &f.kind {
                FieldKind::Component { type_name } => type_name.clone(),
                _ => "i64".to_owned(),
            };
            let message = format!("conversion to `{ty_name}` for {name} failed: {{}}");
            quote! {
                #[doc = #doc]
                pub fn #ident<V>(mut self, value: V) -> Self
                where
                    V: ::std::convert::TryInto<#ty>,
                    V::Error: ::std::fmt::Display,
                {
                    self.#ident = value
                        .try_into()
                        .map(Some)
                        .map_err(|e| format!(#message, e));
                    self
                }
            }
        }
    }
}

/// Turns the stored value into the value to send, checking presence and the spec's bounds.
fn take_value(f: &FormField, ident: &proc_macro2::Ident) -> TokenStream {
    let name = &f.name;
    let missing = format!("`{name}` is required but was not set");
    let unwrap = match f.kind {
        FieldKind::Binary { .. } if f.required => quote! {
            let #ident = #ident.ok_or_else(|| Error::InvalidRequest(#missing.to_string()))?;
        },
        FieldKind::Binary { .. } => quote! {},
        _ if f.required => quote! {
            let #ident = #ident
                .map_err(Error::InvalidRequest)?
                .ok_or_else(|| Error::InvalidRequest(#missing.to_string()))?;
        },
        _ => quote! {
            let #ident = #ident.map_err(Error::InvalidRequest)?;
        },
    };
    let checks = bound_checks(f);
    if checks.is_empty() {
        return unwrap;
    }
    if f.required {
        quote! {
            #unwrap
            {
                let value = &#ident;
                #checks
            }
        }
    } else {
        quote! {
            #unwrap
            if let Some(value) = &#ident {
                #checks
            }
        }
    }
}

fn bound_checks(f: &FormField) -> TokenStream {
    let name = &f.name;
    match &f.kind {
        FieldKind::Integer { minimum, maximum } => {
            let min = minimum.map(|min| {
                let msg = format!("`{name}` must be at least {min}, got {{}}");
                quote! { if *value < #min { return Err(Error::InvalidRequest(format!(#msg, value))); } }
            });
            let max = maximum.map(|max| {
                let msg = format!("`{name}` must be at most {max}, got {{}}");
                quote! { if *value > #max { return Err(Error::InvalidRequest(format!(#msg, value))); } }
            });
            quote! { #min #max }
        }
        FieldKind::Text {
            min_length,
            max_length,
        } => {
            let min = min_length.map(|min| {
                let msg = format!("`{name}` must be at least {min} characters, got {{}}");
                quote! {
                    let len = value.chars().count();
                    if len < #min { return Err(Error::InvalidRequest(format!(#msg, len))); }
                }
            });
            let max = max_length.map(|max| {
                let msg = format!("`{name}` must be at most {max} characters, got {{}}");
                quote! {
                    let len = value.chars().count();
                    if len > #max { return Err(Error::InvalidRequest(format!(#msg, len))); }
                }
            });
            quote! { #min #max }
        }
        _ => quote! {},
    }
}

fn append_part(f: &FormField, ident: &proc_macro2::Ident) -> TokenStream {
    let name = &f.name;
    let text = match &f.kind {
        FieldKind::Binary { content_type } => {
            let part = quote! {
                // In-memory bodies know their length, so the form gets a Content-Length;
                // streams are sent with chunked encoding.
                let part = match #ident.as_bytes().map(|b| b.len() as u64) {
                    Some(len) => ::reqwest::multipart::Part::stream_with_length(#ident, len),
                    None => ::reqwest::multipart::Part::stream(#ident),
                }
                .mime_str(#content_type)
                .map_err(|e| Error::InvalidRequest(e.to_string()))?;
                let form = form.part(#name, part);
            };
            return if f.required {
                part
            } else {
                quote! {
                    let form = match #ident {
                        Some(#ident) => { #part form }
                        None => form,
                    };
                }
            };
        }
        FieldKind::Integer { .. } => quote! { v.to_string() },
        FieldKind::Component { .. } => quote! { ::std::string::String::from(v) },
        FieldKind::Text { .. } => quote! { v },
    };
    if f.required {
        quote! { let form = { let v = #ident; form.text(#name, #text) }; }
    } else {
        quote! {
            let form = match #ident {
                Some(v) => form.text(#name, #text),
                None => form,
            };
        }
    }
}
