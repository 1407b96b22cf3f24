//! A multipart operation's builder fields: its path, query and header parameters (read here),
//! then its form fields (read by `form`). Parameters are scalars, and arrays of scalars in the
//! styles whose wire form is a list of texts (one pair per item, or the items joined by a
//! delimiter).

use openapiv3::{MediaType, OpenAPI, ReferenceOr, Schema, SchemaKind, Type};

use super::form::{FieldKind, FormField, Location, Repeat, body_fields, field_kind, unreserved_ident};
use crate::error::CodegenError;
use crate::spec::{self, OperationRef, op_error};

/// How an array parameter's items go on the wire ([`Repeat::delimiter`]), or the style that
/// cannot carry them.
type Delimiter = Result<Option<&'static str>, String>;

/// An array parameter's items: their component (when a `$ref`), their schema, and how they go.
type Items<'a> = (Option<&'a str>, &'a Schema, Repeat);

/// Reads the parameters and form fields of a multipart operation (in that order: path, query
/// and header parameters as the spec lists them, then the form's fields), rejecting what
/// cannot be sent. `lenient` (outside strict mode) ignores a `required` name that is no
/// property (it names no part to send), and renames setters that would clash (`body` →
/// `body_field`, a form field named like a parameter → `{name}_field`), instead of refusing.
pub(crate) fn form_fields(
    spec: &OpenAPI,
    op: &OperationRef<'_>,
    lenient: bool,
) -> Result<Vec<FormField>, CodegenError> {
    let mut fields = parameters(spec, op, lenient)?;
    let mut idents: std::collections::HashMap<String, String> =
        fields.iter().map(|f| (f.ident.clone(), f.name.clone())).collect();
    for mut field in body_fields(spec, op, lenient)? {
        // A form field named like a parameter (`id` in the path and in the form): outside
        // strict mode its setter is `{name}_field`, its wire name unchanged.
        if lenient && idents.contains_key(&field.ident) {
            field.ident.push_str("_field");
        }
        if let Some(other) = idents.insert(field.ident.clone(), field.name.clone()) {
            return Err(op_error(
                op,
                format!(
                    "parameter `{other}` and form field `{}` both become the builder method `{}`; rename one",
                    field.name, field.ident
                ),
            ));
        }
        fields.push(field);
    }
    Ok(fields)
}

/// The operation's path, query and header parameters, with the path item's shared ones (an
/// operation's own parameter replaces a shared one of the same name and location).
pub(super) fn parameters(
    spec: &OpenAPI,
    op: &OperationRef<'_>,
    lenient: bool,
) -> Result<Vec<FormField>, CodegenError> {
    let mut fields = Vec::new();
    let mut idents = std::collections::HashMap::new();
    for (data, location, delimiter) in listed(spec, op)? {
        let field = parameter_field(spec, op, lenient, data, location, delimiter)?;
        if let Some(other) = idents.insert(field.ident.clone(), data.name.clone()) {
            return Err(op_error(
                op,
                format!(
                    "parameters `{other}` and `{}` both become the builder method `{}`; rename one",
                    data.name, field.ident
                ),
            ));
        }
        fields.push(field);
    }
    check_template(op, &fields)?;
    Ok(fields)
}

/// The parameters, each with its location and how its items would go.
fn listed<'a>(
    spec: &'a OpenAPI,
    op: &OperationRef<'a>,
) -> Result<Vec<(&'a openapiv3::ParameterData, Location, Delimiter)>, CodegenError> {
    let mut list: Vec<(&openapiv3::ParameterData, Location, Delimiter)> = Vec::new();
    for parameter in op.item_parameters.iter().chain(&op.op.parameters) {
        let parameter = spec::resolve_parameter(spec, parameter)
            .ok_or_else(|| op_error(op, "a parameter references one that does not exist"))?;
        let (data, location, delimiter) = match parameter {
            openapiv3::Parameter::Path {
                parameter_data,
                style,
            } => {
                let delimiter = match style {
                    openapiv3::PathStyle::Simple => Ok(Some(",")),
                    other => Err(format!("the `{other:?}` style")),
                };
                (parameter_data, Location::Path, delimiter)
            }
            openapiv3::Parameter::Query {
                parameter_data,
                style,
                ..
            } => (
                parameter_data,
                Location::Query,
                query_delimiter(parameter_data, style),
            ),
            openapiv3::Parameter::Header { parameter_data, .. } => {
                (parameter_data, Location::Header, Ok(Some(",")))
            }
            openapiv3::Parameter::Cookie { parameter_data, .. } => {
                return Err(op_error(
                    op,
                    format!("cookie parameter `{}` is not supported", parameter_data.name),
                ));
            }
        };
        match list
            .iter_mut()
            .find(|(d, l, _)| d.name == data.name && *l == location)
        {
            Some(slot) => *slot = (data, location, delimiter),
            None => list.push((data, location, delimiter)),
        }
    }
    Ok(list)
}

