//! The edges that close today's import circles of `client/src`, for
//! `cycles::the_client_modules_import_each_other_without_a_circle` (docs/ARCHITECTURE.md).

/// Edges that close a known circle, each with who removes it. Delete an entry once the circle
/// is gone (the check fails on an entry that no longer closes one).
pub const ALLOWED_EDGES: &[(&str, &str)] = &[
    // (edge, note)
    (
        "error.rs -> auth.rs",
        "lead: auth <-> error (issue 15): ApiError::Auth holds an AuthError, AuthError::from_api reads an ApiError",
    ),
    (
        "context.rs -> auth.rs",
        "lead: auth <-> context and auth -> api -> context (issue 15): the context holds the TokenSource, \
         AppCredentials holds a Client (and the context's http builder) for the token endpoint",
    ),
    (
        "error.rs -> client.rs",
        "lead: the root Error (BuildError, UploadError, DownloadError) lives in error.rs beside ApiError, \
         which they all use; a module of its own for Error removes this edge and the next two",
    ),
    ("error.rs -> upload/error.rs", "lead: the root Error, as above"),
    (
        "error.rs -> download/request.rs",
        "lead: the root Error, as above",
    ),
    (
        "generated/api.rs -> context.rs",
        "lead/codegen: api <-> context (issue 15): the generated Client holds ClientContext, which holds the \
         Budget, whose classification reads ApiError, which reads the envelope types generated in api.rs",
    ),
    (
        "error.rs -> budget/mod.rs",
        "lead: ApiError::QuotaExceeded holds budget::QuotaExceeded, and the budget classifies ApiErrors",
    ),
    (
        "verdict.rs -> hooks.rs",
        "lead: the verdict reads hooks::PHASE_SENDING while the hooks take a budget permit, which reports verdicts",
    ),
    (
        "retry.rs -> auth.rs",
        "lead: the retry loop refreshes the TokenSource while AppCredentials keeps a RetryPolicy (retry.rs)",
    ),
    (
        "budget/in_process.rs -> budget/mod.rs",
        "lead: parent <-> child: mod.rs holds Group and BudgetConfig, which in_process.rs uses, and uses InProcess",
    ),
    (
        "upload/flow.rs -> upload/mod.rs",
        "lead: parent <-> child: flow.rs uses Uploader (upload/mod.rs), which runs flow::Upload",
    ),
    (
        "upload/journal.rs -> upload/family.rs",
        "lead (new with the files family): the journal records the family, which reads journal types",
    ),
    (
        "upload/workers.rs -> upload/flow.rs",
        "lead: flow <-> workers (issue 15): the workers are methods of flow::Upload and take its caller",
    ),
];
