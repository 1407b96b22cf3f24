//! The server's state: uploads in progress, finished files, and counters.

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use feishu_drive::ErrorCode;
use rand::Rng;
use rand::distr::Alphanumeric;

use crate::auth::{Identity, Tokens, deadline, lock};
use crate::config::Config;
use crate::error::{Failure, ServerError};
use crate::faults::Injector;
use crate::form::Received;
use crate::storage::{self, FileMeta, Storage};

/// Everything the handlers share.
#[derive(Debug)]
pub(crate) struct App {
    pub(crate) config: Config,
    pub(crate) tokens: Tokens,
    pub(crate) faults: Injector,
    pub(crate) storage: Arc<Storage>,
    pub(crate) counters: Counters,
    /// Permits for upload bodies being received ([`crate::Limits::max_uploads_in_flight`]).
    pub(crate) upload_bodies: Arc<tokio::sync::Semaphore>,
    uploads: Mutex<HashMap<String, Arc<Upload>>>,
    files: Mutex<HashMap<String, Arc<FileMeta>>>,
}

/// What an upload was prepared with.
#[derive(Debug, Clone)]
pub(crate) struct UploadSpec {
    pub(crate) owner: Identity,
    pub(crate) file_name: String,
    pub(crate) parent_type: String,
    pub(crate) parent_node: String,
    pub(crate) size: u64,
}

/// An upload between `upload_prepare` and `upload_finish`.
#[derive(Debug)]
pub(crate) struct Upload {
    pub(crate) id: String,
    pub(crate) spec: UploadSpec,
    pub(crate) block_size: u64,
    pub(crate) block_num: u64,
    dir: PathBuf,
    /// One lock per upload orders its blocks against its finish: a block stored after
    /// `upload_finish` moved the directory would be lost, or land in a finished file.
    state: Mutex<UploadState>,
}

#[derive(Debug)]
struct UploadState {
    expires_at: Instant,
    received: BTreeSet<u64>,
    finished: bool,
}

impl Upload {
    /// How many bytes block `seq` must hold: `block_size`, except the last, which holds the rest.
    pub(crate) fn block_len(&self, seq: u64) -> u64 {
        // Saturating, so a seq past the end (checked before, 1062011) is 0 rather than a panic.
        let start = seq.saturating_mul(self.block_size);
        self.spec.size.saturating_sub(start).min(self.block_size)
    }

    fn is_expired(&self, now: Instant) -> bool {
        now >= lock(&self.state).expires_at
    }
}

/// Counts of what the server did, for tests and benchmarks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Blocks stored by `upload_part` (re-sent blocks count again).
    pub parts_stored: u64,
    /// Files finished, by `upload_finish` or `upload_all`.
    pub files_finished: u64,
    /// Requests answered with an injected retryable code.
    pub injected_errors: u64,
    /// Connections dropped on purpose.
    pub dropped_connections: u64,
    /// Requests refused by the rate limit.
    pub rate_limited: u64,
    /// Requests refused by the daily quota.
    pub quota_exceeded: u64,
    /// Requests handled whose answer was then lost ([`FaultKind::LoseResponse`](crate::FaultKind)).
    pub lost_responses: u64,
    /// Requests answered with a failure that is not Feishu JSON (HTML, plain text, empty 429).
    pub foreign_failures: u64,
    /// Requests answered by a fault rule with a Feishu envelope (200, 202, refused credentials).
    pub injected_envelopes: u64,
    /// Requests delayed by a fault rule.
    pub delayed_requests: u64,
    /// Connections refused because [`Limits::max_connections`](crate::Limits) were open.
    pub connections_refused: u64,
    /// Upload bodies refused because [`Limits::max_uploads_in_flight`](crate::Limits) were being
    /// received.
    pub uploads_refused: u64,
    /// Connections closed because a request body sent nothing for
    /// [`Limits::body_idle_timeout`](crate::Limits).
    pub idle_timeouts: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) parts_stored: AtomicU64,
    pub(crate) files_finished: AtomicU64,
    pub(crate) injected_errors: AtomicU64,
    pub(crate) dropped_connections: AtomicU64,
    pub(crate) rate_limited: AtomicU64,
    pub(crate) quota_exceeded: AtomicU64,
    pub(crate) lost_responses: AtomicU64,
    pub(crate) foreign_failures: AtomicU64,
    pub(crate) injected_envelopes: AtomicU64,
    pub(crate) delayed_requests: AtomicU64,
    pub(crate) connections_refused: AtomicU64,
    pub(crate) uploads_refused: AtomicU64,
    pub(crate) idle_timeouts: AtomicU64,
}

