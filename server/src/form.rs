//! Reading request bodies: multipart forms with the file part streamed to disk, JSON capped,
//! and draining what an early answer leaves unread.

use std::collections::HashMap;
use std::io;

use axum::body::Body;
use axum::http::{HeaderMap, header};
use futures::StreamExt;
use tempfile::NamedTempFile;
use tokio::io::AsyncWriteExt;

use crate::storage::Storage;

/// The name of the multipart field holding the bytes.
pub(crate) const FILE_FIELD: &str = "file";
/// The most a text field (or a JSON body) may hold; real values are far shorter.
pub(crate) const TEXT_LIMIT: u64 = 64 * 1024;
/// What a multipart body may hold beyond its file: boundaries, headers and the text fields.
pub(crate) const FORM_OVERHEAD: u64 = 256 * 1024;

/// A file part, received into a temporary file.
#[derive(Debug)]
pub(crate) struct Received {
    /// Deleted when dropped, unless persisted into place.
    pub(crate) tmp: NamedTempFile,
    pub(crate) len: u64,
    pub(crate) adler32: u32,
}

/// A parsed multipart form: the text fields, and the file part if there was one.
#[derive(Debug, Default)]
pub(crate) struct Form {
    pub(crate) fields: Fields,
    pub(crate) file: Option<Received>,
}

/// The text fields of a form.
#[derive(Debug, Default)]
pub(crate) struct Fields(HashMap<String, String>);

impl Fields {
    /// A text field; `None` when absent.
    pub(crate) fn text(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum FormError {
    /// The body or its file part is larger than the endpoint takes.
    #[error("the request body is larger than {0} bytes")]
    TooLarge(u64),
    /// Not a multipart form, or a broken one.
    #[error("malformed multipart body: {0}")]
    Malformed(String),
    /// The file part could not be written to disk.
    #[error("storing the file part: {0}")]
    Io(#[from] io::Error),
}

impl FormError {
    /// Whether the body was left unread, so the connection must close after the answer.
    pub(crate) fn leaves_body_unread(&self) -> bool {
        !matches!(self, FormError::Malformed(_))
    }
}

fn classify(error: multer::Error, cap: u64) -> FormError {
    match error {
        multer::Error::StreamSizeExceeded { .. } => FormError::TooLarge(cap),
        multer::Error::FieldSizeExceeded { field_name, .. } if field_name.as_deref() == Some(FILE_FIELD) => {
            FormError::TooLarge(cap)
        }
        other => FormError::Malformed(other.to_string()),
    }
}

/// Reads a `multipart/form-data` body of at most `cap` bytes, in any field order (the official
/// SDKs differ), streaming the `file` part to a temporary file while its Adler-32 is computed.
/// The file part may come with or without a filename and a Content-Type.
pub(crate) async fn read_form(
    storage: &Storage,
    headers: &HeaderMap,
    body: Body,
    cap: u64,
) -> Result<Form, FormError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| FormError::Malformed("no multipart/form-data Content-Type".to_owned()))?;
    let boundary = multer::parse_boundary(content_type).map_err(|e| FormError::Malformed(e.to_string()))?;
    let limits = multer::SizeLimit::new()
        .whole_stream(cap)
        .per_field(TEXT_LIMIT)
        .for_field(FILE_FIELD, cap);
    let mut multipart = multer::Multipart::with_constraints(
        body.into_data_stream(),
        boundary,
        multer::Constraints::new().size_limit(limits),
    );
    let mut form = Form::default();
    while let Some(mut field) = multipart.next_field().await.map_err(|e| classify(e, cap))? {
        let Some(name) = field.name().map(str::to_owned) else {
            continue;
        };
        if name == FILE_FIELD {
            if form.file.is_some() {
                return Err(FormError::Malformed("more than one `file` part".to_owned()));
            }
            let tmp = storage.temp_file()?;
            let mut out =
                tokio::io::BufWriter::with_capacity(1 << 20, tokio::fs::File::from_std(tmp.reopen()?));
            let mut adler = simd_adler32::Adler32::new();
            let mut len = 0u64;
            while let Some(chunk) = field.chunk().await.map_err(|e| classify(e, cap))? {
                adler.write(&chunk);
                out.write_all(&chunk).await?;
                len += chunk.len() as u64;
            }
            out.flush().await?;
            form.file = Some(Received {
                tmp,
                len,
                adler32: adler.finish(),
            });
        } else {
            let value = field.text().await.map_err(|e| classify(e, cap))?;
            if form.fields.0.insert(name.clone(), value).is_some() {
                return Err(FormError::Malformed(format!("more than one `{name}` field")));
            }
        }
    }
    Ok(form)
}

/// Reads a JSON object of at most [`TEXT_LIMIT`] bytes. The Content-Type is not checked: the
/// official Python SDK sends its token request without one.
pub(crate) async fn read_json(body: Body) -> Result<serde_json::Map<String, serde_json::Value>, String> {
    let bytes = axum::body::to_bytes(body, TEXT_LIMIT as usize)
        .await
        .map_err(|e| format!("reading the body: {e}"))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("the body is not a JSON object: {e}"))
}

/// Reads and discards up to `cap` bytes of a body an answer does not need, so that a client still
/// sending it reads the answer instead of a reset connection. Returns whether the body ended
/// (otherwise the connection must close).
pub(crate) async fn drain(body: Body, cap: u64) -> bool {
    let mut stream = body.into_data_stream();
    let mut seen = 0u64;
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(chunk) => {
                seen += chunk.len() as u64;
                if seen > cap {
                    return false;
                }
            }
            Err(_) => return false,
        }
    }
    true
}
