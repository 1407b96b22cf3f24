//! What `send()` does with each value: presence and the spec's bounds checked, then the value
//! put on the wire — a form part (text or bytes with its content type), or a path, query or
//! header parameter.

use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::form::{FieldKind, FormField, Location};

/// Turns the stored value into the value to send, checking presence and the spec's bounds.
pub(super) fn take_value(f: &FormField, ident: &Ident) -> TokenStream {
    let name = &f.name;
    let missing = format!("`{name}` is required but was not set");
    let binary = matches!(f.kind, FieldKind::Binary { .. });
    let unwrap = match (binary, f.repeated.is_some(), f.required) {
        (true, false, true) => quote! {
            let #ident = #ident.ok_or_else(|| Error::InvalidRequest(#missing.to_string()))?;
        },
        (true, _, _) => quote! {},
        (false, false, true) => quote! {
            let #ident = #ident
                .map_err(Error::InvalidRequest)?
                .ok_or_else(|| Error::InvalidRequest(#missing.to_string()))?;
        },
        (false, _, _) => quote! {
            let #ident = #ident.map_err(Error::InvalidRequest)?;
        },
    };
    let count = f.repeated.map(|repeat| {
        let min = match (repeat.min_items, f.required) {
            (Some(min), required) => {
                let msg = format!("`{name}` needs at least {min} items, got {{}}");
                // An optional array left empty is not sent at all; the bound applies to a sent one.
                let sent = (!required).then(|| quote! { !#ident.is_empty() && });
                Some(quote! {
                    if #sent #ident.len() < #min {
                        return Err(Error::InvalidRequest(format!(#msg, #ident.len())));
                    }
                })
            }
            (None, true) => Some(quote! {
                if #ident.is_empty() {
                    return Err(Error::InvalidRequest(#missing.to_string()));
                }
            }),
            (None, false) => None,
        };
        let max = repeat.max_items.map(|max| {
            let msg = format!("`{name}` takes at most {max} items, got {{}}");
            quote! {
                if #ident.len() > #max {
                    return Err(Error::InvalidRequest(format!(#msg, #ident.len())));
                }
            }
        });
        quote! { #min #max }
    });
    let checks = bound_checks(f);
    let checked = if checks.is_empty() {
        quote! {}
    } else if f.repeated.is_some() {
        quote! {
            for value in &#ident {
                #checks
            }
        }
    } else if f.required {
        quote! {
            {
                let value = &#ident;
                #checks
            }
        }
    } else {
        quote! {
            if let Some(value) = &#ident {
                #checks
            }
        }
    };
    quote! {
        #unwrap
        #count
        #checked
    }
}

/// The checks `send` makes of a value against the spec's bounds, `enum` and `pattern`, before
/// anything is sent; each failure is an `InvalidRequest` naming the field.
fn bound_checks(f: &FormField) -> TokenStream {
    let name = f.name.as_str();
    match &f.kind {
        FieldKind::Integer {
            minimum,
            maximum,
            multiple_of,
            allowed,
            ..
        } => integer_checks(name, *minimum, *maximum, *multiple_of, allowed),
        FieldKind::Number { minimum, maximum } => number_checks(name, *minimum, *maximum),
        FieldKind::Text {
            min_length,
            max_length,
            allowed,
            pattern,
        } => text_checks(name, *min_length, *max_length, allowed, pattern.as_deref()),
        _ => quote! {},
    }
}

fn integer_checks(
    name: &str,
    minimum: Option<i64>,
    maximum: Option<i64>,
    multiple_of: Option<i64>,
    allowed: &[i64],
) -> TokenStream {
    let min = minimum.map(|min| {
        let msg = format!("`{name}` must be at least {min}, got {{}}");
        quote! { if i64::from(*value) < #min { return Err(Error::InvalidRequest(format!(#msg, value))); } }
    });
    let max = maximum.map(|max| {
        let msg = format!("`{name}` must be at most {max}, got {{}}");
        quote! { if i64::from(*value) > #max { return Err(Error::InvalidRequest(format!(#msg, value))); } }
    });
    let multiple = multiple_of.map(|m| {
        let msg = format!("`{name}` must be a multiple of {m}, got {{}}");
        quote! { if i64::from(*value) % #m != 0 { return Err(Error::InvalidRequest(format!(#msg, value))); } }
    });
    let one_of = (!allowed.is_empty()).then(|| {
        let list = allowed.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
        let msg = format!("`{name}` must be one of {list}, got {{}}");
        quote! {
            if ![#(#allowed),*].contains(&i64::from(*value)) {
                return Err(Error::InvalidRequest(format!(#msg, value)));
            }
        }
    });
    quote! { #min #max #multiple #one_of }
}

/// A number must be finite as well as within its bounds.
fn number_checks(name: &str, minimum: Option<f64>, maximum: Option<f64>) -> TokenStream {
    let min = minimum.map(|min| {
        let msg = format!("`{name}` must be at least {min}, got {{}}");
        quote! { if *value < #min { return Err(Error::InvalidRequest(format!(#msg, value))); } }
    });
    let max = maximum.map(|max| {
        let msg = format!("`{name}` must be at most {max}, got {{}}");
        quote! { if *value > #max { return Err(Error::InvalidRequest(format!(#msg, value))); } }
    });
    let finite = {
        let msg = format!("`{name}` must be a finite number, got {{}}");
        quote! { if !value.is_finite() { return Err(Error::InvalidRequest(format!(#msg, value))); } }
    };
    quote! { #finite #min #max }
}

/// Lengths are counted in characters, as JSON Schema counts them.
fn text_checks(
    name: &str,
    min_length: Option<usize>,
    max_length: Option<usize>,
    allowed: &[String],
    pattern: Option<&str>,
) -> TokenStream {
    let one_of = (!allowed.is_empty()).then(|| {
        let list = allowed.join(", ");
        let msg = format!("`{name}` must be one of {list}, got {{:?}}");
        quote! {
            if ![#(#allowed),*].contains(&value.as_str()) {
                return Err(Error::InvalidRequest(format!(#msg, value)));
            }
        }
    });
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
    let pattern = pattern.as_ref().map(|pattern| {
        // The messages are format strings: the pattern's braces (`{4,32}`) are text.
        let (name, shown) = (brace_escape(name), brace_escape(pattern));
        let msg = format!("`{name}` must match the pattern `{shown}`, got {{:?}}");
        let bad = format!("`{name}`: the spec's pattern `{shown}` does not compile: {{}}");
        quote! {
            let regex = ::regress::Regex::new(#pattern)
                .map_err(|e| Error::InvalidRequest(format!(#bad, e)))?;
            if regex.find(value).is_none() {
                return Err(Error::InvalidRequest(format!(#msg, value)));
            }
        }
    });
    quote! { #min #max #one_of #pattern }
}

/// A scalar value `v` as the text that goes on the wire: statements, then the `String`
/// expression.
fn text_of(f: &FormField) -> (TokenStream, TokenStream) {
    let name = &f.name;
    match &f.kind {
        FieldKind::Integer { .. } | FieldKind::Number { .. } | FieldKind::Boolean => {
            (quote! {}, quote! { v.to_string() })
        }
        FieldKind::Component { .. } | FieldKind::Formatted(_) => {
            let message = format!("`{name}` cannot be sent as text: {{}}");
            (
                quote! {
                    // The value's JSON form without quotes: an enum's value, a UUID, an RFC 3339
                    // date-time, a number.
                    let text = match ::serde_json::to_value(&v) {
                        Ok(::serde_json::Value::String(text)) => text,
                        Ok(value @ (::serde_json::Value::Number(_) | ::serde_json::Value::Bool(_))) => value.to_string(),
                        Ok(other) => return Err(Error::InvalidRequest(format!(#message, other))),
                        Err(e) => return Err(Error::InvalidRequest(format!(#message, e))),
                    };
                },
                quote! { text },
            )
        }
        FieldKind::Json { .. } => {
            let message = format!("`{name}` cannot be sent as JSON: {{}}");
            (
                quote! {
                    let text = ::serde_json::to_string(&v)
                        .map_err(|e| Error::InvalidRequest(format!(#message, e)))?;
                },
                quote! { text },
            )
        }
        FieldKind::Text { .. } | FieldKind::Binary { .. } => (quote! {}, quote! { v }),
    }
}

/// Puts a parameter's value where it goes: into the path template (percent-encoded), the query
/// string or the headers. Absent optional parameters are left out.
pub(super) fn send_parameter(f: &FormField, ident: &Ident) -> TokenStream {
    let name = &f.name;
    let (stmts, text) = text_of(f);
    let put = match f.location {
        Location::Path => {
            let placeholder = format!("{{{name}}}");
            quote! { path = path.replace(#placeholder, &::progenitor_client::encode_path(&text)); }
        }
        Location::Query => quote! { query.push((#name, text)); },
        Location::Header => {
            let header = name.to_ascii_lowercase();
            let message = format!("`{name}` cannot be sent as a header: {{}}");
            quote! {
                header_map.append(
                    ::reqwest::header::HeaderName::from_static(#header),
                    ::reqwest::header::HeaderValue::try_from(text)
                        .map_err(|e| Error::InvalidRequest(format!(#message, e)))?,
                );
            }
        }
        Location::Form => quote! {},
    };
    let one = quote! {
        #stmts
        let text: ::std::string::String = #text;
        #put
    };
    match f.repeated.map(|r| r.delimiter) {
        // An empty array is not sent (its count was checked when it is required).
        Some(None) => return quote! { for v in #ident { #one } },
        Some(Some(delimiter)) => {
            return quote! {
                if !#ident.is_empty() {
                    let mut items: ::std::vec::Vec<::std::string::String> = ::std::vec::Vec::new();
                    for v in #ident {
                        #stmts
                        items.push(#text);
                    }
                    let text = items.join(#delimiter);
                    #put
                }
            };
        }
        None => {}
    }
    if f.required {
        quote! { { let v = #ident; #one } }
    } else {
        quote! { if let Some(v) = #ident { #one } }
    }
}

pub(super) fn append_part(f: &FormField, ident: &Ident) -> TokenStream {
    let name = &f.name;
    // Appends one value `v` to `form`: statements, then the expression giving the new form.
    let (stmts, expr) = match &f.kind {
        FieldKind::Binary { content_type } => (
            quote! {
                // In-memory bodies know their length, so the form gets a Content-Length;
                // streams are sent with chunked encoding.
                let part = match v.as_bytes().map(|b| b.len() as u64) {
                    Some(len) => ::reqwest::multipart::Part::stream_with_length(v, len),
                    None => ::reqwest::multipart::Part::stream(v),
                }
                .mime_str(#content_type)
                .map_err(|e| Error::InvalidRequest(e.to_string()))?;
            },
            quote! { form.part(#name, part) },
        ),
        FieldKind::Json { content_type, .. } => {
            let (stmts, text) = text_of(f);
            (
                quote! {
                    #stmts
                    let part = ::reqwest::multipart::Part::text(#text)
                        .mime_str(#content_type)
                        .map_err(|e| Error::InvalidRequest(e.to_string()))?;
                },
                quote! { form.part(#name, part) },
            )
        }
        _ => {
            let (stmts, text) = text_of(f);
            (stmts, quote! { form.text(#name, #text) })
        }
    };
    match (f.repeated.is_some(), f.required) {
        (true, _) => quote! {
            let mut form = form;
            for v in #ident {
                #stmts
                form = #expr;
            }
        },
        (false, true) => quote! { let form = { let v = #ident; #stmts #expr }; },
        (false, false) => quote! {
            let form = match #ident {
                Some(v) => { #stmts #expr }
                None => form,
            };
        },
    }
}

/// `text` as literal text inside a format string.
fn brace_escape(text: &str) -> String {
    text.replace('{', "{{").replace('}', "}}")
}
