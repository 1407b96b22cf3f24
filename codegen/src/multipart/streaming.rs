//! File parts that stream (`Settings::file_setters`): beside a binary field's setter that takes
//! anything `Into<reqwest::Body>` (`Bytes` kept in memory, so the builder can `try_clone`), two
//! more: `{field}_file(path)` and `{field}_reader(reader, length, file_name, content_type)`.
//! Both send the part with `Part::stream_with_length`, read as the request goes out, never
//! whole in memory, with a `Content-Length` for the form.
//!
//! What they set beside the body (length, file name, content type) lives in one more builder
//! field per binary field, `{field}_file_part`, holding an error (a file that does not open)
//! until `send` reports it, as the other setters do.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use super::form::{FieldKind, FormField, Location};

/// The builder field holding a streamed part's length, file name and content type, for each
/// field that gets streaming setters: a single binary form part, whose setter names are free.
pub(super) fn meta_idents(fields: &[FormField], enabled: bool) -> Vec<Option<Ident>> {
    let taken: Vec<&str> = fields.iter().map(|f| f.ident.as_str()).collect();
    fields
        .iter()
        .map(|f| {
            let streamable = enabled
                && f.location == Location::Form
                && f.repeated.is_none()
                && matches!(f.kind, FieldKind::Binary { .. });
            let names = [
                format!("{}_file_part", f.ident),
                format!("{}_file", f.ident),
                format!("{}_reader", f.ident),
            ];
            let free = names.iter().all(|n| !taken.contains(&n.as_str()));
            (streamable && free).then(|| format_ident!("{}_file_part", f.ident))
        })
        .collect()
}

/// The builder field's declaration and initial value.
pub(super) fn decl(meta: &Ident) -> (TokenStream, TokenStream) {
    (
        quote! { #meta: Result<(Option<u64>, Option<String>, Option<String>), String> },
        quote! { #meta: Ok((None, None, None)) },
    )
}

/// What the in-memory setter (and `body`) does besides setting the body: forget a streamed
/// part's length, file name and content type.
pub(super) fn reset(meta: &Ident) -> TokenStream {
    quote! { self.#meta = Ok((None, None, None)); }
}

/// `{field}_file` and `{field}_reader`.
pub(super) fn setters(f: &FormField, ident: &Ident, meta: &Ident) -> TokenStream {
    let name = &f.name;
    let file = format_ident!("{}_file", f.ident);
    let reader = format_ident!("{}_reader", f.ident);
    let file_doc = format!(
        "Streams the `{name}` part from the file at `path`, with the file's name and length: the file is opened now and read while the request is sent, never whole in memory.\n\nA file that does not open is reported by `send`. The builder's `try_clone` gives `None` afterwards (a stream is sent once)."
    );
    let reader_doc = format!(
        "Streams the `{name}` part from `reader`, which gives `length` bytes (no more are read; fewer fail the request), with an optional file name and content type (default: the spec's).\n\nThe part is read while the request is sent, never whole in memory."
    );
    let message = format!("`{name}`: cannot open {{}}: {{}}");
    quote! {
        #[doc = #file_doc]
        pub fn #file<P: ::std::convert::AsRef<::std::path::Path>>(mut self, path: P) -> Self {
            let path = path.as_ref();
            let opened = ::std::fs::File::open(path).and_then(|file| Ok((file.metadata()?.len(), file)));
            match opened {
                Ok((length, file)) => {
                    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned());
                    self.#reader(::tokio::fs::File::from_std(file), length, file_name, None)
                }
                Err(e) => {
                    self.#meta = Err(format!(#message, path.display(), e));
                    self
                }
            }
        }

        #[doc = #reader_doc]
        pub fn #reader<R>(
            mut self,
            reader: R,
            length: u64,
            file_name: Option<String>,
            content_type: Option<String>,
        ) -> Self
        where
            R: ::tokio::io::AsyncRead + Send + 'static,
        {
            use ::tokio::io::AsyncReadExt as _;
            let stream = ::tokio_util::io::ReaderStream::new(reader.take(length));
            self.#ident = Some(::reqwest::Body::wrap_stream(stream));
            self.#meta = Ok((Some(length), file_name, content_type));
            self
        }
    }
}

/// `send`'s check of the streamed part's setter: a file that did not open is the error.
pub(super) fn take(meta_local: &Ident) -> TokenStream {
    quote! { let #meta_local = #meta_local.map_err(Error::InvalidRequest)?; }
}

/// Appends the binary part `local` with what its streaming setter recorded.
pub(super) fn append_part(f: &FormField, local: &Ident, meta_local: &Ident) -> TokenStream {
    let name = &f.name;
    let FieldKind::Binary { content_type } = &f.kind else {
        return quote! {};
    };
    let one = quote! {
        let (length, file_name, content_type) = #meta_local;
        // A streamed part and an in-memory one both know their length: the form gets a
        // Content-Length. Only a stream set through the plain setter is sent chunked.
        let part = match length.or_else(|| v.as_bytes().map(|b| b.len() as u64)) {
            Some(len) => ::reqwest::multipart::Part::stream_with_length(v, len),
            None => ::reqwest::multipart::Part::stream(v),
        }
        .mime_str(content_type.as_deref().unwrap_or(#content_type))
        .map_err(|e| Error::InvalidRequest(e.to_string()))?;
        let part = match file_name {
            Some(file_name) => part.file_name(file_name),
            None => part,
        };
        form.part(#name, part)
    };
    if f.required {
        quote! { let form = { let v = #local; #one }; }
    } else {
        quote! {
            let form = match #local {
                Some(v) => { #one }
                None => form,
            };
        }
    }
}
