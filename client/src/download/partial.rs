//! The partial file a download writes: a temporary file next to the destination, what the
//! responses so far said about the media, and the durable rename at the end.

use std::path::{Path, PathBuf};

use tokio::io::{AsyncSeekExt, AsyncWriteExt};

use super::DownloadError;

/// The temporary file and what the responses so far said about the media.
pub(super) struct State {
    pub(super) path: PathBuf,
    pub(super) file: tokio::fs::File,
    pub(super) written: u64,
    pub(super) total: Option<u64>,
    pub(super) media_type: Option<String>,
    pub(super) file_name: Option<String>,
}

impl State {
    pub(super) async fn open(path: &Path, resume: bool) -> Result<State, DownloadError> {
        let io = |source| DownloadError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut file = tokio::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(path)
            .await
            .map_err(io)?;
        let written = if resume {
            file.metadata().await.map_err(io)?.len()
        } else {
            file.set_len(0).await.map_err(io)?;
            0
        };
        file.seek(std::io::SeekFrom::Start(written)).await.map_err(io)?;
        Ok(State {
            path: path.to_path_buf(),
            file,
            written,
            total: None,
            media_type: None,
            file_name: None,
        })
    }

    pub(super) fn io(&self, source: std::io::Error) -> DownloadError {
        DownloadError::Io {
            path: self.path.clone(),
            source,
        }
    }

    pub(super) async fn restart(&mut self) -> Result<(), DownloadError> {
        self.file.set_len(0).await.map_err(|e| self.io(e))?;
        self.file
            .seek(std::io::SeekFrom::Start(0))
            .await
            .map_err(|e| self.io(e))?;
        self.written = 0;
        Ok(())
    }

    pub(super) async fn write(&mut self, chunk: &[u8]) -> Result<(), DownloadError> {
        self.file.write_all(chunk).await.map_err(|e| self.io(e))?;
        self.written += chunk.len() as u64;
        Ok(())
    }

    pub(super) async fn finish(&mut self) -> Result<(), DownloadError> {
        self.file.flush().await.map_err(|e| self.io(e))?;
        self.file.sync_all().await.map_err(|e| self.io(e))?;
        let len = self.file.metadata().await.map_err(|e| self.io(e))?.len();
        if len != self.written {
            return Err(DownloadError::LengthMismatch {
                what: "file on disk",
                expected: self.written,
                actual: len,
            });
        }
        Ok(())
    }
}

/// Makes a rename durable (on Unix a directory can be opened and synced; elsewhere this is a
/// no-op, and failures are not fatal: the file itself is synced).
pub(super) async fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = tokio::fs::File::open(dir).await {
        let _ = d.sync_all().await;
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// Gives the complete file at `temp` its final name `path`. With `replace`, a file already
/// there is replaced (one atomic rename). Without, it is kept: a hard link takes the name only
/// if it is free, at the moment of linking (a check before a rename would leave a window for a
/// file that appears meanwhile), then the temporary name goes. When linking fails, a file at
/// the name (the usual reason) is kept; only a file system without hard links, with the name
/// free, gets the check and a rename.
pub(super) async fn take_name(temp: &Path, path: &Path, replace: bool) -> Result<(), DownloadError> {
    let io = |source| DownloadError::Io {
        path: path.to_path_buf(),
        source,
    };
    if replace {
        return tokio::fs::rename(temp, path).await.map_err(io);
    }
    match tokio::fs::hard_link(temp, path).await {
        Ok(()) => tokio::fs::remove_file(temp).await.map_err(io),
        Err(_) if tokio::fs::try_exists(path).await.unwrap_or(true) => {
            // The name is taken: the download goes, the file there stays.
            let _ = tokio::fs::remove_file(temp).await;
            Err(DownloadError::Exists {
                path: path.to_path_buf(),
            })
        }
        Err(_) => tokio::fs::rename(temp, path).await.map_err(io),
    }
}
