//! The `ErrorCode` enum, generated from the spec's `x-feishu-error-codes` table.
//!
//! One row of the table becomes one variant with its doc comment; `code()`, `http_status()`,
//! `message()`, `hint()` and `is_retryable()` read the row back. Codes the table does not list
//! convert to `ErrorCode::Unknown` and keep their value, so nothing a server sends is lost.

use openapiv3::OpenAPI;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde::Deserialize;

use crate::error::CodegenError;

/// The extension that holds the error table.
pub const EXTENSION: &str = "x-feishu-error-codes";

/// One row of the error table, as written in the spec.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorRow {
    /// The numeric code in the envelope's `code` field.
    pub code: i64,
    /// The Rust variant name, UpperCamelCase.
    pub name: String,
    /// Where the row comes from (its provenance): `table` (the seed's table, the upload
    /// endpoints' documentation), `related` (the table of a neighbouring official doc page),
    /// `gateway` (the gateway / generic error-code documentation), `sdk` (an official SDK or
    /// CLI) or `third-party` (evidence from outside Feishu only). Older specs call it `source`.
    #[serde(alias = "source")]
    pub provenance: String,
    /// The HTTP status the code arrives with.
    pub http_status: u16,
    /// Whether sending the same request again, later, can succeed.
    pub retryable: bool,
    /// The server's message.
    pub message: String,
    /// What the caller should do, in English.
    pub hint: String,
    /// Where exactly the row was found (a doc page, an SDK file), for rows outside the seed's table.
    #[serde(default)]
    pub evidence: Option<String>,
    /// The fields of the row no official source confirms: `http_status`, `message`.
    #[serde(default)]
    pub unverified: Vec<String>,
    /// What the code tells a client about its budget or its token, if anything: `throttled`
    /// (a rate-limit refusal: every caller of the app slows down), `quota` (the app's daily call
    /// quota is used up: nothing more today) or `token` (the access token was rejected: fetch a
    /// new one and send again, once) or `credentials` (the token endpoint refused the app's
    /// id or secret: asking again cannot help).
    #[serde(default)]
    pub class: Option<String>,
}

/// The values the `provenance` column takes.
pub const PROVENANCES: [&str; 5] = ["table", "related", "gateway", "sdk", "third-party"];

/// The values the `class` column takes.
pub const CLASSES: [&str; 4] = ["throttled", "quota", "token", "credentials"];

/// The fields a row's `unverified` list may name.
pub const VERIFIABLE_FIELDS: [&str; 2] = ["http_status", "message"];

/// Reads and checks the error table; a spec without one has an empty table.
pub fn error_table(spec: &OpenAPI) -> Result<Vec<ErrorRow>, CodegenError> {
    let Some(value) = spec.extensions.get(EXTENSION) else {
        return Ok(Vec::new());
    };
    let rows = value.as_array().ok_or_else(|| CodegenError::ErrorTable {
        index: 0,
        problem: format!("`{EXTENSION}` must be a list of rows"),
    })?;
    let mut out: Vec<ErrorRow> = Vec::with_capacity(rows.len());
    for (index, row) in rows.iter().enumerate() {
        let row: ErrorRow = serde_json::from_value(row.clone()).map_err(|e| CodegenError::ErrorTable {
            index,
            problem: e.to_string(),
        })?;
        check_row(index, &row, &out)?;
        out.push(row);
    }
    Ok(out)
}

/// Checks one row of the table against its rules and against the rows before it.
fn check_row(index: usize, row: &ErrorRow, earlier: &[ErrorRow]) -> Result<(), CodegenError> {
    check_identity(row)
        .and_then(|()| check_text(row))
        .and_then(|()| check_provenance(row))
        .and_then(|()| check_unique(row, earlier))
        .map_err(|problem| CodegenError::ErrorTable { index, problem })
}

/// The code is a failure code and the name can be an enum variant.
fn check_identity(row: &ErrorRow) -> Result<(), String> {
    if row.code <= 0 {
        return Err(format!("code {} must be positive (0 means success)", row.code));
    }
    let mut chars = row.name.chars();
    let camel =
        chars.next().is_some_and(|c| c.is_ascii_uppercase()) && chars.all(|c| c.is_ascii_alphanumeric());
    if !camel || row.name == "Unknown" {
        return Err(format!(
            "name `{}` must be an UpperCamelCase identifier other than `Unknown`",
            row.name
        ));
    }
    if syn::parse_str::<syn::Ident>(&row.name).is_err() {
        return Err(format!(
            "name `{}` is a Rust keyword, so it cannot name a variant",
            row.name
        ));
    }
    Ok(())
}

