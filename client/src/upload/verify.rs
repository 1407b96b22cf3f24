//! What a resumed upload trusts, checked: the file's identity, and every confirmed block's bytes.

use std::path::Path;

use bytes::BytesMut;

use super::UploadError;
use super::journal::FileIdentity;
use super::request::{Opened, mtime_ns};
use super::source::{self, Layout};

/// The identity a journal records: size, mtime and the Adler-32 of the first and last MiB.
pub(super) async fn identify(path: &Path, opened: &Opened) -> Result<FileIdentity, UploadError> {
    const EDGE: u64 = 1024 * 1024;
    let head = source::read_at(path, &opened.file, 0, opened.size.min(EDGE)).await?;
    let tail_start = opened.size.saturating_sub(EDGE).max(head.len() as u64);
    let tail = source::read_at(path, &opened.file, tail_start, opened.size - tail_start).await?;
    let mut adler = simd_adler32::Adler32::new();
    adler.write(&head);
    adler.write(&tail);
    Ok(FileIdentity {
        size: opened.size,
        mtime_ns: opened.mtime_ns,
        edge_checksum: adler.finish(),
    })
}

/// Re-reads every confirmed block and returns those whose Adler-32 no longer matches what was
/// sent. One block in memory at a time.
pub(super) async fn changed_blocks(
    path: &Path,
    opened: &Opened,
    layout: Layout,
    confirmed: &[(u64, u32)],
) -> Result<Vec<u64>, UploadError> {
    let mut changed = Vec::new();
    let mut spare: Option<BytesMut> = None;
    for &(seq, expected) in confirmed {
        let (bytes, adler) = source::read_block(
            path,
            &opened.file,
            layout.offset(seq),
            layout.len(seq),
            spare.take(),
        )
        .await?;
        if adler != expected {
            changed.push(seq);
        }
        spare = bytes.try_into_mut().ok();
    }
    Ok(changed)
}

/// Fails if the file's size or modification time moved since it was opened.
pub(super) fn check_unchanged(path: &Path, opened: &Opened, when: &'static str) -> Result<(), UploadError> {
    let metadata = std::fs::metadata(path).map_err(|source| UploadError::Unreadable {
        path: path.to_owned(),
        source,
    })?;
    if metadata.len() != opened.size {
        return Err(UploadError::FileChanged {
            path: path.to_owned(),
            when,
            what: format!("size {} → {}", opened.size, metadata.len()),
        });
    }
    if mtime_ns(&metadata) != opened.mtime_ns {
        return Err(UploadError::FileChanged {
            path: path.to_owned(),
            when,
            what: "it was modified".to_owned(),
        });
    }
    Ok(())
}
