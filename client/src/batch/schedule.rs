//! One batch from start to end: the target listed, the folders made (each once, while files
//! already upload), then every file through [`Client::upload`] in two lanes — large files
//! (chunked, largest first, so the longest uploads start early) and small ones (`upload_all`,
//! back to back) — under one bound on files in flight and one on bytes in memory, every request
//! through the client's one budget and token cache.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use futures::stream::{self, StreamExt};
use progenitor_client::ClientInfo;

use super::folders::{self, Child, Kind};
use super::outcome::{
    BatchError, BatchEvent, BatchOutcome, FileError, FileReport, FileResult, SkipReason, Stopped,
};
use super::record::{Done, Record, State};
use super::request::{BatchRequest, Entry, IfExists, OnFailure, Target, join};
use super::shared::{Run, journal_failed, units};
use super::tree::{Folder, FolderFuture};
use crate::Client;
use crate::limits::BLOCK_SIZE;
use crate::upload::{ProgressEvent, UploadError, UploadRequest};

/// Chunked files uploading at once: two, so one's parts keep the `upload_part` rate busy while
/// the other prepares or finishes.
const CHUNKED_IN_FLIGHT: usize = 2;

/// Runs `request` on `client`.
pub(crate) async fn run(client: &Client, mut request: BatchRequest) -> Result<BatchOutcome, BatchError> {
    request.check()?;
    let (record, earlier) = match &request.journal_dir {
        Some(dir) => {
            let (record, state) = Record::open(dir, &scope(client, &request))?;
            (Some(Arc::new(Mutex::new(record))), state)
        }
        None => (None, State::default()),
    };
    let run = Arc::new(Run::new(client, &request, record, earlier));
    let folders = match &request.target {
        Target::Folder(root) => run.clone().folders(root, &request).await?,
        Target::Parent { .. } => HashMap::new(),
    };
    let entries = std::mem::take(&mut request.entries);
    let count = entries.len();
    let (mut chunked, small): (Vec<_>, Vec<_>) = entries
        .into_iter()
        .enumerate()
        .partition(|(_, e)| e.size > run.upload_all_max);
    chunked.sort_by_key(|(_, e)| std::cmp::Reverse(e.size));
    let lane = |files: Vec<(usize, Entry)>, width: usize| {
        let run = run.clone();
        let folders = folders.clone();
        stream::iter(files)
            .map(move |(index, entry)| {
                let folder = folders.get(&entry.folder).cloned();
                run.clone().file(index, entry, folder)
            })
            .buffer_unordered(width)
    };
    let mut reports: Vec<Option<FileReport>> = vec![None; count];
    let files = stream::select(
        lane(chunked, CHUNKED_IN_FLIGHT.min(request.files_in_flight)),
        lane(small, request.files_in_flight),
    )
    .for_each(|report| {
        run.emit(&BatchEvent::Finished(&report));
        let index = report.index;
        reports[index] = Some(report);
        async {}
    });
    // Every folder is made, empty ones (which no file awaits) included.
    let all_folders = futures::future::join_all(folders.values().cloned());
    let (_, folder_results) = tokio::join!(files, all_folders);
    drop(folder_results);
    let mut warnings = std::mem::take(&mut request.warnings);
    warnings.extend(run.lock(&run.warnings).drain(..));
    let stopped = *run.lock(&run.stopped);
    let stopped = stopped.or_else(|| run.stop.is_cancelled().then_some(Stopped::Cancelled));
    Ok(BatchOutcome {
        files: reports.into_iter().flatten().collect(),
        folders_created: run.folders_created.load(Ordering::Relaxed),
        stopped,
        journal: run.record.as_ref().map(|r| run.lock(r).path().to_owned()),
        warnings,
    })
}

/// What names a batch's journal: the server, the target and the local roots.
fn scope(client: &Client, request: &BatchRequest) -> String {
    let mut roots: Vec<String> = request
        .roots
        .iter()
        .map(|r| r.to_string_lossy().into_owned())
        .collect();
    roots.sort();
    format!(
        "{} {} from {}",
        client.baseurl(),
        request.target.describe(),
        roots.join(", ")
    )
}

impl Run {
    /// One file, start to end.
    async fn file(self: Arc<Self>, index: usize, entry: Entry, folder: Option<FolderFuture>) -> FileReport {
        let remote_path = entry.remote_path();
        let result = self.settle(index, &entry, &remote_path, folder).await;
        if let FileResult::Failed(error) = &result {
            if error.credentials_refused() {
                self.halt(Stopped::CredentialsRefused);
            } else if error.token_unavailable() {
                self.halt(Stopped::TokenUnavailable);
            } else if self.on_failure == OnFailure::Stop {
                self.halt(Stopped::AtFailure);
            }
        }
        FileReport {
            index,
            path: entry.shown,
            remote_path,
            size: entry.size,
            result,
        }
    }

