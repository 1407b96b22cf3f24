//! The batch journal: what a batch keeps between runs in its journal directory. An append-only
//! log of one JSON object per line — the folders made, the folder listings taken before the
//! batch put anything in them, the files started and the files done with their tokens — each
//! line synced to disk before the batch acts on it, so a run killed at any point leaves a log
//! whose last line at worst is torn (and ignored). Beside it, one resume journal per chunked file
//! (the uploader's own, removed when the file is done).
//!
//! Names are derived from what identifies a batch (the client's base URL, the target, the local
//! roots), so the same batch finds its log again, and another target never does.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::outcome::BatchError;

/// One line of the log.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
enum Line {
    /// The first line: what the batch is.
    Batch { scope: String },
    /// A folder of the tree is known (made by this batch, or found in its parent's listing).
    Folder { path: String, token: String },
    /// A folder's children before this batch put anything in it.
    Listed { folder: String, children: Vec<String> },
    /// A file's upload started.
    Started { path: String },
    /// A file is in Drive.
    Done {
        path: String,
        token: String,
        size: u64,
        modified: Option<u64>,
    },
}

/// A file the batch put in Drive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Done {
    pub(crate) token: String,
    pub(crate) size: u64,
    pub(crate) modified: Option<u64>,
}

/// What the log says, replayed.
#[derive(Debug, Default)]
pub(crate) struct State {
    /// Remote folder path → token.
    pub(crate) folders: HashMap<String, String>,
    /// Folder token → the children it had before this batch put anything in it.
    pub(crate) listed: HashMap<String, HashSet<String>>,
    /// Remote paths whose upload started and is not done.
    pub(crate) started: HashSet<String>,
    /// Remote path → what was uploaded.
    pub(crate) done: HashMap<String, Done>,
}

impl State {
    fn apply(&mut self, line: Line) {
        match line {
            Line::Batch { .. } => {}
            Line::Folder { path, token } => {
                self.folders.insert(path, token);
            }
            Line::Listed { folder, children } => {
                self.listed.insert(folder, children.into_iter().collect());
            }
            Line::Started { path } => {
                self.started.insert(path);
            }
            Line::Done {
                path,
                token,
                size,
                modified,
            } => {
                self.started.remove(&path);
                self.done.insert(
                    path,
                    Done {
                        token,
                        size,
                        modified,
                    },
                );
            }
        }
    }
}

/// An open batch journal, locked against a second run of the same batch.
#[derive(Debug)]
pub(crate) struct Record {
    dir: PathBuf,
    path: PathBuf,
    scope: String,
    file: File,
}

impl Record {
    /// Opens (or starts) the log of the batch `scope` in `dir`; returns it and what it says.
    pub(crate) fn open(dir: &Path, scope: &str) -> Result<(Self, State), BatchError> {
        create_private_dir(dir)?;
        let path = dir.join(format!("batch-{}.ndjson", short_hex(&[scope])));
        let journal_path = path.clone();
        let journal = |reason: String| BatchError::Journal {
            path: journal_path.clone(),
            reason,
        };
        let mut file = File::options()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(|e| journal(e.to_string()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(journal(
                    "another run of this batch holds it; wait for it to end".to_owned(),
                ));
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(journal(e.to_string())),
        }
        let state = replay(&mut file, scope).map_err(journal)?;
        let fresh = file.metadata().map_err(|e| journal(e.to_string()))?.len() == 0;
        let mut record = Record {
            dir: dir.to_owned(),
            path,
            scope: scope.to_owned(),
            file,
        };
        if fresh {
            record.append(&Line::Batch {
                scope: scope.to_owned(),
            })?;
            sync_dir(dir).map_err(|e| journal(e.to_string()))?;
        }
        Ok((record, state))
    }

    /// The log's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The resume journal of the file at `remote_path` (its name first, for people listing the
    /// directory).
    pub(crate) fn journal_for(&self, remote_path: &str) -> PathBuf {
        let name: String = remote_path
            .rsplit('/')
            .next()
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
        let key = short_hex(&[&self.scope, remote_path]);
        self.dir.join(format!("{name}-{key}.journal"))
    }

    pub(crate) fn folder(&mut self, path: &str, token: &str) -> Result<(), BatchError> {
        self.append(&Line::Folder {
            path: path.to_owned(),
            token: token.to_owned(),
        })
    }

    pub(crate) fn listed(&mut self, folder: &str, children: Vec<String>) -> Result<(), BatchError> {
        self.append(&Line::Listed {
            folder: folder.to_owned(),
            children,
        })
    }

    pub(crate) fn started(&mut self, path: &str) -> Result<(), BatchError> {
        self.append(&Line::Started {
            path: path.to_owned(),
        })
    }

    pub(crate) fn done(&mut self, path: &str, done: &Done) -> Result<(), BatchError> {
        self.append(&Line::Done {
            path: path.to_owned(),
            token: done.token.clone(),
            size: done.size,
            modified: done.modified,
        })
    }

    /// Appends `line` and syncs it: the batch acts on nothing the disk does not hold.
    fn append(&mut self, line: &Line) -> Result<(), BatchError> {
        let mut bytes = serde_json::to_vec(line).map_err(|e| self.error(e.to_string()))?;
        bytes.push(b'\n');
        self.file
            .write_all(&bytes)
            .and_then(|()| self.file.sync_data())
            .map_err(|e| self.error(e.to_string()))
    }

    fn error(&self, reason: String) -> BatchError {
        BatchError::Journal {
            path: self.path.clone(),
            reason,
        }
    }
}

impl Drop for Record {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

/// Replays the log. A last line without its newline is a write a kill cut short (nothing acted
/// on it): it is cut off, so the next line starts clean. Any other bad line means the file is
/// not this batch's log.
fn replay(file: &mut File, scope: &str) -> Result<State, String> {
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(file, &mut bytes).map_err(|e| e.to_string())?;
    let complete = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    if complete < bytes.len() {
        file.set_len(complete as u64).map_err(|e| e.to_string())?;
        bytes.truncate(complete);
    }
    let mut state = State::default();
    for (number, text) in bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()).enumerate() {
        match serde_json::from_slice::<Line>(text) {
            Ok(Line::Batch { scope: theirs }) if theirs != scope => {
                return Err(format!(
                    "it is the journal of another batch ({theirs}); delete it to start afresh"
                ));
            }
            Ok(line) => state.apply(line),
            Err(e) => {
                return Err(format!(
                    "line {} is not a batch journal line ({e}); delete the file to start the batch afresh",
                    number + 1
                ));
            }
        }
    }
    Ok(state)
}

/// 16 hex digits of the SHA-256 of `parts`, separated by NULs.
fn short_hex(parts: &[&str]) -> String {
    let mut hash = Sha256::new();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            hash.update([0]);
        }
        hash.update(part.as_bytes());
    }
    hash.finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Journals name documents and folders: the directory is the owner's alone.