impl Counters {
    pub(crate) fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> Stats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Stats {
            parts_stored: get(&self.parts_stored),
            files_finished: get(&self.files_finished),
            injected_errors: get(&self.injected_errors),
            dropped_connections: get(&self.dropped_connections),
            rate_limited: get(&self.rate_limited),
            quota_exceeded: get(&self.quota_exceeded),
            lost_responses: get(&self.lost_responses),
            foreign_failures: get(&self.foreign_failures),
            injected_envelopes: get(&self.injected_envelopes),
            delayed_requests: get(&self.delayed_requests),
            connections_refused: get(&self.connections_refused),
            uploads_refused: get(&self.uploads_refused),
            idle_timeouts: get(&self.idle_timeouts),
        }
    }
}

impl App {
    pub(crate) fn new(config: Config) -> Result<Self, ServerError> {
        config.validate()?;
        let (storage, files) = Storage::open(config.data_dir.as_deref())?;
        let files = files
            .into_iter()
            .map(|meta| (meta.file_token.clone(), Arc::new(meta)))
            .collect();
        Ok(Self {
            tokens: Tokens::new(config.apps.clone(), config.accept_user_tokens, config.token_ttl),
            faults: Injector::new(config.faults.clone()),
            storage: Arc::new(storage),
            counters: Counters::default(),
            upload_bodies: Arc::new(tokio::sync::Semaphore::new(config.limits.max_uploads_in_flight)),
            uploads: Mutex::new(HashMap::new()),
            files: Mutex::new(files),
            config,
        })
    }

    /// Starts an upload: `block_num = ceil(size / block_size)`, so a 0-byte file has 0 blocks
    /// and is finished with `block_num` 0 (the docs allow `size` 0).
    pub(crate) async fn prepare(&self, spec: UploadSpec) -> Result<Arc<Upload>, Failure> {
        let block_size = self.config.block_size;
        let id = random_upload_id();
        let dir = self.storage.upload_dir(&id);
        tokio::fs::create_dir(&dir).await.map_err(Failure::internal)?;
        let upload = Arc::new(Upload {
            block_num: spec.size.div_ceil(block_size),
            block_size,
            spec,
            dir,
            state: Mutex::new(UploadState {
                expires_at: deadline(Instant::now(), self.config.upload_ttl),
                received: BTreeSet::new(),
                finished: false,
            }),
            id: id.clone(),
        });
        lock(&self.uploads).insert(id, upload.clone());
        Ok(upload)
    }

    /// The upload with this id, if it exists and has not expired (1061021 otherwise: the server
    /// cannot tell an unknown id from one it forgot).
    pub(crate) fn upload(&self, id: &str) -> Result<Arc<Upload>, Failure> {
        let expired = || {
            Failure::new(
                ErrorCode::UploadIdExpired,
                format!("no live upload with id {id:?}"),
            )
        };
        let upload = lock(&self.uploads).get(id).cloned().ok_or_else(expired)?;
        if upload.is_expired(Instant::now()) {
            self.forget(&upload);
            return Err(expired());
        }
        Ok(upload)
    }

    /// Stores block `seq` (already checked) of `upload`.
    pub(crate) async fn store_block(
        &self,
        upload: Arc<Upload>,
        seq: u64,
        block: Received,
    ) -> Result<(), Failure> {
        let stored = tokio::task::spawn_blocking(move || {
            let mut state = lock(&upload.state);
            if state.finished || Instant::now() >= state.expires_at {
                return Err(Failure::new(
                    ErrorCode::UploadIdExpired,
                    "the upload finished or expired meanwhile",
                ));
            }
            // A rename replaces a block sent before atomically, so re-sent and concurrent copies
            // of one block never interleave.
            block
                .tmp
                .persist(upload.dir.join(seq.to_string()))
                .map_err(|e| Failure::internal(e.error))?;
            state.received.insert(seq);
            Ok(())
        })
        .await
        .map_err(Failure::internal)?;
        stored?;
        Counters::bump(&self.counters.parts_stored);
        Ok(())
    }

