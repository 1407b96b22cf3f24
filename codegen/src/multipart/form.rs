//! Reading a multipart operation's form: its fields, their kinds and the checks the spec asks for.

// Why this file is long: every field kind (text, typed text, binary, repeated binary, JSON part)
// is read by one walk over the form's schema, which these functions share; splitting it by kind
// would pass that walk's state between files. It is the next file to split when a kind grows.

use openapiv3::{
    IntegerFormat, MediaType, OpenAPI, ReferenceOr, Schema, SchemaKind, Type, VariantOrUnknownOrEmpty,
};

use crate::error::CodegenError;
use crate::spec::{self, MULTIPART, OperationRef, op_error};

/// One field of a multipart form.
#[derive(Debug)]
pub(crate) struct FormField {
    /// The part's name on the wire, as the spec writes it.
    pub(crate) name: String,
    /// The builder method's name: `name` as a snake_case Rust identifier.
    pub(crate) ident: String,
    pub(crate) required: bool,
    pub(crate) description: Option<String>,
    pub(crate) kind: FieldKind,
    /// An array: the value is sent once per item, as parts of the same name.
    pub(crate) repeated: Option<Repeat>,
    /// Where the value goes: a part of the form, or a parameter of the request.
    pub(crate) location: Location,
}

/// Where a builder field's value is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Location {
    /// A part of the `multipart/form-data` body.
    Form,
    /// Substituted for `{name}` in the path, percent-encoded.
    Path,
    /// A `name=value` pair of the query string.
    Query,
    /// A request header.
    Header,
}

/// An array field's item-count bounds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Repeat {
    pub(crate) min_items: Option<usize>,
    pub(crate) max_items: Option<usize>,
    /// For a parameter: `None` sends a `name=value` pair per item (a query parameter with
    /// `explode: true`, form style's default), `Some(d)` one value of the items joined by `d`
    /// (`,` for `explode: false` and for path and header parameters, ` ` or `|` for the
    /// `spaceDelimited` and `pipeDelimited` styles). Unused for form parts.
    pub(crate) delimiter: Option<&'static str>,
}

/// The Rust integer type of an inline integer field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IntType {
    I32,
    I64,
}

#[derive(Debug)]
pub(crate) enum FieldKind {
    /// Bytes sent as a file part with this content type.
    Binary { content_type: String },
    /// A decimal integer, with the spec's bounds, `multipleOf` and `enum` checked before sending.
    Integer {
        ty: IntType,
        minimum: Option<i64>,
        maximum: Option<i64>,
        multiple_of: Option<i64>,
        allowed: Vec<i64>,
    },
    /// A value whose Rust type is the component schema's generated type (it validates itself); it
    /// goes on the wire as its JSON form without quotes (an enum's value, a UUID, an RFC 3339
    /// date-time, a number).
    Component { component: String },
    /// Inline text, with the spec's length bounds, `enum` and `pattern` checked before sending.
    Text {
        min_length: Option<usize>,
        max_length: Option<usize>,
        allowed: Vec<String>,
        /// A regular expression (ECMA 262, checked with `regress`) the text must match.
        pattern: Option<String>,
    },
    /// An object (or any structured value) sent as a part holding its JSON text, with this
    /// content type; its Rust type is the component's generated type, or `serde_json::Value`
    /// for an inline schema.
    Json {
        component: Option<String>,
        content_type: String,
    },
    /// A number, with the spec's bounds checked before sending.
    Number {
        minimum: Option<f64>,
        maximum: Option<f64>,
    },
    /// `true` or `false`.
    Boolean,
    /// An inline string with a `format` that has a Rust type (`uuid`, `date-time`): the value
    /// is that type, so text is parsed and checked before sending.
    Formatted(TextFormat),
}

/// String formats sent as a typed value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum TextFormat {
    /// `format: uuid`: `uuid::Uuid`.
    Uuid,
    /// `format: date-time`: `chrono::DateTime<Utc>`, sent in RFC 3339.
    DateTime,
}

/// Names the generated builder uses itself: its `client` field and its `new`, `body` and `send`
/// (and `try_clone`) methods. A form field or parameter of that name would not compile.
const RESERVED_FIELD_NAMES: [&str; 5] = ["client", "new", "body", "send", "try_clone"];