/// The status is an HTTP status and the row says something to its reader.
fn check_text(row: &ErrorRow) -> Result<(), String> {
    if !(100..=599).contains(&row.http_status) {
        return Err(format!("http_status {} is not an HTTP status", row.http_status));
    }
    if row.message.trim().is_empty() || row.hint.trim().is_empty() {
        return Err(format!("code {}: message and hint must not be empty", row.code));
    }
    Ok(())
}

/// Provenance, class and `unverified` take only their known values, and a row of the seed's own
/// table has nothing unverified.
fn check_provenance(row: &ErrorRow) -> Result<(), String> {
    if !PROVENANCES.contains(&row.provenance.as_str()) {
        return Err(format!(
            "provenance `{}` must be one of {}",
            row.provenance,
            PROVENANCES.join(", ")
        ));
    }
    if let Some(class) = &row.class
        && !CLASSES.contains(&class.as_str())
    {
        return Err(format!(
            "code {}: class `{class}` must be one of {}",
            row.code,
            CLASSES.join(", ")
        ));
    }
    for (i, field) in row.unverified.iter().enumerate() {
        if !VERIFIABLE_FIELDS.contains(&field.as_str()) {
            return Err(format!(
                "code {}: `unverified` may name only {}, not `{field}`",
                row.code,
                VERIFIABLE_FIELDS.join(", ")
            ));
        }
        if row.unverified[..i].contains(field) {
            return Err(format!("code {}: `unverified` names `{field}` twice", row.code));
        }
    }
    if row.provenance == "table" && !row.unverified.is_empty() {
        return Err(format!(
            "code {}: a row of the seed's table is verified by it; `unverified` must be empty",
            row.code
        ));
    }
    Ok(())
}

/// No earlier row has the same code or name.
fn check_unique(row: &ErrorRow, earlier: &[ErrorRow]) -> Result<(), String> {
    if let Some(other) = earlier.iter().position(|r| r.code == row.code) {
        return Err(format!("code {} is already listed in row {other}", row.code));
    }
    if let Some(other) = earlier.iter().position(|r| r.name == row.name) {
        return Err(format!("name `{}` is already used by row {other}", row.name));
    }
    Ok(())
}

/// The doc comment's last sentence: where the row comes from and what no official source confirms.
fn provenance_note(row: &ErrorRow) -> String {
    let mut note = match row.provenance.as_str() {
        "gateway" => "; returned by the API gateway".to_owned(),
        "related" => "; documented for a neighbouring endpoint".to_owned(),
        "sdk" => "; handled by an official SDK or CLI".to_owned(),
        "third-party" => "; known from third-party evidence only".to_owned(),
        _ => String::new(),
    };
    if let Some(evidence) = &row.evidence {
        note.push_str(&format!(" ({evidence})"));
    }
    if !row.unverified.is_empty() {
        let fields: Vec<&str> = row
            .unverified
            .iter()
            .map(|f| {
                if f == "http_status" {
                    "HTTP status"
                } else {
                    "message"
                }
            })
            .collect();
        note.push_str(&format!(
            ".\n\nUnverified: no official source confirms the {}.",
            fields.join(" or the ")
        ));
    }
    note
}