fn create_private_dir(dir: &Path) -> Result<(), BatchError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|e| BatchError::Journal {
        path: dir.to_owned(),
        reason: e.to_string(),
    })
}

/// A new log's directory entry survives a crash too.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn done(token: &str) -> Done {
        Done {
            token: token.to_owned(),
            size: 3,
            modified: Some(7),
        }
    }

    #[test]
    fn the_log_replays_across_opens_and_belongs_to_one_scope() {
        let dir = tempfile::tempdir().expect("temp dir");
        {
            let (mut record, state) = Record::open(dir.path(), "a").expect("open");
            assert!(state.done.is_empty());
            record.folder("x", "fld1").expect("folder");
            record.started("x/f").expect("started");
            record.done("x/f", &done("box1")).expect("done");
            record.started("x/g").expect("started");
        }
        let (record, state) = Record::open(dir.path(), "a").expect("reopen");
        assert_eq!(state.folders.get("x").map(String::as_str), Some("fld1"));
        assert_eq!(state.done.get("x/f"), Some(&done("box1")));
        assert!(state.started.contains("x/g") && !state.started.contains("x/f"));
        // A second run of the same batch is refused while the first holds the log.
        let again = Record::open(dir.path(), "a").expect_err("locked");
        assert!(again.to_string().contains("another run"), "{again}");
        drop(record);
        // Another scope has another log (and another resume journal per file).
        let (other, state) = Record::open(dir.path(), "b").expect("other");
        assert!(state.done.is_empty());
        let (first, _) = Record::open(dir.path(), "a").expect("reopen a");
        assert_ne!(first.journal_for("x/f"), other.journal_for("x/f"));
    }

    #[test]
    fn a_torn_last_line_is_ignored_and_a_bad_middle_line_is_an_error() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = {
            let (mut record, _) = Record::open(dir.path(), "a").expect("open");
            record.done("f", &done("box1")).expect("done");
            record.path().to_owned()
        };
        let mut bytes = std::fs::read(&path).expect("read");
        bytes.extend_from_slice(br#"{"event":"done","path":"g","tok"#);
        std::fs::write(&path, &bytes).expect("tear");
        {
            let (mut record, state) = Record::open(dir.path(), "a").expect("a torn tail is cut");
            assert!(state.done.contains_key("f") && !state.done.contains_key("g"));
            record.done("h", &done("box2")).expect("appends after the cut");
        }
        let (_, state) = Record::open(dir.path(), "a").expect("the line after the cut reads");
        assert!(state.done.contains_key("h"));
        let mut text = std::fs::read_to_string(&path).expect("read");
        text = text.replacen("\n", "\nnot json\n", 1);
        std::fs::write(&path, text).expect("corrupt");
        let error = Record::open(dir.path(), "a").expect_err("a bad middle line");
        assert!(error.to_string().contains("delete the file"), "{error}");
    }

    #[test]
    fn a_log_names_its_batch_once_and_another_batch_refuses_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = {
            let (mut record, _) = Record::open(dir.path(), "a").expect("open");
            record.started("f").expect("started");
            record.path().to_owned()
        };
        drop(Record::open(dir.path(), "a").expect("reopen"));
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(text.starts_with(r#"{"event":"batch","scope":"a"}"#), "{text}");
        assert_eq!(text.matches(r#""event":"batch""#).count(), 1, "{text}");
        // The same lines where another batch's log belongs: refused, not replayed as its own.
        let other = Record::open(dir.path(), "b").expect("open b").0.path().to_owned();
        std::fs::copy(&path, &other).expect("copy");
        let error = Record::open(dir.path(), "b").expect_err("another batch's log");
        assert!(error.to_string().contains("another batch"), "{error}");
    }

    #[test]
    fn a_resume_journal_is_named_after_the_file_with_only_safe_characters() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (record, _) = Record::open(dir.path(), "a").expect("open");
        let journal = record.journal_for("docs/my report: v2-final.txt");
        let name = journal.file_name().and_then(|n| n.to_str()).expect("a name");
        assert!(
            name.starts_with("my_report__v2-final.txt-") && name.ends_with(".journal"),
            "{name}"
        );
        assert_eq!(journal.parent(), Some(dir.path()));
    }
}