/// Whether `name` cannot name a method or field: syn's keywords, plus `gen`, reserved since
/// edition 2024 (the client's edition) but still an identifier to syn.
pub(crate) fn is_keyword(name: &str) -> bool {
    name == "gen" || syn::parse_str::<syn::Ident>(name).is_err()
}

/// A form field's name as a snake_case identifier: `Upload-Token` → `upload_token`,
/// `timestamp_granularities[]` → `timestamp_granularities`, `type` → `type_`, `3d` → `x_3d`.
pub(crate) fn field_ident(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let mut ident = heck::ToSnakeCase::to_snake_case(cleaned.as_str());
    if ident.is_empty() || ident.starts_with(|c: char| c.is_ascii_digit()) {
        ident = format!("x_{ident}");
    }
    if is_keyword(&ident) {
        ident.push('_');
    }
    ident
}

/// The multipart media type of an operation's request body.
pub(crate) fn media<'a>(spec: &'a OpenAPI, op: &OperationRef<'a>) -> Result<&'a MediaType, CodegenError> {
    let body = spec::request_body(spec, op)?
        .ok_or_else(|| op_error(op, "multipart operation without a request body"))?;
    body.content
        .get(MULTIPART)
        .ok_or_else(|| op_error(op, format!("the request body has no `{MULTIPART}` content")))
}

/// The fields of the form.
pub(super) fn body_fields(
    spec: &OpenAPI,
    op: &OperationRef<'_>,
    lenient: bool,
) -> Result<Vec<FormField>, CodegenError> {
    let media = media(spec, op)?;
    let object = body_object(spec, op, media, lenient)?;
    let mut idents = std::collections::HashMap::new();
    let mut fields = Vec::with_capacity(object.properties.len());
    for (name, property) in &object.properties {
        let ident = builder_ident(op, name, lenient, &mut idents)?;
        let property = unbox(property);
        let (component, schema) = spec::resolve_schema(spec, &property).ok_or_else(|| {
            op_error(
                op,
                format!("form field `{name}` references a schema that does not exist"),
            )
        })?;
        let (kind, repeated) = kind_and_repeat(spec, op, media, name, component, schema)?;
        fields.push(FormField {
            name: name.clone(),
            ident,
            required: object.required.contains(name),
            description: schema.schema_data.description.clone(),
            kind,
            repeated,
            location: Location::Form,
        });
    }
    Ok(fields)
}

/// The body's schema as one object whose properties are the form's fields, checked against its
/// `required` list and the media type's `encoding`. Lenient, a required name that is no property
/// is dropped rather than refused.
fn body_object(
    spec: &OpenAPI,
    op: &OperationRef<'_>,
    media: &MediaType,
    lenient: bool,
) -> Result<openapiv3::ObjectType, CodegenError> {
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
    let Some(mut object) = form_object(spec, schema, 0) else {
        return Err(op_error(
            op,
            "the multipart body schema must be an object whose properties are the form fields",
        ));
    };
    if lenient {
        let properties = &object.properties;
        object.required.retain(|name| properties.contains_key(name));
    }
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
    // An `encoding` entry for a field that does not exist is a typo the spec's author wants to hear
    // about: its content type would silently not apply.
    for name in media.encoding.keys() {
        if !object.properties.contains_key(name) {
            return Err(op_error(
                op,
                format!("`encoding` names `{name}`, which is not a field of the form"),
            ));
        }
    }
    Ok(object)
}

/// A builder method for `name` (the `what` of the message: "form field", "parameter") that is not
/// one the builder itself has: such a name is refused, or lenient, given `suffix`.
pub(super) fn unreserved_ident(
    op: &OperationRef<'_>,
    name: &str,
    what: &str,
    suffix: &str,
    lenient: bool,
) -> Result<String, CodegenError> {
    let mut ident = field_ident(name);
    if RESERVED_FIELD_NAMES.contains(&ident.as_str()) {
        if !lenient {
            return Err(op_error(
                op,
                format!("{what} `{name}` would clash with the generated builder's own `{ident}`; rename it"),
            ));
        }
        ident.push_str(suffix);
    }
    Ok(ident)
}

