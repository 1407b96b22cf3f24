//! What can go wrong between a spec and generated code.

/// A spec the code generator cannot turn into a client, and why.
///
/// Every variant names the place in the spec (operation and path, or the error-table row) so the
/// message alone tells the author what to fix.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CodegenError {
    /// The text is not a YAML/JSON OpenAPI document.
    #[error("the spec is not a valid OpenAPI 3.0 document: {0}")]
    Parse(String),

    /// The document declares an OpenAPI version progenitor cannot read.
    #[error(
        "unsupported OpenAPI version {found:?}: write an OpenAPI 3.0.x document (progenitor does not read 3.1)"
    )]
    Version {
        /// The `openapi` field as written.
        found: String,
    },

    /// An operation the generator cannot express.
    #[error("operation `{operation}` ({method} {path}): {problem}")]
    Operation {
        /// The operation's `operationId`, or `<none>`.
        operation: String,
        /// The HTTP method, upper case.
        method: String,
        /// The path template.
        path: String,
        /// What is wrong and, where it helps, what to write instead.
        problem: String,
    },

    /// A path item the generator cannot express.
    #[error("path `{path}`: {problem}")]
    Path {
        /// The path template.
        path: String,
        /// What is wrong.
        problem: String,
    },

    /// A malformed row of `x-feishu-error-codes`.
    #[error("x-feishu-error-codes, row {index}: {problem}")]
    ErrorTable {
        /// The row's position, from 0.
        index: usize,
        /// What is wrong.
        problem: String,
    },

    /// A component schema the generator cannot express.
    #[error("schema `{name}`: {problem}")]
    Schema {
        /// The schema's name under `components.schemas`.
        name: String,
        /// What is wrong.
        problem: String,
    },

    /// progenitor refused the document (the message is progenitor's own).
    #[error("progenitor rejected the spec: {0}")]
    Progenitor(String),

    /// The generated tokens did not parse as Rust: a bug in the generator, not in the spec.
    #[error("internal error: generated code does not parse ({0}); please report this")]
    Internal(String),
}