    /// Finishes `upload` into a file, once every block arrived; returns the file token.
    pub(crate) async fn finish(&self, upload: Arc<Upload>, block_num: u64) -> Result<String, Failure> {
        if block_num != upload.block_num {
            return Err(Failure::params(format!(
                "block_num is {block_num}, but upload_prepare said {}",
                upload.block_num
            )));
        }
        let storage = self.storage.clone();
        let up = upload.clone();
        let meta = tokio::task::spawn_blocking(move || {
            let mut state = lock(&up.state);
            if state.finished {
                return Err(Failure::new(
                    ErrorCode::UploadIdExpired,
                    "the upload is already finished",
                ));
            }
            let missing = up.block_num - state.received.len() as u64;
            if missing > 0 {
                let first = (0..up.block_num)
                    .find(|seq| !state.received.contains(seq))
                    .unwrap_or(0);
                return Err(Failure::new(
                    ErrorCode::BlockMissing,
                    format!(
                        "{missing} of {} blocks missing, the first is {first}",
                        up.block_num
                    ),
                ));
            }
            let meta = FileMeta {
                file_token: random_file_token(),
                file_name: up.spec.file_name.clone(),
                size: up.spec.size,
                blocks: up.block_num,
                parent_type: up.spec.parent_type.clone(),
                parent_node: up.spec.parent_node.clone(),
                owner: Some(up.spec.owner.clone()),
                content_type: storage::media_type(&up.spec.file_name),
            };
            storage.commit_file(&up.dir, &meta).map_err(Failure::internal)?;
            state.finished = true;
            Ok(meta)
        })
        .await
        .map_err(Failure::internal)??;
        lock(&self.uploads).remove(&upload.id);
        Ok(self.add_file(meta))
    }

    /// Stores a whole file received by `upload_all`; returns its token.
    pub(crate) async fn store_file(&self, spec: UploadSpec, file: Received) -> Result<String, Failure> {
        let storage = self.storage.clone();
        let meta = tokio::task::spawn_blocking(move || {
            let meta = FileMeta {
                file_token: random_file_token(),
                content_type: storage::media_type(&spec.file_name),
                file_name: spec.file_name,
                size: spec.size,
                blocks: 1,
                parent_type: spec.parent_type,
                parent_node: spec.parent_node,
                owner: Some(spec.owner),
            };
            // Built under uploads/ and moved into files/ whole, like a chunked upload.
            let dir = storage.upload_dir(&format!("all-{}", meta.file_token));
            std::fs::create_dir(&dir)
                .and_then(|()| file.tmp.persist(dir.join("0")).map(drop).map_err(|e| e.error))
                .and_then(|()| storage.commit_file(&dir, &meta))
                .map_err(|e| {
                    let _ = std::fs::remove_dir_all(&dir);
                    Failure::internal(e)
                })?;
            Ok::<_, Failure>(meta)
        })
        .await
        .map_err(Failure::internal)??;
        Ok(self.add_file(meta))
    }

    fn add_file(&self, meta: FileMeta) -> String {
        let token = meta.file_token.clone();
        lock(&self.files).insert(token.clone(), Arc::new(meta));
        Counters::bump(&self.counters.files_finished);
        token
    }

    pub(crate) fn file(&self, token: &str) -> Option<Arc<FileMeta>> {
        lock(&self.files).get(token).cloned()
    }

    /// Makes an upload id expire now; whether it was live.
    pub(crate) fn expire_upload(&self, id: &str) -> bool {
        let Some(upload) = lock(&self.uploads).get(id).cloned() else {
            return false;
        };
        lock(&upload.state).expires_at = Instant::now();
        true
    }

    /// Forgets that block `seq` of the upload arrived, as if it had been lost: the next
    /// `upload_finish` answers 1062010 until it is sent again. Returns whether it had arrived.
    pub(crate) fn lose_block(&self, id: &str, seq: u64) -> bool {
        let Some(upload) = lock(&self.uploads).get(id).cloned() else {
            return false;
        };
        lock(&upload.state).received.remove(&seq)
    }

    /// Forgets expired uploads and deletes their blocks.
    pub(crate) fn sweep(&self) {
        let now = Instant::now();
        let expired: Vec<_> = lock(&self.uploads)
            .values()
            .filter(|u| u.is_expired(now))
            .cloned()
            .collect();
        for upload in expired {
            self.forget(&upload);
        }
    }

    fn forget(&self, upload: &Arc<Upload>) {
        if lock(&self.uploads).remove(&upload.id).is_none() {
            return;
        }
        let up = upload.clone();
        // Under the upload's lock, so a block being stored right now finishes first.
        tokio::task::spawn_blocking(move || {
            let mut state = lock(&up.state);
            state.finished = true;
            if let Err(e) = std::fs::remove_dir_all(&up.dir) {
                tracing::warn!(upload_id = %up.id, error = %e, "could not delete an expired upload");
            }
        });
    }
}

/// A 19-digit decimal id, like Feishu's (`7111211691345512356`).
fn random_upload_id() -> String {
    rand::rng()
        .random_range(1_000_000_000_000_000_000u64..10_000_000_000_000_000_000u64)
        .to_string()
}

/// A token shaped like Feishu's media tokens (`boxcn` and 22 letters and digits).
fn random_file_token() -> String {
    let tail: String = rand::rng()
        .sample_iter(Alphanumeric)
        .take(22)
        .map(char::from)
        .collect();
    format!("boxcn{tail}")
}
