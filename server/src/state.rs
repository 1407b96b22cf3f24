//! The server's state: uploads in progress, finished files (media and Drive), and counters.

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use feishu_drive::ErrorCode;
use rand::Rng;
use rand::distr::Alphanumeric;

use crate::auth::{Identity, Tokens, deadline, lock};
use crate::config::Config;
use crate::drive::{Drive, Place};
use crate::error::{Failure, ServerError};
use crate::faults::Injector;
use crate::form::Received;
use crate::stats::{Counters, Received as ReceivedLog};
use crate::storage::{self, Family, FileMeta, Storage, now_secs};

/// Everything the handlers share.
#[derive(Debug)]
pub(crate) struct App {
    pub(crate) config: Config,
    pub(crate) tokens: Tokens,
    pub(crate) faults: Injector,
    pub(crate) storage: Arc<Storage>,
    pub(crate) counters: Counters,
    /// The upload bodies received, for [`crate::RunningServer::received_parts`].
    pub(crate) received: ReceivedLog,
    /// The folder tree and the Drive files.
    pub(crate) drive: Drive,
    /// `http://<addr>`, for the `url` of files and folders.
    pub(crate) base_url: String,
    /// Permits for upload bodies being received ([`crate::Limits::max_uploads_in_flight`]).
    pub(crate) upload_bodies: Arc<tokio::sync::Semaphore>,
    uploads: Mutex<HashMap<String, Arc<Upload>>>,
    /// The media files, by token.
    files: Mutex<HashMap<String, Arc<FileMeta>>>,
}

/// What an upload was prepared with.
#[derive(Debug, Clone)]
pub(crate) struct UploadSpec {
    pub(crate) owner: Identity,
    pub(crate) file_name: String,
    pub(crate) parent_type: String,
    /// As sent; for a Drive file, [`UploadSpec::target`] says where it goes.
    pub(crate) parent_node: String,
    pub(crate) size: u64,
    pub(crate) target: Target,
}

/// Which family an upload is for, and for a Drive file, where it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    Media,
    /// A Drive file in `place`: a new one, or a new version of `file_token`.
    File {
        place: Place,
        file_token: Option<String>,
    },
}

