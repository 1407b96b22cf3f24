//! Many files under one scheduler: a list of files, or local directory trees mirrored into a
//! Drive folder (sub-folders made as needed), uploaded with the client's one budget and token
//! cache, a bound on files in flight and on memory, small files through `upload_all` back to back
//! while large ones go block by block, each file's outcome streamed as it finishes, and a
//! failure policy. With a journal directory an interrupted batch resumes: files done are
//! skipped, files an interrupted run uploaded without learning so are found in the folder and
//! adopted, half-sent files go on from their confirmed blocks. [`BatchRequest::plan`] counts the
//! requests before anything is sent.
//!
//! Where things live: the request and its checks (`request.rs`), the run (`schedule.rs`), the
//! folders on the Drive side (`folders.rs`), the batch journal (`record.rs`), the plan
//! (`plan.rs`), reports, events and errors (`outcome.rs`).
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use feishu_drive::Client;
//! use feishu_drive::batch::{BatchEvent, BatchRequest, FileResult, IfExists};
//!
//! let client = Client::builder("https://open.feishu.cn")
//!     .app_credentials("cli_a1b2c3", "app-secret")
//!     .build()?;
//! let request = BatchRequest::to_folder("fldbcO1UuPz8VwnpPx5a92abcef")
//!     .tree("site/")?
//!     .if_exists(IfExists::Skip)
//!     .journal_dir("/var/lib/feishu-uploads")
//!     .on_event(|event| {
//!         if let BatchEvent::Finished(report) = event {
//!             println!("{}: {:?}", report.remote_path, report.result.file_token());
//!         }
//!     });
//! println!("plan: {:?}", client.plan_batch(&request));
//! let outcome = client.upload_batch(request).await?;
//! assert!(outcome.is_complete(), "{} failed", outcome.failed());
//! # Ok(()) }
//! ```

mod folders;
mod outcome;
mod plan;
mod record;
mod request;
mod schedule;
mod shared;
mod tree;

pub use outcome::{
    BatchError, BatchEvent, BatchEventFn, BatchOutcome, FileError, FileReport, FileResult, SkipReason,
    Stopped,
};
pub use plan::{OperationPlan, Plan, PlanSettings};
pub use request::{BatchRequest, DEFAULT_FILES_IN_FLIGHT, DEFAULT_MEMORY_LIMIT, IfExists, OnFailure};

use crate::Client;

impl Client {
    /// Uploads every file of `request` (see the [module](self)): returns each file's report
    /// (also streamed through [`BatchRequest::on_event`] as each finishes). A file's failure is
    /// in its report; `Err` means the batch could not start (a bad path, a journal in use, a
    /// target folder that cannot be listed).
    pub async fn upload_batch(&self, request: BatchRequest) -> Result<BatchOutcome, BatchError> {
        schedule::run(self, request).await
    }
}
