//! Where block bytes come from: a file read at offsets (any block, any order, again after a
//! restart) or a stream read front to back (each block once).
//!
//! Each worker takes the next pending block and reads only it, so memory stays at most
//! `concurrency × block_size` whatever the file size.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use simd_adler32::Adler32;
use tokio::io::{AsyncRead, AsyncReadExt};

use super::UploadError;

/// The block layout of a chunked upload, as `upload_prepare` returned it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Layout {
    pub(crate) size: u64,
    pub(crate) block_size: u64,
    pub(crate) block_num: u64,
}

impl Layout {
    /// The documented rule: `block_num = ceil(size / block_size)`.
    pub(crate) fn new(size: u64, block_size: u64, block_num: u64) -> Result<Self, UploadError> {
        if block_size == 0 {
            return Err(UploadError::Protocol(
                "upload_prepare returned block_size 0".to_owned(),
            ));
        }
        let expected = size.div_ceil(block_size);
        if block_num != expected {
            return Err(UploadError::Protocol(format!(
                "upload_prepare returned block_num {block_num} for {size} bytes in blocks of {block_size}; expected {expected}"
            )));
        }
        Ok(Self {
            size,
            block_size,
            block_num,
        })
    }

    pub(crate) fn offset(&self, seq: u64) -> u64 {
        seq * self.block_size
    }

    pub(crate) fn len(&self, seq: u64) -> u64 {
        self.block_size.min(self.size - self.offset(seq))
    }
}

/// One block's bytes, read, with their Adler-32.
#[derive(Debug)]
pub(crate) struct Block {
    pub(crate) seq: u64,
    pub(crate) bytes: Bytes,
    pub(crate) adler32: u32,
}

/// A file, read block by block at offsets.
#[derive(Debug)]
pub(crate) struct FileBlocks {
    path: PathBuf,
    file: Arc<std::fs::File>,
    layout: Layout,
    pending: std::sync::Mutex<VecDeque<u64>>,
}

impl FileBlocks {
    pub(crate) fn new(path: PathBuf, file: Arc<std::fs::File>, layout: Layout, pending: Vec<u64>) -> Self {
        Self {
            path,
            file,
            layout,
            pending: std::sync::Mutex::new(pending.into()),
        }
    }

    /// The next pending block, read from disk into `spare` when it is big enough; `None` when
    /// every block was handed out.
    pub(crate) async fn next_block(&self, spare: Option<BytesMut>) -> Result<Option<Block>, UploadError> {
        let Some(seq) = self.pending.lock().unwrap_or_else(|p| p.into_inner()).pop_front() else {
            return Ok(None);
        };
        let (offset, len) = (self.layout.offset(seq), self.layout.len(seq));
        let (bytes, adler32) = read_block(&self.path, &self.file, offset, len, spare).await?;
        Ok(Some(Block { seq, bytes, adler32 }))
    }
}

/// Bytes per positional read. Each piece is checksummed right after it is read, while it is
/// still in the CPU's cache: checksumming a whole 4 MiB block after reading it fetched it back
/// from memory, and a profile of the upload bench put Adler-32 at 14 % of the client's CPU.
const READ_PIECE: usize = 256 * 1024;

/// Reads `len` bytes at `offset` on the blocking pool (positional reads need no shared cursor,
/// so workers read different blocks at once) into a buffer a finished block left behind, and
/// returns them with their Adler-32. Reusing the buffer spares a fresh 4 MiB allocation per
/// block, whose zero-filling and page faults cost more CPU than the checksum.
pub(crate) async fn read_block(
    path: &std::path::Path,
    file: &Arc<std::fs::File>,
    offset: u64,
    len: u64,
    spare: Option<BytesMut>,
) -> Result<(Bytes, u32), UploadError> {
    let (bytes, adler) = read_summing(path, file, offset, len, spare, Adler32::new()).await?;
    Ok((bytes, adler.finish()))
}

/// [`read_block`] that goes on with a running checksum, so bytes read in several reads (the
/// journal's first and last MiB) are checksummed once, as one run.
pub(crate) async fn read_summing(
    path: &std::path::Path,
    file: &Arc<std::fs::File>,
    offset: u64,
    len: u64,
    spare: Option<BytesMut>,
    mut adler: Adler32,
) -> Result<(Bytes, Adler32), UploadError> {
    let file = Arc::clone(file);
    let len = usize::try_from(len).map_err(|_| UploadError::Protocol(format!("block of {len} bytes")))?;
    let read = tokio::task::spawn_blocking(move || {
        let mut buf = match spare {
            // Its bytes are initialised (a previous block), so shortening it needs no zeroing.
            Some(mut spare) if spare.len() >= len => {
                spare.truncate(len);
                spare
            }
            _ => BytesMut::zeroed(len),
        };
        read_and_sum(&file, &mut buf, offset, &mut adler).map(|()| (buf.freeze(), adler))
    })
    .await
    .map_err(|e| UploadError::Unreadable {
        path: path.to_owned(),
        source: std::io::Error::other(e),
    })?;
    read.map_err(|e| match e.kind() {
        std::io::ErrorKind::UnexpectedEof => UploadError::FileChanged {
            path: path.to_owned(),
            when: "during the upload",
            what: format!("it ended before byte {}", offset + len as u64),
        },
        _ => UploadError::Unreadable {
            path: path.to_owned(),
            source: e,
        },
    })
}