    /// Decides what the file needs (nothing, adoption, an upload, a new version) and does it.
    async fn settle(
        &self,
        index: usize,
        entry: &Entry,
        remote_path: &str,
        folder: Option<FolderFuture>,
    ) -> FileResult {
        if self.stop.is_cancelled() {
            return FileResult::NotStarted;
        }
        let earlier = self.earlier.done.get(remote_path);
        let mut version_of = None;
        if let Some(done) = earlier {
            if done.size == entry.size && done.modified == entry.modified {
                return FileResult::Skipped {
                    file_token: done.token.clone(),
                    reason: SkipReason::DoneEarlier,
                };
            }
            // Changed since this batch uploaded it: a Drive file gets a new version.
            if self.target.family() == crate::upload::Family::Files {
                version_of = Some(done.token.clone());
            }
        }
        let folder = match folder {
            Some(folder) => match folder.await {
                Ok(folder) => Some(folder),
                Err(error) => return FileResult::Failed(error),
            },
            None => None,
        };
        if let (Some(folder), None) = (&folder, earlier) {
            match self.decide(entry, remote_path, folder) {
                Decision::Upload => {}
                Decision::NewVersionOf(token) => version_of = Some(token),
                Decision::Done(result) => return result,
            }
        }
        let Ok(_slot) = self.wait_for(self.slots.acquire()).await else {
            return FileResult::NotStarted;
        };
        let Ok(_memory) = self.wait_for(self.memory.acquire_many(self.cost(entry))).await else {
            return FileResult::NotStarted;
        };
        self.upload(index, entry, remote_path, folder.as_deref(), version_of)
            .await
    }

