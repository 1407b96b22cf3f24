//! The operation table and the limits, generated from the spec so that no hand-written code
//! restates them.
//!
//! `operations.rs` gets `OperationId` (one variant per operation: its method, path template,
//! documented statuses, scopes and rate limit) and `RateGroup` (one variant per operation with
//! its own `x-feishu-rate-limit`: the groups a budget keeps apart). `limits.rs` gets a constant
//! for every `maximum` / `maxLength` / `maxItems` of a component schema and its inline
//! properties, every entry of the top-level `x-feishu-limits`, and the top-level rate limit.
//!
//! This module depends on `spec` and `error` only.

use heck::{ToShoutySnakeCase, ToUpperCamelCase};
use openapiv3::{OpenAPI, ReferenceOr, Schema, SchemaKind, StatusCode, Type};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde::Deserialize;

use crate::error::CodegenError;
use crate::spec::{self, OperationRef};

/// The per-operation (and top-level) rate-limit extension.
pub const RATE_LIMIT: &str = "x-feishu-rate-limit";
/// The per-operation scopes extension.
pub const SCOPES: &str = "x-feishu-scopes";
/// The top-level limits that are not a schema's `maximum` or `maxLength`.
pub const LIMITS: &str = "x-feishu-limits";

/// An operation's documented rate limit.
#[derive(Debug, Clone, Copy, Deserialize)]
struct RateLimit {
    requests_per_second: u32,
    calls_per_day: u64,
}

/// One entry of `x-feishu-limits`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitEntry {
    value: u64,
    unit: String,
    description: String,
}

/// What the table says about one operation.
struct Row {
    variant: syn::Ident,
    id: String,
    method: String,
    path: String,
    statuses: Vec<u16>,
    error_statuses: Vec<u16>,
    media_success: bool,
    scopes: Vec<String>,
    authenticated: bool,
    rate_limit: Option<RateLimit>,
}

fn extension<'a>(op: &'a OperationRef<'_>, name: &str) -> Option<&'a serde_json::Value> {
    op.op.extensions.get(name)
}

fn row(spec: &OpenAPI, op: &OperationRef<'_>) -> Result<Row, CodegenError> {
    let rate_limit = match extension(op, RATE_LIMIT) {
        None => None,
        Some(value) => Some(
            serde_json::from_value::<RateLimit>(value.clone())
                .map_err(|e| spec::op_error(op, format!("`{RATE_LIMIT}`: {e}")))?,
        ),
    };
    let scopes = match extension(op, SCOPES) {
        None => Vec::new(),
        Some(value) => serde_json::from_value::<Vec<String>>(value.clone())
            .map_err(|e| spec::op_error(op, format!("`{SCOPES}` must be a list of strings: {e}")))?,
    };
    let statuses: Vec<u16> = op
        .op
        .responses
        .responses
        .keys()
        .filter_map(|status| match status {
            StatusCode::Code(code) => Some(*code),
            StatusCode::Range(_) => None,
        })
        .collect();
    let media_success = crate::raw_success::has_raw_success(spec, op.op);
    let error_statuses = statuses.iter().copied().filter(|s| *s >= 300).collect();
    // `security: []` on the operation: no token (the token endpoint itself).
    let authenticated = !matches!(&op.op.security, Some(requirements) if requirements.is_empty());
    Ok(Row {
        variant: format_ident!("{}", op.id().to_upper_camel_case()),
        id: op.id().to_owned(),
        method: op.method.to_uppercase(),
        path: op.path.to_owned(),
        statuses,
        error_statuses,
        media_success,
        scopes,
        authenticated,
        rate_limit,
    })
}

/// Generates `operations.rs`.
pub(crate) fn generate_operations(spec: &OpenAPI) -> Result<TokenStream, CodegenError> {
    let rows = spec::operations(spec)?
        .iter()
        .map(|op| row(spec, op))
        .collect::<Result<Vec<_>, _>>()?;
    let operation_id = operation_id(&rows);
    let rate_group = rate_group(&rows);
    Ok(quote! {
        //! The spec's operations: what each is called, where it lives, what it documents and how
        //! fast it may be called. Generated from the spec, so a new operation needs no hand edit.

        #operation_id
        #rate_group

        /// A rate limit the spec documents (`x-feishu-rate-limit`), per app.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct RateLimit {
            /// Requests per second.
            pub requests_per_second: u32,
            /// Calls per day.
            pub calls_per_day: u64,
        }

        /// Whether `path` (without query) matches `template`; the `{name}` segments' raw values.
        fn match_template(template: &'static str, path: &str) -> Option<Vec<(&'static str, String)>> {
            let mut params = Vec::new();
            let mut want = template.split('/');
            let mut have = path.split('/');
            loop {
                match (want.next(), have.next()) {
                    (None, None) => return Some(params),
                    (Some(w), Some(h)) => {
                        if let Some(name) = w.strip_prefix('{').and_then(|w| w.strip_suffix('}')) {
                            if h.is_empty() {
                                return None;
                            }
                            params.push((name, h.to_owned()));
                        } else if w != h {
                            return None;
                        }
                    }
                    _ => return None,
                }
            }
        }
    })
}