/// One parameter as a builder field, checked.
fn parameter_field(
    spec: &OpenAPI,
    op: &OperationRef<'_>,
    lenient: bool,
    data: &openapiv3::ParameterData,
    location: Location,
    delimiter: Delimiter,
) -> Result<FormField, CodegenError> {
    let name = &data.name;
    let openapiv3::ParameterSchemaOrContent::Schema(schema) = &data.format else {
        return Err(op_error(
            op,
            format!("parameter `{name}` is described by `content`; give it a `schema`"),
        ));
    };
    let (component, resolved) = spec::resolve_schema(spec, schema).ok_or_else(|| {
        op_error(
            op,
            format!("parameter `{name}` references a schema that does not exist"),
        )
    })?;
    if spec::is_binary(resolved) {
        return Err(op_error(
            op,
            format!(
                "parameter `{name}` is not a scalar; only string, number, integer and boolean parameters are supported"
            ),
        ));
    }
    let (component, resolved, repeated) = match array_items(spec, op, name, resolved, delimiter)? {
        Some((item_component, item, repeat)) => (item_component, item, Some(repeat)),
        None => (component, resolved, None),
    };
    if location == Location::Path && !data.required {
        return Err(op_error(op, format!("path parameter `{name}` must be required")));
    }
    if location == Location::Path && !op.path.contains(&format!("{{{name}}}")) {
        return Err(op_error(
            op,
            format!("path parameter `{name}` does not appear in the path"),
        ));
    }
    if location == Location::Header
        && (name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)))
    {
        return Err(op_error(
            op,
            format!("header parameter `{name}` is not a valid header name"),
        ));
    }
    let ident = unreserved_ident(op, name, "parameter", "_param", lenient)?;
    let kind = scalar_kind(op, &format!("parameter `{name}`"), component, resolved)?;
    Ok(FormField {
        name: name.clone(),
        ident,
        required: data.required,
        description: data
            .description
            .clone()
            .or_else(|| resolved.schema_data.description.clone()),
        kind,
        repeated,
        location,
    })
}

/// Every `{name}` of the template needs a parameter, or it would be sent as written.
fn check_template(op: &OperationRef<'_>, fields: &[FormField]) -> Result<(), CodegenError> {
    let mut rest = op.path;
    while let Some(start) = rest.find('{') {
        let end = rest[start..]
            .find('}')
            .map(|e| start + e)
            .ok_or_else(|| op_error(op, "the path has a `{` without its `}`"))?;
        let name = &rest[start + 1..end];
        if !fields
            .iter()
            .any(|f| f.location == Location::Path && f.name == name)
        {
            return Err(op_error(
                op,
                format!("the path's `{{{name}}}` has no path parameter"),
            ));
        }
        rest = &rest[end + 1..];
    }
    Ok(())
}

/// How a query parameter's array items go on the wire, or why they cannot.
fn query_delimiter(data: &openapiv3::ParameterData, style: &openapiv3::QueryStyle) -> Delimiter {
    match (
        style,
        data.explode
            .unwrap_or(matches!(style, openapiv3::QueryStyle::Form)),
    ) {
        (_, true) if !matches!(style, openapiv3::QueryStyle::DeepObject) => Ok(None),
        (openapiv3::QueryStyle::Form, false) => Ok(Some(",")),
        (openapiv3::QueryStyle::SpaceDelimited, false) => Ok(Some(" ")),
        (openapiv3::QueryStyle::PipeDelimited, false) => Ok(Some("|")),
        (other, _) => Err(format!("the `{other:?}` style")),
    }
}

/// For an array parameter of scalars: its items' schema (and component) and how they are sent;
/// `None` for a scalar parameter.
fn array_items<'a>(
    spec: &'a OpenAPI,
    op: &OperationRef<'_>,
    name: &str,
    schema: &'a Schema,
    delimiter: Delimiter,
) -> Result<Option<Items<'a>>, CodegenError> {
    let SchemaKind::Type(Type::Array(array)) = &schema.schema_kind else {
        return Ok(None);
    };
    let not_scalar = |why: &str| {
        op_error(
            op,
            format!(
                "parameter `{name}` is an array {why}; only arrays of strings, numbers, integers and booleans in the form, spaceDelimited, pipeDelimited (query) or simple (path, header) style are supported"
            ),
        )
    };
    let delimiter = delimiter.map_err(|style| not_scalar(&format!("in {style}")))?;
    let (component, item) = match array.items.as_ref() {
        None => return Err(not_scalar("without `items`")),
        Some(ReferenceOr::Item(item)) => (None, item.as_ref()),
        Some(ReferenceOr::Reference { reference }) => reference
            .strip_prefix("#/components/schemas/")
            .and_then(|name| Some((name, spec.components.as_ref()?.schemas.get(name)?)))
            .and_then(|(name, schema)| spec::resolve_schema(spec, schema).map(|(_, s)| (Some(name), s)))
            .ok_or_else(|| not_scalar("whose items reference a schema that does not exist"))?,
    };
    if spec::is_binary(item)
        || !matches!(
            item.schema_kind,
            SchemaKind::Type(Type::String(_) | Type::Integer(_) | Type::Number(_) | Type::Boolean(_))
        )
    {
        return Err(not_scalar("of items that are not scalars"));
    }
    let repeat = Repeat {
        min_items: array.min_items,
        max_items: array.max_items,
        delimiter,
    };
    Ok(Some((component, item, repeat)))
}

/// The kind of a scalar parameter: what a form field of the same schema would be (a parameter
/// has no `encoding`, and is never binary).
fn scalar_kind(
    op: &OperationRef<'_>,
    what: &str,
    component: Option<&str>,
    schema: &Schema,
) -> Result<FieldKind, CodegenError> {
    match field_kind(op, "", what, component, schema, &MediaType::default())? {
        FieldKind::Json { .. } => Err(op_error(
            op,
            format!(
                "{what} is not a scalar; only string, number, integer and boolean parameters are supported"
            ),
        )),
        kind => Ok(kind),
    }
}