/// Fills `buf` from `offset`, piece by piece, feeding each piece to `adler`.
fn read_and_sum(
    file: &std::fs::File,
    buf: &mut [u8],
    offset: u64,
    adler: &mut Adler32,
) -> std::io::Result<()> {
    use std::os::unix::fs::FileExt;
    let mut at = offset;
    for piece in buf.chunks_mut(READ_PIECE) {
        file.read_exact_at(piece, at)?;
        adler.write(piece);
        at += piece.len() as u64;
    }
    Ok(())
}

/// A stream of known size, read front to back; each block can be read once.
pub(crate) struct StreamBlocks {
    state: tokio::sync::Mutex<StreamState>,
    layout: Layout,
}

struct StreamState {
    reader: Box<dyn AsyncRead + Send + Unpin>,
    next: u64,
}

impl std::fmt::Debug for StreamBlocks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamBlocks")
            .field("layout", &self.layout)
            .finish_non_exhaustive()
    }
}

impl StreamBlocks {
    pub(crate) fn new(reader: Box<dyn AsyncRead + Send + Unpin>, layout: Layout) -> Self {
        Self {
            state: tokio::sync::Mutex::new(StreamState { reader, next: 0 }),
            layout,
        }
    }

    /// The next block of the stream, in order; `None` after the last one.
    pub(crate) async fn next_block(&self) -> Result<Option<Block>, UploadError> {
        let mut state = self.state.lock().await;
        let seq = state.next;
        if seq == self.layout.block_num {
            ensure_ended(&mut *state.reader, self.layout.size).await?;
            return Ok(None);
        }
        let bytes = read_exact(&mut state.reader, self.layout.len(seq), self.layout.size).await?;
        state.next += 1;
        let adler32 = crate::checksum::adler32(&bytes);
        Ok(Some(Block { seq, bytes, adler32 }))
    }
}

/// Reads exactly `len` bytes of a stream whose declared size is `size`.
pub(crate) async fn read_exact(
    reader: &mut (dyn AsyncRead + Send + Unpin),
    len: u64,
    size: u64,
) -> Result<Bytes, UploadError> {
    let len = usize::try_from(len).map_err(|_| UploadError::ReaderSize(format!("block of {len} bytes")))?;
    let mut buf = BytesMut::zeroed(len);
    reader.read_exact(&mut buf).await.map_err(|e| match e.kind() {
        std::io::ErrorKind::UnexpectedEof => {
            UploadError::ReaderSize(format!("ended before the declared {size} bytes"))
        }
        _ => stream_error(e),
    })?;
    Ok(buf.freeze())
}

/// The declared size is reached: the stream must end here, or bytes would be lost.
pub(crate) async fn ensure_ended(
    reader: &mut (dyn AsyncRead + Send + Unpin),
    size: u64,
) -> Result<(), UploadError> {
    let mut probe = [0_u8; 1];
    match reader.read(&mut probe).await.map_err(stream_error)? {
        0 => Ok(()),
        _ => Err(UploadError::ReaderSize(format!(
            "has more than the declared {size} bytes"
        ))),
    }
}

fn stream_error(e: std::io::Error) -> UploadError {
    UploadError::Unreadable {
        path: PathBuf::from("<stream>"),
        source: e,
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::Arc;

    use bytes::BytesMut;

    use super::{READ_PIECE, read_block};

    /// Bytes that differ from piece to piece, so a piece read at the wrong offset or checksummed
    /// twice changes the result.
    fn pattern(len: usize) -> Vec<u8> {
        (0..len)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 7) as u8)
            .collect()
    }

    /// The piecewise read-and-checksum against the `adler32` crate (the oracle) over the same
    /// bytes, for blocks shorter than a piece, exactly a piece, and not a multiple of one, at
    /// offsets inside the file, into fresh and reused (longer, dirty) buffers.
    #[tokio::test]
    async fn a_block_is_read_whole_and_its_checksum_is_the_oracles() {
        let contents = pattern(3 * READ_PIECE + 12_345);
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        file.write_all(&contents).expect("write");
        let path = file.path().to_owned();
        let opened = Arc::new(std::fs::File::open(&path).expect("open"));
        let cases = [
            (0, 1),
            (0, READ_PIECE),
            (7, READ_PIECE + 1),
            (100, 2 * READ_PIECE + 999),
            (0, contents.len()),
            (contents.len() - 5, 5),
        ];
        for (offset, len) in cases {
            for spare in [None, Some(BytesMut::from(&[0xAA_u8; 4 * READ_PIECE][..]))] {
                let (bytes, adler) = read_block(&path, &opened, offset as u64, len as u64, spare)
                    .await
                    .expect("read");
                let expected = &contents[offset..offset + len];
                assert_eq!(&bytes[..], expected, "bytes at {offset}+{len}");
                let oracle = adler32::adler32(expected).expect("in-memory read");
                assert_eq!(adler, oracle, "checksum at {offset}+{len}");
            }
        }
    }

    /// A file that is shorter than the block asked for is a changed file, not a short block.
    #[tokio::test]
    async fn a_file_that_ends_early_is_reported_as_changed() {
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        file.write_all(&pattern(READ_PIECE + 10)).expect("write");
        let path = file.path().to_owned();
        let opened = Arc::new(std::fs::File::open(&path).expect("open"));
        let error = read_block(&path, &opened, 0, 2 * READ_PIECE as u64, None)
            .await
            .expect_err("the file is too short");
        assert!(
            matches!(error, super::UploadError::FileChanged { .. }),
            "{error:?}"
        );
    }
}