    /// Waits for a permit, or for the batch to stop (then `Err`).
    async fn wait_for<'a>(
        &self,
        acquire: impl Future<Output = Result<tokio::sync::SemaphorePermit<'a>, tokio::sync::AcquireError>>,
    ) -> Result<tokio::sync::SemaphorePermit<'a>, ()> {
        tokio::select! {
            biased;
            () = self.stop.cancelled() => Err(()),
            permit = acquire => permit.map_err(|_| ()),
        }
    }

    /// What the folder's listing says about a file the journal does not know as done.
    fn decide(&self, entry: &Entry, remote_path: &str, folder: &Folder) -> Decision {
        let Some(children) = &folder.children else {
            return Decision::Upload;
        };
        let named = |c: &&Child| c.kind == Kind::File && c.name == entry.name;
        // An interrupted run started it: a file of its name that the folder did not hold before
        // the batch, and that no other file of the batch owns, is the one that run made.
        if self.earlier.started.contains(remote_path)
            && let Some(made) = children
                .iter()
                .filter(named)
                .find(|c| !folder.before.contains(&c.token) && !self.owned.contains(&c.token))
        {
            let done = Done {
                token: made.token.clone(),
                size: entry.size,
                modified: entry.modified,
            };
            if let Err(error) = self.journal(|r| r.done(remote_path, &done)) {
                return Decision::Done(FileResult::Failed(journal_failed(error)));
            }
            return Decision::Done(FileResult::Adopted {
                file_token: made.token.clone(),
            });
        }
        match (self.if_exists, children.iter().find(named)) {
            (Some(IfExists::Skip), Some(there)) => Decision::Done(FileResult::Skipped {
                file_token: there.token.clone(),
                reason: SkipReason::NameExists,
            }),
            (Some(IfExists::Version), Some(there)) => Decision::NewVersionOf(there.token.clone()),
            _ => Decision::Upload,
        }
    }

    /// The memory a file's upload holds, in KiB: its `upload_all` body, or two blocks per worker.
    fn cost(&self, entry: &Entry) -> u32 {
        let bytes = match entry.size <= self.upload_all_max {
            true => entry.size,
            false => self.concurrency as u64 * 2 * BLOCK_SIZE,
        };
        units(bytes).min(self.memory_units)
    }

    /// Uploads the file. Into a listed Drive folder, an upload whose last request may have
    /// succeeded without an answer is not sent again blindly: the folder's listing tells
    /// whether the file was made (then it is adopted) or not (then it is sent again).
    async fn upload(
        &self,
        index: usize,
        entry: &Entry,
        remote_path: &str,
        folder: Option<&Folder>,
        version_of: Option<String>,
    ) -> FileResult {
        if let Err(error) = self.journal(|r| r.started(remote_path)) {
            return FileResult::Failed(journal_failed(error));
        }
        self.emit(&BatchEvent::Started {
            index,
            path: &entry.shown,
            remote_path,
            size: entry.size,
            new_version_of: version_of.as_deref(),
        });
        let journal = self
            .record
            .as_ref()
            .map(|r| self.lock(r).journal_for(remote_path));
        // A new version keeps the token the folder already lists, so only a new file can be
        // told apart in the listing.
        let listed = folder.filter(|f| f.children.is_some() && version_of.is_none());
        let mut refuse = self.refuse_duplicates || listed.is_some();
        loop {
            let file = Attempt {
                index,
                entry,
                remote_path,
                folder,
                version_of: version_of.clone(),
                refuse_duplicates: refuse,
                journal: journal.as_deref(),
            };
            let error = match self.send(file).await {
                Ok(result) => return result,
                Err(error) => error,
            };
            let (Some(folder), UploadError::AmbiguousFinish { .. }) = (listed, &error) else {
                return FileResult::Failed(Arc::new(FileError::Upload(error)));
            };
            match self.made_by_lost_request(entry, remote_path, folder).await {
                Ok(Some(adopted)) => return adopted,
                // Not made: safe to send again, unless the caller refuses any risk.
                Ok(None) if refuse && !self.refuse_duplicates => {
                    refuse = false;
                    if entry.size <= self.upload_all_max
                        && let Some(path) = &journal
                    {
                        // An upload_all journal holds only "sent"; the listing answered it.
                        let _ = std::fs::remove_file(path);
                    }
                }
                Ok(None) => return FileResult::Failed(Arc::new(FileError::Upload(error))),
                Err(failure) => return FileResult::Failed(failure),
            }
        }
    }

    /// One upload of the file through the client.
    async fn send(&self, file: Attempt<'_>) -> Result<FileResult, UploadError> {
        let mut upload = match (&self.target, file.folder) {
            (
                Target::Parent {
                    parent_type,
                    parent_node,
                },
                _,
            ) => UploadRequest::file(&file.entry.local, parent_type.as_str(), parent_node.as_str()),
            (Target::Folder(root), folder) => UploadRequest::to_folder(
                &file.entry.local,
                folder.map_or(root.as_str(), |f| f.token.as_str()),
            ),
        };
        upload = upload
            .file_name(file.entry.name.as_str())
            .cancel_on(self.stop.child_token());
        if let Some(token) = file.version_of {
            upload = upload.new_version_of(token);
        }
        if file.refuse_duplicates {
            upload = upload.refuse_duplicates();
        }
        if let Some(path) = file.journal {
            upload = upload.journal(path);
        }
        let recorded = Arc::new(AtomicBool::new(false));
        upload = upload.progress(self.progress(file.index, file.entry, file.remote_path, recorded.clone()));
        match self.client.upload(upload).await {
            Ok(outcome) => {
                if !recorded.load(Ordering::SeqCst) {
                    self.record_done(file.remote_path, file.entry, &outcome.file_token);
                }
                Ok(FileResult::Uploaded(outcome))
            }
            Err(UploadError::Cancelled) => Ok(FileResult::Interrupted {
                journal: file.journal.filter(|j| j.exists()).map(Path::to_owned),
            }),
            Err(error) => Err(error),
        }
    }

    /// After an answer was lost: the file of this name the folder lists now and did not hold
    /// before the batch, if the lost request made one (adopted and journaled).
    async fn made_by_lost_request(
        &self,
        entry: &Entry,
        remote_path: &str,
        folder: &Folder,
    ) -> Result<Option<FileResult>, Arc<FileError>> {
        let (children, _) = folders::list(&self.client, &folder.token).await.map_err(|e| {
            Arc::new(FileError::Listing {
                folder: join(&entry.folder, None),
                source: Arc::new(e),
            })
        })?;
        let made = children.into_iter().find(|c| {
            c.kind == Kind::File
                && c.name == entry.name
                && !folder.before.contains(&c.token)
                && !self.owned.contains(&c.token)
        });
        Ok(made.map(|made| {
            self.record_done(remote_path, entry, &made.token);
            FileResult::Adopted {
                file_token: made.token,
            }
        }))
    }

    /// The progress callback of one file: its events go out as the batch's, and its finish is
    /// journaled the moment the server gives the token (before the upload's own journal goes).
    fn progress(
        &self,
        index: usize,
        entry: &Entry,
        remote_path: &str,
        recorded: Arc<AtomicBool>,
    ) -> impl Fn(&ProgressEvent) + Send + Sync + 'static {
        let events = self.events.clone();
        let record = self.record.clone();
        let (path, size, modified) = (remote_path.to_owned(), entry.size, entry.modified);
        move |event: &ProgressEvent| {
            if let (ProgressEvent::Finished { file_token, .. }, Some(record)) = (event, &record) {
                let done = Done {
                    token: file_token.clone(),
                    size,
                    modified,
                };
                let mut record = record.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                // A failed write is retried once the upload returns (and reported if it fails).
                recorded.store(record.done(&path, &done).is_ok(), Ordering::SeqCst);
            }
            if let Some(events) = &events {
                events(&BatchEvent::Progress { index, event });
            }
        }
    }

    fn record_done(&self, remote_path: &str, entry: &Entry, token: &str) {
        let done = Done {
            token: token.to_owned(),
            size: entry.size,
            modified: entry.modified,
        };
        if let Err(error) = self.journal(|r| r.done(remote_path, &done)) {
            self.lock(&self.warnings).push(format!(
                "{remote_path} was uploaded as {token}, but the batch journal could not record it ({error}): \
                 a re-run would upload it again"
            ));
        }
    }
}

/// One upload of one file of the batch.
struct Attempt<'a> {
    index: usize,
    entry: &'a Entry,
    remote_path: &'a str,
    folder: Option<&'a Folder>,
    version_of: Option<String>,
    refuse_duplicates: bool,
    journal: Option<&'a Path>,
}

/// What a folder's listing decides for one file.
enum Decision {
    Upload,
    NewVersionOf(String),
    Done(FileResult),
}