/// An integer literal without a type suffix (`4194304`, not `4194304u64`): the constant's or
/// field's type gives it one.
fn lit(value: u64) -> proc_macro2::Literal {
    proc_macro2::Literal::u64_unsuffixed(value)
}

fn u16_lists(lists: impl Iterator<Item = Vec<u16>>) -> Vec<TokenStream> {
    lists
        .map(|list| {
            let list = list.into_iter().map(|s| lit(u64::from(s)));
            quote! { &[#(#list),*] }
        })
        .collect()
}

fn rate_limit_tokens(limit: RateLimit) -> TokenStream {
    let rps = lit(u64::from(limit.requests_per_second));
    let daily = lit(limit.calls_per_day);
    quote! { RateLimit { requests_per_second: #rps, calls_per_day: #daily } }
}

// Why this function is long: one `quote!` template of the generated `OperationId` and its
// lookups, which reads top to bottom as `generated/operations.rs` does.
fn operation_id(rows: &[Row]) -> TokenStream {
    let variants: Vec<_> = rows.iter().map(|r| &r.variant).collect();
    let ids: Vec<_> = rows.iter().map(|r| r.id.as_str()).collect();
    let methods: Vec<_> = rows.iter().map(|r| r.method.as_str()).collect();
    let paths: Vec<_> = rows.iter().map(|r| r.path.as_str()).collect();
    let statuses = u16_lists(rows.iter().map(|r| r.statuses.clone()));
    let error_statuses = u16_lists(rows.iter().map(|r| r.error_statuses.clone()));
    let media: Vec<_> = rows.iter().map(|r| r.media_success).collect();
    let authenticated: Vec<_> = rows.iter().map(|r| r.authenticated).collect();
    let scopes: Vec<_> = rows
        .iter()
        .map(|r| {
            let s = &r.scopes;
            quote! { &[#(#s),*] }
        })
        .collect();
    let limits: Vec<_> = rows
        .iter()
        .map(|r| match r.rate_limit {
            Some(limit) => {
                let limit = rate_limit_tokens(limit);
                quote! { Some(#limit) }
            }
            None => quote! { None },
        })
        .collect();
    let docs = rows
        .iter()
        .map(|r| format!(" `{} {}` (`{}`).", r.method, r.path, r.id));
    quote! {
        /// An operation of the spec, by its `operationId`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum OperationId {
            #(#[doc = #docs] #variants,)*
        }

        impl OperationId {
            /// Every operation, in the spec's order.
            pub const ALL: &'static [OperationId] = &[#(OperationId::#variants),*];

            /// The `operationId`, as the spec spells it (and the generated method's name).
            pub const fn as_str(self) -> &'static str {
                match self { #(OperationId::#variants => #ids,)* }
            }

            /// The operation whose `operationId` is `name`.
            pub fn from_name(name: &str) -> Option<Self> {
                match name { #(#ids => Some(OperationId::#variants),)* _ => None }
            }

            /// The HTTP method, upper case.
            pub const fn method(self) -> &'static str {
                match self { #(OperationId::#variants => #methods,)* }
            }

            /// The path template, with `{name}` for each path parameter.
            pub const fn path(self) -> &'static str {
                match self { #(OperationId::#variants => #paths,)* }
            }

            /// Every status the spec documents a response for.
            pub const fn documented_statuses(self) -> &'static [u16] {
                match self { #(OperationId::#variants => #statuses,)* }
            }

            /// The failure statuses (300 and up) the spec documents a response for.
            pub const fn error_statuses(self) -> &'static [u16] {
                match self { #(OperationId::#variants => #error_statuses,)* }
            }

            /// Whether a success may carry a body that is not JSON (a file's bytes).
            pub const fn has_media_success(self) -> bool {
                match self { #(OperationId::#variants => #media,)* }
            }

            /// Whether requests carry an access token (`false` for `security: []`).
            pub const fn is_authenticated(self) -> bool {
                match self { #(OperationId::#variants => #authenticated,)* }
            }

            /// The scopes one of which the app needs (`x-feishu-scopes`).
            pub const fn scopes(self) -> &'static [&'static str] {
                match self { #(OperationId::#variants => #scopes,)* }
            }

            /// The documented rate limit (`x-feishu-rate-limit`), if any.
            pub const fn rate_limit(self) -> Option<RateLimit> {
                match self { #(OperationId::#variants => #limits,)* }
            }

            /// The operation a request of `method` to `path` (no query) is, and its path
            /// parameters' raw (still percent-encoded) values by name.
            pub fn match_path(method: &str, path: &str) -> Option<(OperationId, Vec<(&'static str, String)>)> {
                OperationId::ALL.iter().find_map(|op| {
                    if !op.method().eq_ignore_ascii_case(method) {
                        return None;
                    }
                    match_template(op.path(), path).map(|params| (*op, params))
                })
            }
        }

        impl ::std::fmt::Display for OperationId {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    }
}

fn rate_group(rows: &[Row]) -> TokenStream {
    let limited: Vec<&Row> = rows.iter().filter(|r| r.rate_limit.is_some()).collect();
    let variants: Vec<_> = limited.iter().map(|r| &r.variant).collect();
    let count = limited.len();
    let indices: Vec<_> = (0..count).map(|i| lit(i as u64)).collect();
    let limits: Vec<_> = limited
        .iter()
        .filter_map(|r| r.rate_limit.map(rate_limit_tokens))
        .collect();
    let count_lit = lit(count as u64);
    let docs = limited.iter().map(|r| format!(" `{} {}`.", r.method, r.path));
    quote! {
        /// The operations the spec gives a rate limit of their own (`x-feishu-rate-limit`): the
        /// groups a budget counts separately. Named as in Feishu's docs and the budget's keys.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum RateGroup {
            #(#[doc = #docs] #variants,)*
        }

        impl RateGroup {
            /// How many groups there are.
            pub const COUNT: usize = #count_lit;

            /// Every group, in the spec's order.
            pub const ALL: [RateGroup; RateGroup::COUNT] = [#(RateGroup::#variants),*];

            /// The group's position in [`RateGroup::ALL`].
            pub const fn index(self) -> usize {
                match self { #(RateGroup::#variants => #indices,)* }
            }

            /// The operation.
            pub const fn operation(self) -> OperationId {
                match self { #(RateGroup::#variants => OperationId::#variants,)* }
            }

            /// The operation's name, as in Feishu's docs.
            pub const fn as_str(self) -> &'static str {
                self.operation().as_str()
            }

            /// The group's documented limit.
            pub const fn rate_limit(self) -> RateLimit {
                match self { #(RateGroup::#variants => #limits,)* }
            }
        }

        impl OperationId {
            /// The budget group the operation's requests count against, if it has a rate limit.
            pub const fn rate_group(self) -> Option<RateGroup> {
                match self {
                    #(OperationId::#variants => Some(RateGroup::#variants),)*
                    #[allow(unreachable_patterns)]
                    _ => None,
                }
            }
        }

        impl ::std::fmt::Display for RateGroup {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    }
}

/// One generated constant of `limits.rs`.
struct Constant {
    name: String,
    doc: String,
    value: TokenStream,
    ty: TokenStream,
}

/// Generates `limits.rs`.
pub(crate) fn generate_limits(spec: &OpenAPI) -> Result<TokenStream, CodegenError> {
    let mut constants = rate_constants(spec)?;
    constants.extend(extension_constants(spec)?);
    for (name, schema) in spec.components.iter().flat_map(|c| &c.schemas) {
        let ReferenceOr::Item(schema) = schema else {
            continue;
        };
        constants.extend(schema_constants(name, None, schema));
        if let SchemaKind::Type(Type::Object(object)) = &schema.schema_kind {
            for (property, value) in &object.properties {
                if let ReferenceOr::Item(inner) = value {
                    constants.extend(schema_constants(name, Some(property), inner));
                }
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    for c in &constants {
        if !seen.insert(c.name.clone()) {
            return Err(CodegenError::Schema {
                name: c.name.clone(),
                problem:
                    "two limits would get this constant name; rename a schema or an `x-feishu-limits` entry"
                        .to_owned(),
            });
        }
    }
    let items = constants.iter().map(|c| {
        let name = format_ident!("{}", c.name);
        let (doc, ty, value) = (&c.doc, &c.ty, &c.value);
        quote! { #[doc = #doc] pub const #name: #ty = #value; }
    });
    Ok(quote! {
        //! The documented limits, generated from the spec: every `maximum`, `maxLength` and
        //! `maxItems` of its schemas (named `SCHEMA_PROPERTY_KEYWORD`), its `x-feishu-limits` and
        //! its top-level `x-feishu-rate-limit`.

        #(#items)*
    })
}

fn rate_constants(spec: &OpenAPI) -> Result<Vec<Constant>, CodegenError> {
    let Some(value) = spec.extensions.get(RATE_LIMIT) else {
        return Ok(Vec::new());
    };
    let limit: RateLimit = serde_json::from_value(value.clone()).map_err(|e| CodegenError::Schema {
        name: RATE_LIMIT.to_owned(),
        problem: e.to_string(),
    })?;
    let (rps, daily) = (
        lit(u64::from(limit.requests_per_second)),
        lit(limit.calls_per_day),
    );
    Ok(vec![
        Constant {
            name: "REQUESTS_PER_SECOND".to_owned(),
            doc: " Requests per second per app that each rate-limited operation allows (`x-feishu-rate-limit`).".to_owned(),
            value: quote! { #rps },
            ty: quote! { u32 },
        },
        Constant {
            name: "CALLS_PER_DAY".to_owned(),
            doc: " Calls per day per app that each rate-limited operation allows (`x-feishu-rate-limit`).".to_owned(),
            value: quote! { #daily },
            ty: quote! { u64 },
        },
    ])
}

fn extension_constants(spec: &OpenAPI) -> Result<Vec<Constant>, CodegenError> {
    let Some(value) = spec.extensions.get(LIMITS) else {
        return Ok(Vec::new());
    };
    let fail = |problem: String| CodegenError::Schema {
        name: LIMITS.to_owned(),
        problem,
    };
    let entries: indexmap_like::Entries =
        serde_json::from_value(value.clone()).map_err(|e| fail(e.to_string()))?;
    let mut out = Vec::new();
    for (key, entry) in entries.0 {
        let entry: LimitEntry = serde_json::from_value(entry).map_err(|e| fail(format!("`{key}`: {e}")))?;
        let v = lit(entry.value);
        let (ty, value) = match entry.unit.as_str() {
            "bytes" | "count" => (quote! { u64 }, quote! { #v }),
            "seconds" => (
                quote! { ::std::time::Duration },
                quote! { ::std::time::Duration::from_secs(#v) },
            ),
            other => {
                return Err(fail(format!(
                    "`{key}`: unit `{other}` must be one of bytes, count, seconds"
                )));
            }
        };
        out.push(Constant {
            name: key.to_shouty_snake_case(),
            doc: format!(" {} (`{LIMITS}.{key}`)", entry.description),
            value,
            ty,
        });
    }
    Ok(out)
}

/// Keeps the document's order of `x-feishu-limits` (serde_json is built with `preserve_order`).
mod indexmap_like {
    /// The entries of a JSON object, in order.
    pub(super) struct Entries(pub(super) Vec<(String, serde_json::Value)>);

    impl<'de> serde::Deserialize<'de> for Entries {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let map = serde_json::Map::deserialize(d)?;
            Ok(Entries(map.into_iter().collect()))
        }
    }
}

fn schema_constants(schema_name: &str, property: Option<&str>, schema: &Schema) -> Vec<Constant> {
    let base = match property {
        Some(p) => format!("{schema_name}_{p}"),
        None => schema_name.to_owned(),
    }
    .to_shouty_snake_case();
    let place = match property {
        Some(p) => format!("`{schema_name}.{p}`"),
        None => format!("`{schema_name}`"),
    };
    let mut out = Vec::new();
    let mut push = |keyword: &str, value: TokenStream, ty: TokenStream| {
        out.push(Constant {
            name: format!("{base}_{}", keyword.to_shouty_snake_case()),
            doc: format!(" The spec's {place} `{keyword}`."),
            value,
            ty,
        });
    };
    match &schema.schema_kind {
        SchemaKind::Type(Type::String(s)) => {
            if let Some(max) = s.max_length {
                let max = lit(max as u64);
                push("maxLength", quote! { #max }, quote! { usize });
            }
        }
        SchemaKind::Type(Type::Integer(i)) => {
            if let Some(max) = i.maximum {
                match u64::try_from(max) {
                    Ok(max) => {
                        let max = lit(max);
                        push("maximum", quote! { #max }, quote! { u64 });
                    }
                    Err(_) => {
                        let max = proc_macro2::Literal::i64_unsuffixed(max);
                        push("maximum", quote! { #max }, quote! { i64 });
                    }
                }
            }
        }
        SchemaKind::Type(Type::Array(a)) => {
            if let Some(max) = a.max_items {
                let max = lit(max as u64);
                push("maxItems", quote! { #max }, quote! { usize });
            }
        }
        _ => {}
    }
    out
}
