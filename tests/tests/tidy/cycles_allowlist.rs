//! The edges that close today's import circles of `client/src`, for
//! `cycles::the_client_modules_import_each_other_without_a_circle` (docs/ARCHITECTURE.md).

/// Edges that close a known circle, each with who removes it. Delete an entry once the circle
/// is gone (the check fails on an entry that no longer closes one).
pub const ALLOWED_EDGES: &[(&str, &str)] = &[
    // (edge, note)
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
