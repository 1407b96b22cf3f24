//! The files of a directory attached as media (a doc has no folders, so a tree is walked flat):
//! files only, in name order, symbolic links inside the tree not followed. Into a Drive folder,
//! the library's `BatchRequest::tree` mirrors a tree instead.

use std::path::{Path, PathBuf};

use crate::exit::CliError;

/// The files under the directory `dir`, in name order.
pub fn files_under(dir: &Path) -> Result<Vec<PathBuf>, CliError> {
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.map_err(|e| CliError::BadPath {
            path: e.path().map_or_else(|| dir.to_owned(), PathBuf::from),
            reason: e.to_string(),
        })?;
        if entry.file_type().is_file() {
            files.push(entry.into_path());
        }
    }
    Ok(files)
}