/// Generates the `ErrorCode` enum and its lookups.
// Why this function is long: one `quote!` template of the generated file, which reads top to
// bottom as `generated/error_codes.rs` does; cutting it would scatter the file's shape.
pub(crate) fn generate(rows: &[ErrorRow]) -> TokenStream {
    let idents: Vec<_> = rows.iter().map(|r| format_ident!("{}", r.name)).collect();
    let codes: Vec<_> = rows.iter().map(|r| r.code).collect();
    let statuses: Vec<_> = rows.iter().map(|r| r.http_status).collect();
    let messages: Vec<_> = rows.iter().map(|r| r.message.as_str()).collect();
    let hints: Vec<_> = rows.iter().map(|r| r.hint.as_str()).collect();
    let retryable: Vec<_> = rows.iter().map(|r| r.retryable).collect();
    // `matches!` needs at least one pattern: a class no row has is simply `false`.
    let of_class = |class: &str| -> TokenStream {
        let names: Vec<_> = rows
            .iter()
            .filter(|r| r.class.as_deref() == Some(class))
            .map(|r| format_ident!("{}", r.name))
            .collect();
        if names.is_empty() {
            quote! { false }
        } else {
            quote! { matches!(self, #(ErrorCode::#names)|*) }
        }
    };
    let throttled = of_class("throttled");
    let quota = of_class("quota");
    let token = of_class("token");
    let credentials = of_class("credentials");
    let docs = rows.iter().map(|r| {
        format!(
            "`{}` — {}\n\n{}\n\nHTTP {}; {}{}",
            r.code,
            r.message,
            r.hint,
            r.http_status,
            if r.retryable {
                "retrying later can succeed"
            } else {
                "retrying the same request cannot succeed"
            },
            provenance_note(r),
        )
    });

    quote! {
        /// An error code of the Feishu drive media API: one variant per row of
        /// `x-feishu-error-codes` in the spec.
        ///
        /// Converting from an integer is lossless: a code the spec does not list becomes
        /// [`ErrorCode::Unknown`] and keeps its value.
        ///
        /// ```ignore
        /// let code = ErrorCode::from(1061045);
        /// assert!(code.is_retryable());
        /// assert_eq!(i64::from(ErrorCode::from(42)), 42);
        /// ```
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorCode {
            #(
                #[doc = #docs]
                #idents,
            )*
            /// A code the spec does not list, kept as received.
            Unknown(UnknownCode),
        }

        /// A code that is not in the spec's error table.
        ///
        /// Only [`ErrorCode::from`] makes one, so a listed code is never hidden in here.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct UnknownCode(i64);

        impl UnknownCode {
            /// The code as received.
            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl ErrorCode {
            /// Every code the spec lists, in the spec's order. A slice, so that its type stays the
            /// same when the spec gains a code.
            pub const ALL: &'static [ErrorCode] = &[#(ErrorCode::#idents),*];

            /// The variant for `code`; codes the spec does not list become [`ErrorCode::Unknown`].
            pub const fn from_code(code: i64) -> Self {
                match code {
                    #(#codes => ErrorCode::#idents,)*
                    other => ErrorCode::Unknown(UnknownCode(other)),
                }
            }

            /// The numeric code, as in the envelope's `code` field.
            pub const fn code(self) -> i64 {
                match self {
                    #(ErrorCode::#idents => #codes,)*
                    ErrorCode::Unknown(code) => code.0,
                }
            }

            /// The HTTP status the spec documents for this code; `None` for unknown codes.
            pub const fn http_status(self) -> Option<u16> {
                match self {
                    #(ErrorCode::#idents => Some(#statuses),)*
                    ErrorCode::Unknown(_) => None,
                }
            }

            /// The server's message for this code; `None` for unknown codes.
            pub const fn message(self) -> Option<&'static str> {
                match self {
                    #(ErrorCode::#idents => Some(#messages),)*
                    ErrorCode::Unknown(_) => None,
                }
            }

            /// What to do about this code; `None` for unknown codes.
            pub const fn hint(self) -> Option<&'static str> {
                match self {
                    #(ErrorCode::#idents => Some(#hints),)*
                    ErrorCode::Unknown(_) => None,
                }
            }

            /// Whether sending the same request again, later, can succeed. Unknown codes are
            /// not retryable: retrying what nobody documented could repeat a permanent failure.
            pub const fn is_retryable(self) -> bool {
                match self {
                    #(ErrorCode::#idents => #retryable,)*
                    ErrorCode::Unknown(_) => false,
                }
            }

            /// Whether the spec lists this code.
            pub const fn is_known(self) -> bool {
                !matches!(self, ErrorCode::Unknown(_))
            }

            /// A rate-limit refusal (the table's `class: throttled`): every caller of the app
            /// should slow down, whatever the HTTP status.
            pub const fn is_throttled(self) -> bool {
                #throttled
            }

            /// The app's daily call quota is used up (the table's `class: quota`).
            pub const fn is_quota_exhausted(self) -> bool {
                #quota
            }

            /// The access token was rejected (the table's `class: token`): a new token may
            /// succeed where retrying the same one cannot.
            pub const fn is_token_rejected(self) -> bool {
                #token
            }

            /// The token endpoint refused the app's credentials (the table's `class:
            /// credentials`): asking again with the same id and secret cannot help.
            pub const fn is_credentials_refused(self) -> bool {
                #credentials
            }
        }

        impl ::std::convert::From<i64> for ErrorCode {
            fn from(code: i64) -> Self {
                ErrorCode::from_code(code)
            }
        }

        impl ::std::convert::From<ErrorCode> for i64 {
            fn from(code: ErrorCode) -> Self {
                code.code()
            }
        }

        impl ::std::fmt::Display for ErrorCode {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                match self.message() {
                    Some(message) => write!(f, "{} ({})", self.code(), message.trim_end_matches('.')),
                    None => write!(f, "{} (unknown code)", self.code()),
                }
            }
        }

        impl ::serde::Serialize for ErrorCode {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_i64(self.code())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for ErrorCode {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                i64::deserialize(deserializer).map(ErrorCode::from_code)
            }
        }
    }
}