/// The builder method of form field `name`, unique among the form's (`idents`: method to field).
fn builder_ident(
    op: &OperationRef<'_>,
    name: &str,
    lenient: bool,
    idents: &mut std::collections::HashMap<String, String>,
) -> Result<String, CodegenError> {
    let ident = unreserved_ident(op, name, "form field", "_field", lenient)?;
    if let Some(other) = idents.insert(ident.clone(), name.to_owned()) {
        return Err(op_error(
            op,
            format!(
                "form fields `{other}` and `{name}` both become the builder method `{ident}`; rename one"
            ),
        ));
    }
    Ok(ident)
}

/// What form field `name` holds, and whether it is sent as several parts of its name.
fn kind_and_repeat(
    spec: &OpenAPI,
    op: &OperationRef<'_>,
    media: &MediaType,
    name: &str,
    component: Option<&str>,
    schema: &Schema,
) -> Result<(FieldKind, Option<Repeat>), CodegenError> {
    let what = format!("form field `{name}`");
    Ok(match &schema.schema_kind {
        // One file or several (`anyOf: [binary, array of binary]`): several parts of the
        // same name, one file being the case of one item.
        SchemaKind::AnyOf { any_of: variants } | SchemaKind::OneOf { one_of: variants }
            if variants.iter().all(|v| binary_or_binaries(spec, v)) =>
        {
            let kind = field_kind(op, name, &what, None, &binary_schema(), media)?;
            (
                kind,
                Some(Repeat {
                    min_items: None,
                    max_items: None,
                    delimiter: None,
                }),
            )
        }
        SchemaKind::Type(Type::Array(array)) => {
            let items = array
                .items
                .as_ref()
                .ok_or_else(|| op_error(op, format!("form field `{name}` is an array without `items`")))?;
            let items = unbox(items);
            let (item_component, item) = spec::resolve_schema(spec, &items).ok_or_else(|| {
                op_error(
                    op,
                    format!("the items of form field `{name}` reference a schema that does not exist"),
                )
            })?;
            if matches!(item.schema_kind, SchemaKind::Type(Type::Array(_))) {
                return Err(op_error(
                    op,
                    format!("form field `{name}` is an array of arrays, which a form cannot express"),
                ));
            }
            let kind = field_kind(op, name, &what, item_component, item, media)?;
            let repeat = Repeat {
                min_items: array.min_items,
                max_items: array.max_items,
                delimiter: None,
            };
            (kind, Some(repeat))
        }
        _ => (field_kind(op, name, &what, component, schema, media)?, None),
    })
}

/// The form's fields as one object: an object schema, properties without `type: object`, or
/// an `allOf` of those (their properties and `required` lists merged, in order).
fn form_object(spec: &OpenAPI, schema: &Schema, depth: usize) -> Option<openapiv3::ObjectType> {
    match &schema.schema_kind {
        SchemaKind::Type(Type::Object(object)) => Some(object.clone()),
        // Properties (or an `allOf`) beside other keywords: openapiv3 reads the schema as `Any`
        // (an `allOf` with a sibling `required` list, as generated specs write forms).
        SchemaKind::Any(any)
            if (!any.properties.is_empty() || !any.all_of.is_empty())
                && any.typ.as_deref().is_none_or(|t| t == "object")
                && depth < 8 =>
        {
            let mut merged = openapiv3::ObjectType {
                properties: any.properties.clone(),
                required: any.required.clone(),
                ..Default::default()
            };
            for part in &any.all_of {
                let (_, part) = spec::resolve_schema(spec, part)?;
                let part = form_object(spec, part, depth + 1)?;
                merged.properties.extend(part.properties);
                merged.required.extend(part.required);
            }
            Some(merged)
        }
        SchemaKind::AllOf { all_of } if depth < 8 => {
            let mut merged = openapiv3::ObjectType::default();
            for part in all_of {
                let (_, part) = spec::resolve_schema(spec, part)?;
                let part = form_object(spec, part, depth + 1)?;
                merged.properties.extend(part.properties);
                merged.required.extend(part.required);
            }
            Some(merged)
        }
        _ => None,
    }
}

/// A binary string schema, or an array of them.
fn binary_or_binaries(spec: &OpenAPI, schema: &ReferenceOr<Schema>) -> bool {
    match spec::resolve_schema(spec, schema) {
        Some((_, s)) if spec::is_binary(s) => true,
        Some((_, s)) => match &s.schema_kind {
            SchemaKind::Type(Type::Array(array)) => array
                .items
                .as_ref()
                .map(unbox)
                .and_then(|items| spec::resolve_schema(spec, &items).map(|(_, s)| spec::is_binary(s)))
                .unwrap_or(false),
            _ => false,
        },
        None => false,
    }
}

