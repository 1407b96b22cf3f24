//! What a batch keeps between runs, in its journal directory: one resume journal per file (the
//! library's, removed when the file is done) and one batch record of the files already done with
//! their tokens, so that running the same command again neither uploads a finished file twice
//! nor starts a half-sent one over. The record is removed when the whole batch is done.
//!
//! Names are derived from what identifies an upload (the API, the target, the file's canonical
//! path), so the same command finds the same files again, and another target never does.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::exit::CliError;

/// The default journal directory: `$XDG_STATE_HOME/feishu-drive/journals`, or
/// `~/.local/state/feishu-drive/journals`.
pub fn default_journal_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_STATE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".local").join("state")))?;
    Some(base.join("feishu-drive").join("journals"))
}

/// One batch's state on disk.
#[derive(Debug)]
pub struct BatchState {
    dir: PathBuf,
    record_path: PathBuf,
    scope: String,
    record: Record,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Record {
    /// Canonical path -> file token, for the files done.
    done: BTreeMap<String, String>,
}

impl BatchState {
    /// Opens (or starts) the state of the batch of `files` to `scope` (the API and target) in
    /// `dir`, creating the directory (mode 700: journals name documents) if needed.
    pub fn open(dir: &Path, scope: &str, files: &[PathBuf]) -> Result<Self, CliError> {
        create_private_dir(dir)?;
        let mut key = Sha256::new();
        key.update(scope.as_bytes());
        for file in files {
            key.update([0]);
            key.update(file.to_string_lossy().as_bytes());
        }
        let record_path = dir.join(format!("batch-{}.json", short_hex(&key.finalize())));
        let record = match std::fs::read(&record_path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| CliError::Config {
                path: record_path.clone(),
                reason: format!("{e}; delete it to start the batch afresh"),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Record::default(),
            Err(source) => {
                return Err(CliError::Io {
                    path: record_path,
                    source,
                });
            }
        };
        Ok(Self {
            dir: dir.to_owned(),
            record_path,
            scope: scope.to_owned(),
            record,
        })
    }

    /// The token an earlier run of this batch got for `file`, if it finished it.
    pub fn done(&self, file: &Path) -> Option<&str> {
        self.record.done.get(&*file.to_string_lossy()).map(String::as_str)
    }

    /// Files an earlier run finished.
    pub fn done_count(&self) -> usize {
        self.record.done.len()
    }

    /// Records that `file` is done, durably, before the next file starts.
    pub fn record_done(&mut self, file: &Path, file_token: &str) -> Result<(), CliError> {
        self.record
            .done
            .insert(file.to_string_lossy().into_owned(), file_token.to_owned());
        let io = |source| CliError::Io {
            path: self.record_path.clone(),
            source,
        };
        let bytes = serde_json::to_vec_pretty(&self.record)
            .map_err(std::io::Error::other)
            .map_err(io)?;
        let temp = self.record_path.with_extension("json.tmp");
        std::fs::write(&temp, bytes).map_err(io)?;
        std::fs::rename(&temp, &self.record_path).map_err(io)
    }

    /// The whole batch is done: its record goes.
    pub fn remove(self) -> Result<(), CliError> {
        match std::fs::remove_file(&self.record_path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(CliError::Io {
                path: self.record_path,
                source,
            }),
        }
    }

    /// The resume journal of `file` (its name first, for people listing the directory).
    pub fn journal_for(&self, file: &Path) -> PathBuf {
        let mut key = Sha256::new();
        key.update(self.scope.as_bytes());
        key.update([0]);
        key.update(file.to_string_lossy().as_bytes());
        let name: String = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
            .chars()
            .map(|c| {
                if c.is_alphanumeric() || c == '.' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .take(64)
            .collect();
        self.dir
            .join(format!("{name}-{}.journal", short_hex(&key.finalize())))
    }
}

fn short_hex(digest: &[u8]) -> String {
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

fn create_private_dir(dir: &Path) -> Result<(), CliError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|source| CliError::Io {
        path: dir.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_record_survives_a_reopen_and_names_depend_on_the_scope() {
        let dir = tempfile::tempdir().expect("temp dir");
        let files = vec![PathBuf::from("/a/x.bin"), PathBuf::from("/a/y.bin")];
        let mut state = BatchState::open(dir.path(), "api|docx_file|n1", &files).expect("open");
        state.record_done(&files[0], "boxA").expect("record");
        let again = BatchState::open(dir.path(), "api|docx_file|n1", &files).expect("reopen");
        assert_eq!(again.done(&files[0]), Some("boxA"));
        assert_eq!(again.done(&files[1]), None);
        let other = BatchState::open(dir.path(), "api|docx_file|n2", &files).expect("other");
        assert_eq!(other.done(&files[0]), None);
        assert_ne!(again.journal_for(&files[0]), other.journal_for(&files[0]));
        again.remove().expect("remove");
        let fresh = BatchState::open(dir.path(), "api|docx_file|n1", &files).expect("fresh");
        assert_eq!(fresh.done_count(), 0);
    }
}
