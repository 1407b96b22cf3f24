//! What a resumed upload trusts, checked: the file's identity, and every confirmed block's bytes.

use std::path::Path;

use bytes::BytesMut;
use simd_adler32::Adler32;

use super::UploadError;
use super::journal::FileIdentity;
use super::request::{Opened, mtime_ns};
use super::source::{self, Layout};

/// The identity a journal records: size, mtime and the Adler-32 of the first and last MiB.
pub(super) async fn identify(path: &Path, opened: &Opened) -> Result<FileIdentity, UploadError> {
    const EDGE: u64 = 1024 * 1024;
    let head_len = opened.size.min(EDGE);
    let (_, adler) = source::read_summing(path, &opened.file, 0, head_len, None, Adler32::new()).await?;
    let tail_start = opened.size.saturating_sub(EDGE).max(head_len);
    let len = opened.size - tail_start;
    let (_, adler) = source::read_summing(path, &opened.file, tail_start, len, None, adler).await?;
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

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::identify;
    use crate::upload::request::open_file;

    const MIB: usize = 1024 * 1024;

    /// The journal's edge checksum is the Adler-32 of the first MiB followed by the last MiB
    /// (the whole file, once, when it is under 2 MiB), checked against the `adler32` crate over
    /// those bytes: journals written before and after a change of the read path must agree.
    #[tokio::test]
    async fn the_edge_checksum_covers_the_first_and_last_mib_once() {
        for size in [0, 1, MIB - 1, MIB + 17, 2 * MIB, 3 * MIB + 12_345] {
            let contents: Vec<u8> = (0..size)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 9) as u8)
                .collect();
            let mut file = tempfile::NamedTempFile::new().expect("temp file");
            file.write_all(&contents).expect("write");
            let opened = open_file(file.path()).expect("open");
            let identity = identify(file.path(), &opened).await.expect("identify");
            let edges = if size <= 2 * MIB {
                contents.clone()
            } else {
                [&contents[..MIB], &contents[size - MIB..]].concat()
            };
            let oracle = adler32::adler32(&edges[..]).expect("in-memory read");
            assert_eq!(identity.edge_checksum, oracle, "size {size}");
            assert_eq!(identity.size, size as u64);
        }
    }
}