fn binary_schema() -> Schema {
    Schema {
        schema_data: Default::default(),
        schema_kind: SchemaKind::Type(Type::String(openapiv3::StringType {
            format: VariantOrUnknownOrEmpty::Item(openapiv3::StringFormat::Binary),
            ..Default::default()
        })),
    }
}

fn unbox(schema: &ReferenceOr<Box<Schema>>) -> ReferenceOr<Schema> {
    match schema {
        ReferenceOr::Item(schema) => ReferenceOr::Item((**schema).clone()),
        ReferenceOr::Reference { reference } => ReferenceOr::Reference {
            reference: reference.clone(),
        },
    }
}

/// `what` names the field in errors ("form field `x`", "parameter `y`"); `name` finds its
/// `encoding`.
pub(super) fn field_kind(
    op: &OperationRef<'_>,
    name: &str,
    what: &str,
    component: Option<&str>,
    schema: &Schema,
    media: &MediaType,
) -> Result<FieldKind, CodegenError> {
    if spec::is_binary(schema) {
        return binary_kind(op, name, what, media);
    }
    match (&schema.schema_kind, component) {
        (
            SchemaKind::Type(Type::String(_) | Type::Integer(_) | Type::Number(_) | Type::Boolean(_)),
            Some(component),
        ) => Ok(FieldKind::Component {
            component: component.to_owned(),
        }),
        (SchemaKind::Type(Type::Integer(int)), None) => integer_kind(op, what, int),
        (SchemaKind::Type(Type::String(s)), None) => string_kind(op, what, s),
        (SchemaKind::Type(Type::Number(n)), None) => number_kind(op, what, n),
        (SchemaKind::Type(Type::Boolean(_)), None) => Ok(FieldKind::Boolean),
        // `anyOf` of strings of which one takes any string (a list of suggestions beside free
        // text, as OpenAI's `model` fields) is any string.
        // So is any `anyOf`/`oneOf` of strings (a free string or an enum, two enums): the text is
        // checked by none of them, since any one may take it.
        (SchemaKind::AnyOf { any_of: variants } | SchemaKind::OneOf { one_of: variants }, None)
            if variants.iter().all(is_string) =>
        {
            Ok(any_text())
        }
        // A component of that shape is its generated type, sent as its text.
        (
            SchemaKind::AnyOf { any_of: variants } | SchemaKind::OneOf { one_of: variants },
            Some(component),
        ) if variants.iter().all(is_string) => Ok(FieldKind::Component {
            component: component.to_owned(),
        }),
        // An untyped field takes any text.
        (SchemaKind::Any(any), None) if any.properties.is_empty() && any.typ.is_none() => Ok(any_text()),
        // Structured values go as a part of JSON text (or the `encoding`'s content type).
        (
            SchemaKind::Type(Type::Object(_))
            | SchemaKind::AllOf { .. }
            | SchemaKind::AnyOf { .. }
            | SchemaKind::OneOf { .. }
            | SchemaKind::Any(_),
            component,
        ) => Ok(FieldKind::Json {
            component: component.map(str::to_owned),
            content_type: media
                .encoding
                .get(name)
                .and_then(|e| e.content_type.clone())
                .unwrap_or_else(|| "application/json".to_owned()),
        }),
        (other, _) => Err(op_error(
            op,
            format!(
                "{what} has type {}; multipart fields must be strings, numbers, integers, booleans, binary strings, scalar components or arrays of those",
                describe_kind(other)
            ),
        )),
    }
}

/// A file part: its content type is the `encoding`'s, one media type.
fn binary_kind(
    op: &OperationRef<'_>,
    name: &str,
    what: &str,
    media: &MediaType,
) -> Result<FieldKind, CodegenError> {
    let content_type = media
        .encoding
        .get(name)
        .and_then(|e| e.content_type.clone())
        .unwrap_or_else(|| "application/octet-stream".to_owned());
    if !content_type.contains('/') || content_type.contains(',') {
        return Err(op_error(
            op,
            format!("{what}: encoding content type `{content_type}` is not one media type"),
        ));
    }
    Ok(FieldKind::Binary { content_type })
}