impl Target {
    pub(crate) fn family(&self) -> Family {
        match self {
            Target::Media => Family::Media,
            Target::File { .. } => Family::File,
        }
    }
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

impl App {
    pub(crate) fn new(config: Config, base_url: String) -> Result<Self, ServerError> {
        config.validate()?;
        let (storage, kept) = Storage::open(config.data_dir.as_deref())?;
        let (drive_files, media): (Vec<_>, Vec<_>) = kept
            .files
            .into_iter()
            .partition(|meta| meta.family == Family::File);
        let (drive, new_root) = Drive::new(
            kept.folders,
            drive_files,
            config.drive_limits,
            random_folder_token,
        );
        if let Some(root) = new_root {
            storage
                .save_folder(&root)
                .map_err(|source| ServerError::DataDir {
                    path: storage.root().to_path_buf(),
                    source,
                })?;
        }
        let files = media
            .into_iter()
            .map(|meta| (meta.file_token.clone(), Arc::new(meta)))
            .collect();
        Ok(Self {
            received: ReceivedLog::default(),
            drive,
            base_url,
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

    /// The upload of `family` with this id, if it exists and has not expired (1061021
    /// otherwise: the server cannot tell an unknown id from one it forgot, and an id of the
    /// other family is unknown to this one).
    pub(crate) fn upload(&self, id: &str, family: Family) -> Result<Arc<Upload>, Failure> {
        let expired = || {
            Failure::new(
                ErrorCode::UploadIdExpired,
                format!("no live upload with id {id:?}"),
            )
        };
        let upload = lock(&self.uploads)
            .get(id)
            .filter(|u| u.spec.target.family() == family)
            .cloned()
            .ok_or_else(expired)?;
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
    pub(crate) async fn finish(&self, upload: Arc<Upload>, block_num: u64) -> Result<Arc<FileMeta>, Failure> {
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
            let meta = finished_meta(&up.spec, up.block_num);
            storage.commit_file(&up.dir, &meta).map_err(Failure::internal)?;
            state.finished = true;
            Ok(meta)
        })
        .await
        .map_err(Failure::internal)??;
        lock(&self.uploads).remove(&upload.id);
        self.add_file(meta, &upload.spec.target)
    }

    /// Stores a whole file received by `upload_all`.
    pub(crate) async fn store_file(
        &self,
        spec: UploadSpec,
        file: Received,
    ) -> Result<Arc<FileMeta>, Failure> {
        let storage = self.storage.clone();
        let target = spec.target.clone();
        let meta = tokio::task::spawn_blocking(move || {
            let meta = finished_meta(&spec, 1);
            // Built under uploads/ and moved into files/ whole, like a chunked upload.
            let dir = storage.upload_dir(&format!("all-{}", meta.dir_name()));
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
        self.add_file(meta, &target)
    }

    /// Makes a committed file readable: a media by its token, a Drive file in its place. A
    /// Drive file whose folder filled meanwhile (1062507) is deleted again.
    fn add_file(&self, meta: FileMeta, target: &Target) -> Result<Arc<FileMeta>, Failure> {
        let meta = Arc::new(meta);
        match target {
            Target::Media => {
                lock(&self.files).insert(meta.file_token.clone(), meta.clone());
            }
            Target::File { place, .. } => {
                if let Err(failure) = self.drive.add_version(meta.clone(), place.clone()) {
                    let dir = self.storage.file_dir(meta.dir_name());
                    tokio::task::spawn_blocking(move || std::fs::remove_dir_all(dir));
                    return Err(failure);
                }
            }
        }
        Counters::bump(&self.counters.files_finished);
        Ok(meta)
    }

    /// A media file.
    pub(crate) fn file(&self, token: &str) -> Option<Arc<FileMeta>> {
        lock(&self.files).get(token).cloned()
    }

    /// Makes a folder `name` in `parent` for `who`, and saves it.
    pub(crate) async fn make_folder(
        &self,
        who: &Identity,
        parent: &str,
        name: &str,
    ) -> Result<storage::FolderMeta, Failure> {
        let folder = self.drive.make_folder(who, parent, name, random_folder_token())?;
        let storage = self.storage.clone();
        let record = folder.clone();
        let saved = tokio::task::spawn_blocking(move || storage.save_folder(&record))
            .await
            .map_err(Failure::internal)
            .and_then(|r| r.map_err(Failure::internal));
        if let Err(failure) = saved {
            self.drive.forget_folder(&folder.token);
            return Err(failure);
        }
        Ok(folder)
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

/// The record of a file finished from `spec` in `blocks` block files: a media with a new token,
/// or a Drive file version (a new token, or the token of the file it is a version of).
fn finished_meta(spec: &UploadSpec, blocks: u64) -> FileMeta {
    let (file_token, version) = match &spec.target {
        Target::Media => (random_file_token(), None),
        Target::File { file_token, .. } => (
            file_token.clone().unwrap_or_else(random_file_token),
            Some(random_upload_id()),
        ),
    };
    FileMeta {
        dir: version.as_ref().map(|v| format!("{file_token}.{v}")),
        file_token,
        content_type: storage::media_type(&spec.file_name),
        file_name: spec.file_name.clone(),
        size: spec.size,
        blocks,
        parent_type: spec.parent_type.clone(),
        parent_node: match &spec.target {
            Target::File {
                place: Place::Folder(token) | Place::Wiki(token),
                ..
            } => token.clone(),
            Target::Media => spec.parent_node.clone(),
        },
        owner: Some(spec.owner.clone()),
        family: spec.target.family(),
        version,
        created_secs: now_secs(),
    }
}

/// A folder token shaped like Feishu's (`fldcn` and 22 letters and digits).
fn random_folder_token() -> String {
    format!("fldcn{}", random_tail())
}

fn random_tail() -> String {
    rand::rng()
        .sample_iter(Alphanumeric)
        .take(22)
        .map(char::from)
        .collect()
}

/// A 19-digit decimal id, like Feishu's (`7111211691345512356`).
fn random_upload_id() -> String {
    rand::rng()
        .random_range(1_000_000_000_000_000_000u64..10_000_000_000_000_000_000u64)
        .to_string()
}

/// A token shaped like Feishu's media tokens (`boxcn` and 22 letters and digits).
fn random_file_token() -> String {
    format!("boxcn{}", random_tail())
}
