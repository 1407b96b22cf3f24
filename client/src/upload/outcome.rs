//! What an upload reports when it is done.

/// How an upload went.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UploadOutcome {
    /// The media's (or Drive file's) token.
    pub file_token: String,
    /// Which endpoints it went through: a media of a doc, sheet or base, or a Drive file.
    pub family: super::Family,
    /// The Drive file's version this upload made (files family).
    pub version: Option<String>,
    /// The Drive file's address (files family).
    pub url: Option<String>,
    /// The file's size.
    pub size: u64,
    /// `upload_all` (one request) or the chunked flow.
    pub chunked: bool,
    /// Blocks sent in this run (re-sent ones counted again).
    pub blocks_sent: u64,
    /// Blocks skipped because a journal showed the server had them (and their bytes were
    /// re-read and still matched).
    pub blocks_resumed: u64,
    /// Confirmed blocks of a journal that were re-read and checked before finishing.
    pub blocks_verified: u64,
    /// Confirmed blocks whose bytes had changed since they were sent, and were sent again.
    pub blocks_changed: u64,
    /// Requests retried.
    pub retries: u64,
    /// Times the upload started over or re-sent lost blocks.
    pub restarts: u32,
    /// A second media may exist: an earlier finish or `upload_all` (in this run or one that was
    /// interrupted) may have succeeded without its answer arriving, and the upload was made
    /// again. `file_token` is the media of this run's bytes; the other, if it exists, is an
    /// unreferenced copy.
    pub possible_duplicate: bool,
    /// How many other media may exist (each ambiguous `upload_all` attempt before the one that
    /// answered, each finish most likely handled under a token never received).
    pub possible_duplicates: u32,
    /// Things that went wrong without stopping the upload (e.g. the journal could not be
    /// removed afterwards).
    pub warnings: Vec<String>,
}