/// An integer field: its width, and its bounds made inclusive.
fn integer_kind(
    op: &OperationRef<'_>,
    what: &str,
    int: &openapiv3::IntegerType,
) -> Result<FieldKind, CodegenError> {
    let ty = match &int.format {
        VariantOrUnknownOrEmpty::Item(IntegerFormat::Int32) => IntType::I32,
        VariantOrUnknownOrEmpty::Item(IntegerFormat::Int64) | VariantOrUnknownOrEmpty::Empty => IntType::I64,
        VariantOrUnknownOrEmpty::Unknown(format) => {
            return Err(op_error(
                op,
                format!("{what}: integer format `{format}` is not supported; use int32 or int64"),
            ));
        }
    };
    if int.multiple_of.is_some_and(|m| m <= 0) {
        return Err(op_error(op, format!("{what}: `multipleOf` must be positive")));
    }
    let mut allowed = Vec::with_capacity(int.enumeration.len());
    for value in &int.enumeration {
        allowed.push(value.ok_or_else(|| {
            op_error(
                op,
                format!("{what}: `null` in the enum of an integer field cannot be sent"),
            )
        })?);
    }
    let empty = || op_error(op, format!("{what}: the exclusive bound allows no value"));
    let minimum = match int.minimum {
        Some(m) if int.exclusive_minimum => Some(m.checked_add(1).ok_or_else(empty)?),
        other => other,
    };
    let maximum = match int.maximum {
        Some(m) if int.exclusive_maximum => Some(m.checked_sub(1).ok_or_else(empty)?),
        other => other,
    };
    Ok(FieldKind::Integer {
        ty,
        minimum,
        maximum,
        multiple_of: int.multiple_of,
        allowed,
    })
}

/// A string field: a typed value for a format with nothing else to check, else checked text.
fn string_kind(
    op: &OperationRef<'_>,
    what: &str,
    s: &openapiv3::StringType,
) -> Result<FieldKind, CodegenError> {
    if let Some(pattern) = &s.pattern
        && let Err(e) = regress::Regex::new(pattern)
    {
        return Err(op_error(
            op,
            format!("{what}: its pattern `{pattern}` is not a regular expression regress reads: {e}"),
        ));
    }
    let unconstrained =
        s.enumeration.is_empty() && s.min_length.is_none() && s.max_length.is_none() && s.pattern.is_none();
    let format = match &s.format {
        VariantOrUnknownOrEmpty::Item(openapiv3::StringFormat::DateTime) => Some(TextFormat::DateTime),
        VariantOrUnknownOrEmpty::Unknown(f) if f == "uuid" => Some(TextFormat::Uuid),
        _ => None,
    };
    // The format's own type checks the value; with an enum or length bounds as well, the
    // text is checked against those instead.
    if let Some(format) = format.filter(|_| unconstrained) {
        return Ok(FieldKind::Formatted(format));
    }
    let allowed = s.enumeration.iter().flatten().cloned().collect();
    Ok(FieldKind::Text {
        min_length: s.min_length,
        max_length: s.max_length,
        allowed,
        pattern: s.pattern.clone(),
    })
}

/// A number field: only inclusive bounds are checked, so anything else is refused.
fn number_kind(
    op: &OperationRef<'_>,
    what: &str,
    n: &openapiv3::NumberType,
) -> Result<FieldKind, CodegenError> {
    if n.exclusive_minimum || n.exclusive_maximum || n.multiple_of.is_some() || !n.enumeration.is_empty() {
        return Err(op_error(
            op,
            format!(
                "{what}: exclusive bounds, `multipleOf` and `enum` on numbers are not supported; use minimum/maximum"
            ),
        ));
    }
    Ok(FieldKind::Number {
        minimum: n.minimum,
        maximum: n.maximum,
    })
}

/// Any text, unchecked.
fn any_text() -> FieldKind {
    FieldKind::Text {
        min_length: None,
        max_length: None,
        allowed: Vec::new(),
        pattern: None,
    }
}

fn is_string(schema: &ReferenceOr<Schema>) -> bool {
    matches!(schema, ReferenceOr::Item(s) if matches!(s.schema_kind, SchemaKind::Type(Type::String(_))))
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
