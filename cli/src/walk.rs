//! The files a command names: files as given, directories walked (files only, in name order,
//! symbolic links inside a tree not followed), each file once.

use std::collections::HashSet;
use std::path::PathBuf;

use crate::exit::CliError;

/// One file to upload or plan.
#[derive(Debug, Clone)]
pub struct FileItem {
    /// The path as the user gave it (or as walked from it): what events show.
    pub path: PathBuf,
    /// The canonical path: what journals and the batch record are keyed by.
    pub canonical: PathBuf,
    /// Its size in bytes when listed.
    pub size: u64,
}

/// The files under `paths`, in order, without repeats.
pub fn collect(paths: &[PathBuf]) -> Result<Vec<FileItem>, CliError> {
    let mut files = Vec::new();
    let mut seen = HashSet::new();
    for path in paths {
        let metadata = std::fs::metadata(path).map_err(|e| CliError::BadPath {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        if metadata.is_dir() {
            for entry in walkdir::WalkDir::new(path).sort_by_file_name() {
                let entry = entry.map_err(|e| CliError::BadPath {
                    path: e.path().map_or_else(|| path.clone(), PathBuf::from),
                    reason: e.to_string(),
                })?;
                if entry.file_type().is_file() {
                    push(&mut files, &mut seen, entry.path().to_path_buf())?;
                }
            }
        } else if metadata.is_file() {
            push(&mut files, &mut seen, path.clone())?;
        } else {
            return Err(CliError::BadPath {
                path: path.clone(),
                reason: "neither a file nor a directory".to_owned(),
            });
        }
    }
    if files.is_empty() {
        return Err(CliError::Usage(
            "no files to upload: the directories given hold none".to_owned(),
        ));
    }
    Ok(files)
}

fn push(files: &mut Vec<FileItem>, seen: &mut HashSet<PathBuf>, path: PathBuf) -> Result<(), CliError> {
    let bad = |e: std::io::Error| CliError::BadPath {
        path: path.clone(),
        reason: e.to_string(),
    };
    let canonical = std::fs::canonicalize(&path).map_err(bad)?;
    let size = std::fs::metadata(&canonical).map_err(bad)?.len();
    if seen.insert(canonical.clone()) {
        files.push(FileItem {
            path,
            canonical,
            size,
        });
    }
    Ok(())
}
