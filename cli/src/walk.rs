//! The paths of `upload` and `plan` into one batch request: into a Drive folder a directory is
//! mirrored (the library's `BatchRequest::tree`); attached as media (a doc has no folders) its
//! files are walked flat: files only, in name order, symbolic links inside the tree not followed.

use std::path::{Path, PathBuf};

use feishu_drive::batch::BatchRequest;

use crate::exit::CliError;

/// Adds `paths` to `request`: a file as it is, a directory as a tree into a Drive folder
/// (`into_folder`) or as its files, walked flat, for media.
pub fn add_paths(
    mut request: BatchRequest,
    paths: &[PathBuf],
    into_folder: bool,
) -> Result<BatchRequest, CliError> {
    for path in paths {
        let metadata = std::fs::metadata(path).map_err(|e| CliError::BadPath {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        request = match (metadata.is_dir(), into_folder) {
            (true, true) => request.tree(path),
            (true, false) => files_under(path)?
                .iter()
                .try_fold(request, |r, file| r.file(file)),
            (false, _) => request.file(path),
        }
        .map_err(CliError::Batch)?;
    }
    Ok(request)
}

/// The files under the directory `dir`, in name order.
fn files_under(dir: &Path) -> Result<Vec<PathBuf>, CliError> {
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
