//! Where a batch keeps its journals between runs when `--journal` does not say: the library's
//! batch journal (files done, folders made) and one resume journal per file in progress, so the
//! same command run again neither uploads a finished file twice nor starts a half-sent one over.

use std::path::PathBuf;

/// The default journal directory: `$XDG_STATE_HOME/feishu-drive/journals`, or
/// `~/.local/state/feishu-drive/journals`.
pub fn default_journal_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_STATE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".local").join("state")))?;
    Some(base.join("feishu-drive").join("journals"))
}
