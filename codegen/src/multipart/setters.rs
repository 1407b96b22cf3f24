//! What a multipart builder offers its user: a setter per field or parameter (taking what
//! converts into the field's type, errors kept until `send`), `body` with the request-body type
//! it takes, and `try_clone`.

use super::form::{FieldKind, FormField, Location};
use proc_macro2::{Ident, TokenStream};
use quote::quote;

/// `also` runs after the value is set (the streaming setters' reset, see `streaming`).
/// What a repeated field's setter docs add: how its items go on the wire.
fn repeat_doc(f: &FormField) -> String {
    let name = &f.name;
    match (f.repeated.map(|r| r.delimiter), f.location) {
        (None, _) => String::new(),
        (Some(_), Location::Form) => format!(
            "\n\nEach item is sent as its own part named `{name}`, in order; setting the field again replaces the items."
        ),
        (Some(None), _) => format!(
            "\n\nEach item is sent as its own `{name}=…` pair of the query, in order; setting the parameter again replaces the items."
        ),
        (Some(Some(delimiter)), _) => format!(
            "\n\nThe items are sent as one value, joined by `{delimiter}`; setting the parameter again replaces them."
        ),
    }
}

pub(super) fn setter(f: &FormField, ident: &Ident, ty: &TokenStream, also: &TokenStream) -> TokenStream {
    let name = &f.name;
    let optional = if f.required { "" } else { " (optional)" };
    let mut doc = match &f.description {
        Some(d) => format!("{}{optional}", d.trim()),
        None => format!("Sets the `{name}` field{optional}."),
    };
    doc.push_str(&repeat_doc(f));
    // How one value becomes the stored type, as `Result<T, String>` for fallible conversions.
    let (bound, convert) = match &f.kind {
        FieldKind::Binary { content_type } => {
            doc.push_str(&format!(
                "\n\nSent as a file part with `Content-Type: {content_type}`. `Bytes` and `Vec<u8>` are moved, not copied, and sent with a `Content-Length`; a streaming body is sent as it is read."
            ));
            (quote! { ::std::convert::Into<::reqwest::Body> }, None)
        }
        FieldKind::Text { .. } => (quote! { ::std::convert::Into<::std::string::String> }, None),
        FieldKind::Number { .. } | FieldKind::Boolean | FieldKind::Json { .. } => {
            (quote! { ::std::convert::Into<#ty> }, None)
        }
        FieldKind::Integer { .. } => {
            let message = format!("conversion to `{ty}` for {name} failed: {{}}");
            (
                quote! { ::std::convert::TryInto<#ty, Error: ::std::fmt::Display> },
                Some(quote! { |v: V| v.try_into().map_err(|e| format!(#message, e)) }),
            )
        }
        FieldKind::Component { .. } | FieldKind::Formatted(_) => {
            let type_name = ty.to_string();
            let type_name = type_name.rsplit("::").next().unwrap_or_default().trim();
            let message = format!("conversion to `{type_name}` for {name} failed: {{}}");
            (
                quote! { IntoFormValue<#ty> },
                Some(quote! { |v: V| v.into_form_value().map_err(|e| format!(#message, e)) }),
            )
        }
    };
    let body = match (f.repeated.is_some(), convert, &f.kind) {
        (false, None, FieldKind::Binary { .. }) => quote! { self.#ident = Some(value.into()); },
        (true, None, FieldKind::Binary { .. }) => {
            quote! { self.#ident = value.into_iter().map(::std::convert::Into::into).collect(); }
        }
        (false, None, _) => quote! { self.#ident = Ok(Some(value.into())); },
        (true, None, _) => {
            quote! { self.#ident = Ok(value.into_iter().map(::std::convert::Into::into).collect()); }
        }
        (false, Some(convert), _) => quote! { self.#ident = (#convert)(value).map(Some); },
        (true, Some(convert), _) => quote! { self.#ident = value.into_iter().map(#convert).collect(); },
    };
    if f.repeated.is_some() {
        quote! {
            #[doc = #doc]
            pub fn #ident<I, V>(mut self, value: I) -> Self
            where
                I: ::std::iter::IntoIterator<Item = V>,
                V: #bound,
            {
                #body
                #also
                self
            }
        }
    } else {
        quote! {
            #[doc = #doc]
            pub fn #ident<V>(mut self, value: V) -> Self
            where
                V: #bound,
            {
                #body
                #also
                self
            }
        }
    }
}

/// A field of the request-body type: the value type (binary parts as `Bytes`), in an `Option`
/// when optional, a `Vec` when repeated.
pub(super) fn form_field(f: &FormField, ident: &Ident, ty: &TokenStream) -> TokenStream {
    let ty = match f.kind {
        FieldKind::Binary { .. } => quote! { ::bytes::Bytes },
        _ => ty.clone(),
    };
    let ty = match (f.repeated.is_some(), f.required) {
        (true, _) => quote! { ::std::vec::Vec<#ty> },
        (false, true) => ty,
        (false, false) => quote! { ::std::option::Option<#ty> },
    };
    let doc = f
        .description
        .as_deref()
        .map_or_else(|| format!("The `{}` part.", f.name), |d| d.trim().to_owned());
    quote! {
        #[doc = #doc]
        pub #ident: #ty
    }
}

/// The builder field set from the request-body type's field of the same name.
pub(super) fn set_from_form(f: &FormField, ident: &Ident) -> TokenStream {
    let binary = matches!(f.kind, FieldKind::Binary { .. });
    match (binary, f.repeated.is_some(), f.required) {
        (true, true, _) => {
            quote! { self.#ident = form.#ident.into_iter().map(::std::convert::Into::into).collect(); }
        }
        (true, false, true) => quote! { self.#ident = Some(form.#ident.into()); },
        (true, false, false) => quote! { self.#ident = form.#ident.map(::std::convert::Into::into); },
        (false, true, _) | (false, false, false) => quote! { self.#ident = Ok(form.#ident); },
        (false, false, true) => quote! { self.#ident = Ok(Some(form.#ident)); },
    }
}

/// `body`: sets every form field from the request-body type. A failed conversion is kept in the
/// builder's `body` field for `send` to report.
pub(super) fn body_method(form_ident: &Ident, form_name: &str, from_form: &[TokenStream]) -> TokenStream {
    let doc = format!(
        "Sets every field from a [`{form_name}`](super::types::{form_name}), replacing what earlier setters set; setters called afterwards change single fields."
    );
    quote! {
        #[doc = #doc]
        pub fn body<V>(mut self, value: V) -> Self
        where
            V: ::std::convert::TryInto<super::types::#form_ident>,
            <V as ::std::convert::TryInto<super::types::#form_ident>>::Error: ::std::fmt::Display,
        {
            match value.try_into() {
                Ok(form) => {
                    self.body = Ok(());
                    #(#from_form)*
                }
                Err(e) => {
                    self.body = Err(format!("conversion to `{}` for body failed: {}", #form_name, e));
                }
            }
            self
        }
    }
}

/// `try_clone` for a builder with binary parts: a copy, or `None` when a part is a stream.
pub(super) fn try_clone_method(fields: &[FormField], idents: &[Ident], extra: &[TokenStream]) -> TokenStream {
    let copies = fields
        .iter()
        .zip(idents)
        .map(|(f, ident)| match (&f.kind, f.repeated.is_some()) {
            (FieldKind::Binary { .. }, false) => quote! {
                #ident: match &self.#ident {
                    Some(body) => Some(copy(body)?),
                    None => None,
                }
            },
            (FieldKind::Binary { .. }, true) => quote! {
                #ident: self.#ident.iter().map(copy).collect::<Option<Vec<_>>>()?
            },
            _ => quote! { #ident: self.#ident.clone() },
        });
    quote! {
        /// A copy of the builder, or `None` when a binary part is a stream (which can be
        /// sent once), like `reqwest::RequestBuilder::try_clone`. In-memory parts are copied.
        pub fn try_clone(&self) -> Option<Self> {
            fn copy(body: &::reqwest::Body) -> Option<::reqwest::Body> {
                body.as_bytes().map(|b| ::reqwest::Body::from(::bytes::Bytes::copy_from_slice(b)))
            }
            Some(Self {
                client: self.client,
                body: self.body.clone(),
                #(#copies,)*
                #(#extra,)*
            })
        }
    }
}
