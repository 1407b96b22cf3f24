//! The Rust code of a multipart operation: a `Client` method and a builder with `send()`.
//!
//! The builder follows progenitor's builder style (a setter per field taking what converts into
//! the field's type, errors kept until `send`) and its `send` runs the same hooks (`pre`, `exec`,
//! `post`) and returns the same `ResponseValue` / `Error` types. Only progenitor-client's public
//! API is used, through fully qualified paths: nothing depends on the imports or private fields
//! of progenitor's generated code.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use super::form::{FieldKind, FormField, IntType, Location, TextFormat};
use super::form_values::format_type;
use super::responses::{Body, Responses};
use super::setters::{body_method, form_field, set_from_form, setter, try_clone_method};
use super::streaming;
use super::wire::{append_part, send_parameter, take_value};
use crate::error::CodegenError;
use crate::names::TypeNames;
use crate::spec::{MULTIPART, OperationRef};

/// The generated pieces of one multipart operation.
pub(crate) struct MultipartOperation {
    /// The `impl Client` method.
    pub(crate) method: TokenStream,
    /// The builder struct and its impl, for the `builder` module.
    pub(crate) builder: TokenStream,
    /// The request-body type the builder's `body` takes, for the `types` module.
    pub(crate) form: TokenStream,
    /// The request-body type's name.
    pub(crate) form_name: String,
    /// The operation's id, method and path, to name it in errors found later.
    pub(crate) place: (String, String, String),
    /// Component schemas whose types the fields take (for `form_values::form_value_impls`).
    pub(crate) field_components: Vec<String>,
    /// String formats the fields take as typed values (for `form_values::form_value_impls`, and the
    /// generated crate's dependencies).
    pub(crate) formats: Vec<TextFormat>,
    /// Component schemas the operation names (to check against progenitor's type space).
    pub(crate) components: Vec<String>,
    /// `send` checks a pattern with `regress`.
    pub(crate) uses_regress: bool,
    /// The builder has setters that stream files and readers (`tokio`, `tokio-util`).
    pub(crate) streams: bool,
}

/// Generates the method and the builder of one multipart operation.
pub(crate) fn generate(
    op: &OperationRef<'_>,
    fields: &[FormField],
    responses: Responses,
    names: &TypeNames,
    file_setters: bool,
) -> Result<MultipartOperation, CodegenError> {
    let id = op.id();
    // progenitor names a builder after its operation the same way.
    let builder_ident = format_ident!("{}", heck::ToUpperCamelCase::to_upper_camel_case(id));
    let form_name = format!("{builder_ident}Form");
    let form_ident = format_ident!("{}", form_name);
    let locals = Locals::of(fields, file_setters);
    let code = FieldCode::of(fields, &locals, names)?;
    let mut components = responses.components.clone();
    components.extend(code.field_components.iter().cloned());
    components.extend(code.json_components.iter().cloned());
    let form = form_struct(op, &form_ident, &code.form_fields);
    let builder = builder(
        op,
        fields,
        &builder_ident,
        &form_ident,
        &locals,
        &code,
        &responses,
    );
    let formats = fields
        .iter()
        .filter_map(|f| match f.kind {
            FieldKind::Formatted(format) => Some(format),
            _ => None,
        })
        .collect();
    Ok(MultipartOperation {
        method: client_method(op, fields, &builder_ident),
        builder,
        formats,
        form,
        form_name,
        place: (id.to_owned(), op.method.to_uppercase(), op.path.to_owned()),
        field_components: code.field_components,
        components,
        uses_regress: fields
            .iter()
            .any(|f| matches!(&f.kind, FieldKind::Text { pattern: Some(_), .. })),
        streams: !locals.meta_fields.is_empty(),
    })
}

/// The `impl Client` method that starts the builder.
fn client_method(op: &OperationRef<'_>, fields: &[FormField], builder_ident: &Ident) -> TokenStream {
    let method_ident = format_ident!("{}", op.method_name());
    let method_doc = method_doc(op, fields);
    quote! {
        #[doc = #method_doc]
        pub fn #method_ident(&self) -> builder::#builder_ident<'_> {
            builder::#builder_ident::new(self)
        }
    }
}

/// The names `send` binds the builder's fields to.
struct Locals {
    /// Each field's builder field.
    idents: Vec<Ident>,
    /// Each field's local in `send`: `send` binds each field to a local of its own prefix, so
    /// that no field name can shadow the locals `send` uses (`form`, `url`, `request`…).
    locals: Vec<Ident>,
    /// Each field's streaming metadata field (file name, length), if it streams.
    metas: Vec<Option<Ident>>,
    /// The metadata fields there are, and their locals in `send`.
    meta_fields: Vec<Ident>,
    meta_locals: Vec<Ident>,
}

impl Locals {
    fn of(fields: &[FormField], file_setters: bool) -> Self {
        let metas = streaming::meta_idents(fields, file_setters);
        let meta_fields: Vec<Ident> = metas.iter().flatten().cloned().collect();
        Self {
            idents: fields.iter().map(|f| format_ident!("{}", f.ident)).collect(),
            locals: fields
                .iter()
                .map(|f| format_ident!("field_{}", f.ident))
                .collect(),
            meta_locals: meta_fields.iter().map(|m| format_ident!("field_{}", m)).collect(),
            meta_fields,
            metas,
        }
    }
}

/// What each field contributes to the builder, its `send` and its form type, in field order.
#[derive(Default)]
struct FieldCode {
    field_components: Vec<String>,
    json_components: Vec<String>,
    field_decls: Vec<TokenStream>,
    field_inits: Vec<TokenStream>,
    setters: Vec<TokenStream>,
    takes: Vec<TokenStream>,
    appends: Vec<TokenStream>,
    form_fields: Vec<TokenStream>,
    from_form: Vec<TokenStream>,
    parameters: Vec<TokenStream>,
    meta_copies: Vec<TokenStream>,
}

impl FieldCode {
    fn of(fields: &[FormField], locals: &Locals, names: &TypeNames) -> Result<Self, CodegenError> {
        let mut code = Self::default();
        for (((f, ident), local), meta) in fields
            .iter()
            .zip(&locals.idents)
            .zip(&locals.locals)
            .zip(&locals.metas)
        {
            code.push(f, ident, local, meta.as_ref(), names)?;
        }
        Ok(code)
    }

    fn push(
        &mut self,
        f: &FormField,
        ident: &Ident,
        local: &Ident,
        meta: Option<&Ident>,
        names: &TypeNames,
    ) -> Result<(), CodegenError> {
        if let FieldKind::Component { component } = &f.kind {
            self.field_components.push(component.clone());
        }
        if let FieldKind::Json {
            component: Some(component),
            ..
        } = &f.kind
        {
            self.json_components.push(component.clone());
        }
        let value_ty = value_type(f, names)?;
        let (decl, init) = match (&f.kind, f.repeated.is_some()) {
            (FieldKind::Binary { .. }, false) => (quote! { Option<#value_ty> }, quote! { None }),
            (FieldKind::Binary { .. }, true) => (quote! { Vec<#value_ty> }, quote! { Vec::new() }),
            (_, false) => (quote! { Result<Option<#value_ty>, String> }, quote! { Ok(None) }),
            (_, true) => (
                quote! { Result<Vec<#value_ty>, String> },
                quote! { Ok(Vec::new()) },
            ),
        };
        self.field_decls.push(quote! { #ident: #decl });
        self.field_inits.push(quote! { #ident: #init });
        let reset = meta.map(streaming::reset).unwrap_or_default();
        self.setters.push(setter(f, ident, &value_ty, &reset));
        self.takes.push(take_value(f, local));
        if let Some(meta) = meta {
            let (decl, init) = streaming::decl(meta);
            self.field_decls.push(decl);
            self.field_inits.push(init);
            self.setters.push(streaming::setters(f, ident, meta));
            let meta_local = format_ident!("field_{}", meta);
            self.takes.push(streaming::take(&meta_local));
            self.meta_copies.push(quote! { #meta: self.#meta.clone() });
        }
        if f.location == Location::Form {
            self.form_fields.push(form_field(f, ident, &value_ty));
            self.from_form.push(quote! { #reset });
            self.from_form.push(set_from_form(f, ident));
            self.appends.push(match meta {
                Some(meta) => streaming::append_part(f, local, &format_ident!("field_{}", meta)),
                None => append_part(f, local),
            });
        } else {
            self.parameters.push(send_parameter(f, local));
        }
        Ok(())
    }
}

/// The request-body type the builder's `body` takes.
fn form_struct(op: &OperationRef<'_>, form_ident: &Ident, form_fields: &[TokenStream]) -> TokenStream {
    let method_name = op.method_name();
    let form_doc = format!(
        "The `{MULTIPART}` body of [`Client::{method_name}`](super::Client::{method_name}), for its builder's `body`.\n\nIt holds every part in memory (binary parts as `Bytes`), so it is `Clone`: build it once and send it again. A streamed part goes through the builder's own setter instead."
    );
    quote! {
        #[doc = #form_doc]
        #[derive(Clone, Debug)]
        pub struct #form_ident {
            #(#form_fields,)*
        }
    }
}

/// The builder struct and its impl: `new`, `try_clone` when it has binary parts, `body`, the
/// setters and `send`.
fn builder(
    op: &OperationRef<'_>,
    fields: &[FormField],
    builder_ident: &Ident,
    form_ident: &Ident,
    locals: &Locals,
    code: &FieldCode,
    responses: &Responses,
) -> TokenStream {
    let method_name = op.method_name();
    let builder_doc = format!(
        "Builder for [`Client::{method_name}`]\n\n[`Client::{method_name}`]: super::Client::{method_name}"
    );
    // A streamed body cannot be cloned, so a builder with binary parts is not `Clone`; it has
    // reqwest's `try_clone` instead. A form of text fields only is `Clone`.
    let has_binary = fields.iter().any(|f| matches!(f.kind, FieldKind::Binary { .. }));
    let derives = if has_binary {
        quote! { #[derive(Debug)] }
    } else {
        quote! { #[derive(Debug, Clone)] }
    };
    let try_clone = has_binary.then(|| try_clone_method(fields, &locals.idents, &code.meta_copies));
    let body_method = body_method(form_ident, &form_ident.to_string(), &code.from_form);
    let send = send_method(op, fields, locals, code, responses);
    let FieldCode {
        field_decls,
        field_inits,
        setters,
        ..
    } = code;
    quote! {
        #[doc = #builder_doc]
        #derives
        pub struct #builder_ident<'a> {
            client: &'a super::Client,
            // A failed conversion in `body`, reported by `send` (`body` is a reserved field
            // name, so no form field can take this one).
            body: Result<(), String>,
            #(#field_decls,)*
        }

        impl<'a> #builder_ident<'a> {
            pub fn new(client: &'a super::Client) -> Self {
                Self {
                    client,
                    body: Ok(()),
                    #(#field_inits,)*
                }
            }

            #try_clone

            #body_method

            #(#setters)*

            #send
        }
    }
}

/// The builder's `send`: the parameters and parts taken out of the builder, the request built
/// and sent through progenitor's hooks, the response read by status.
fn send_method(
    op: &OperationRef<'_>,
    fields: &[FormField],
    locals: &Locals,
    code: &FieldCode,
    responses: &Responses,
) -> TokenStream {
    let (id, path) = (op.id(), op.path);
    let http_method = format_ident!("{}", op.method.to_lowercase());
    let send_doc = format!(
        "Sends a `{}` request to `{path}` as `{MULTIPART}`",
        op.method.to_uppercase()
    );
    let RequestParts {
        path_decl,
        query_decl,
        query_call,
        header_capacity,
    } = RequestParts::of(op, fields);
    let Locals {
        idents,
        locals,
        meta_fields,
        meta_locals,
        ..
    } = locals;
    let FieldCode {
        takes,
        parameters,
        appends,
        ..
    } = code;
    let (success_type, error_type) = (&responses.success_type, &responses.error_type);
    let read_response = read_response(responses);
    quote! {
        #[doc = #send_doc]
        pub async fn send(
            self,
        ) -> Result<::progenitor_client::ResponseValue<#success_type>, ::progenitor_client::Error<#error_type>> {
            #[allow(unused_imports)]
            use ::progenitor_client::{ClientHooks as _, ClientInfo as _};
            use ::progenitor_client::Error;
            let Self { client, body: body_conversion, #(#idents: #locals,)* #(#meta_fields: #meta_locals,)* } = self;
            body_conversion.map_err(Error::InvalidRequest)?;
            #(#takes)*
            #path_decl
            #query_decl
            let mut header_map = ::reqwest::header::HeaderMap::with_capacity(#header_capacity);
            #(#parameters)*
            let form = ::reqwest::multipart::Form::new();
            #(#appends)*
            let url = format!("{}{}", client.baseurl(), path);
            header_map.append(
                ::reqwest::header::HeaderName::from_static("api-version"),
                ::reqwest::header::HeaderValue::from_static(super::Client::api_version()),
            );
            #[allow(unused_mut)]
            let mut request = client
                .client()
                .#http_method(url)
                .header(
                    ::reqwest::header::ACCEPT,
                    ::reqwest::header::HeaderValue::from_static("application/json"),
                )
                .multipart(form)
                #query_call
                .headers(header_map)
                .build()?;
            let info = ::progenitor_client::OperationInfo { operation_id: #id };
            client.pre(&mut request, &info).await?;
            let result = client.exec(request, &info).await;
            client.post(&result, &info).await?;
            let response = result?;
            #read_response
        }
    }
}

/// The statements `send` needs for the operation's parameters: only what they take (a path
/// template, a query string, headers).
struct RequestParts {
    path_decl: TokenStream,
    query_decl: TokenStream,
    query_call: TokenStream,
    header_capacity: usize,
}

impl RequestParts {
    fn of(op: &OperationRef<'_>, fields: &[FormField]) -> Self {
        let path = op.path;
        let has = |location| fields.iter().any(|f| f.location == location);
        let path_decl = if has(Location::Path) {
            quote! { let mut path = ::std::string::String::from(#path); }
        } else {
            quote! { let path = #path; }
        };
        let (query_decl, query_call) = if has(Location::Query) {
            (
                quote! { let mut query: ::std::vec::Vec<(&str, ::std::string::String)> = ::std::vec::Vec::new(); },
                quote! { .query(&query) },
            )
        } else {
            (quote! {}, quote! {})
        };
        let header_capacity = 1 + fields.iter().filter(|f| f.location == Location::Header).count();
        Self {
            path_decl,
            query_decl,
            query_call,
            header_capacity,
        }
    }
}

/// The end of `send`: its two readers and the `match` on the response's status.
fn read_response(responses: &Responses) -> TokenStream {
    let Responses {
        success,
        errors,
        error_type,
        default,
        ..
    } = responses;
    let success_arms = success.iter().map(|(pattern, body)| match body {
        Body::Json => quote! { #pattern => read_json(response).await, },
        Body::None => quote! { #pattern => Ok(empty(response)), },
        Body::Raw => quote! {
            #pattern => {
                let status = response.status();
                let headers = response.headers().clone();
                let stream = ::progenitor_client::ByteStream::new(::std::boxed::Box::pin(response.bytes_stream()));
                Ok(::progenitor_client::ResponseValue::new(stream, status, headers))
            }
        },
    });
    // An error with a JSON body deserialises into the error type. One without a body is an
    // `ErrorResponse` of `()` when no error has a body; beside errors that have one, it stays an
    // `UnexpectedResponse`, which keeps its status and headers (and one in another media type
    // always does, keeping its bytes).
    let errors_have_bodies =
        errors.iter().any(|(_, body)| *body == Body::Json) || *default == Some(Body::Json);
    let error_arms = errors.iter().map(|(pattern, body)| match (body, errors_have_bodies) {
        (Body::Json, _) => quote! {
            #pattern => Err(::progenitor_client::Error::ErrorResponse(read_json::<_, #error_type>(response).await?)),
        },
        (Body::None, false) => quote! {
            #pattern => Err(::progenitor_client::Error::ErrorResponse(empty(response))),
        },
        _ => quote! { #pattern => Err(Error::UnexpectedResponse(response)), },
    });
    // What is not listed: the `default` response when there is one.
    let default_arm = match default {
        Some(Body::Json) => quote! {
            _ => Err(::progenitor_client::Error::ErrorResponse(read_json::<_, #error_type>(response).await?)),
        },
        Some(Body::None) if !errors_have_bodies => quote! {
            _ => Err(::progenitor_client::Error::ErrorResponse(empty(response))),
        },
        _ => quote! { _ => Err(Error::UnexpectedResponse(response)), },
    };
    quote! {
        /// A JSON body as a `ResponseValue`, through progenitor-client's public API.
        #[allow(dead_code)]
        async fn read_json<T: ::serde::de::DeserializeOwned, E>(
            response: ::reqwest::Response,
        ) -> Result<::progenitor_client::ResponseValue<T>, ::progenitor_client::Error<E>> {
            let status = response.status();
            let headers = response.headers().clone();
            let body = response.bytes().await.map_err(::progenitor_client::Error::ResponseBodyError)?;
            let inner = ::serde_json::from_slice(&body)
                .map_err(|e| ::progenitor_client::Error::InvalidResponsePayload(body, e))?;
            Ok(::progenitor_client::ResponseValue::new(inner, status, headers))
        }
        /// A response without a body as a `ResponseValue<()>`.
        #[allow(dead_code)]
        fn empty(response: ::reqwest::Response) -> ::progenitor_client::ResponseValue<()> {
            ::progenitor_client::ResponseValue::new((), response.status(), response.headers().clone())
        }
        match response.status().as_u16() {
            #(#success_arms)*
            #(#error_arms)*
            #default_arm
        }
    }
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
        op.method_name()
    ));
    for f in fields {
        doc.push_str(&format!("\n    .{0}({0})", f.ident));
    }
    doc.push_str(&format!(
        "\n    .send()\n    .await;\n```\n\nOr every field at once: `.body(types::{}Form {{ .. }})`.",
        heck::ToUpperCamelCase::to_upper_camel_case(op.id())
    ));
    doc
}

fn value_type(f: &FormField, names: &TypeNames) -> Result<TokenStream, CodegenError> {
    Ok(match &f.kind {
        FieldKind::Binary { .. } => quote! { ::reqwest::Body },
        FieldKind::Integer { ty: IntType::I32, .. } => quote! { i32 },
        FieldKind::Integer { ty: IntType::I64, .. } => quote! { i64 },
        FieldKind::Component { component } => {
            let path = names.path(component)?;
            quote! { super::#path }
        }
        FieldKind::Text { .. } => quote! { ::std::string::String },
        FieldKind::Json {
            component: Some(component),
            ..
        } => {
            let path = names.path(component)?;
            quote! { super::#path }
        }
        FieldKind::Json { component: None, .. } => quote! { ::serde_json::Value },
        FieldKind::Formatted(format) => format_type(*format),
        FieldKind::Number { .. } => quote! { f64 },
        FieldKind::Boolean => quote! { bool },
    })
}
