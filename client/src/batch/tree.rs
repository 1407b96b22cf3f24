//! The Drive folders of a batch: the target listed once, and each sub-folder of the trees found
//! in its parent's listing or made, once, as soon as its parent is ready (files already upload
//! meanwhile), with what each held before the batch recorded in the journal.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use futures::future::{BoxFuture, FutureExt, Shared};

use super::folders::{self, Child, Kind};
use super::outcome::{BatchError, BatchEvent, FileError};
use super::request::{BatchRequest, join};
use super::shared::{Run, journal_failed};

/// A folder of the batch, once found or made.
#[derive(Debug)]
pub(super) struct Folder {
    pub(super) token: String,
    /// Its children now, when it was listed (or made: then none).
    pub(super) children: Option<Vec<Child>>,
    /// The children it had before this batch put anything in it.
    pub(super) before: HashSet<String>,
}

pub(super) type FolderResult = Result<Arc<Folder>, Arc<FileError>>;
pub(super) type FolderFuture = Shared<BoxFuture<'static, FolderResult>>;

impl Run {
    /// The target folder, listed, and a future per sub-folder that finds or makes it once its
    /// parent is ready.
    pub(super) async fn folders(
        self: Arc<Self>,
        root: &str,
        request: &BatchRequest,
    ) -> Result<HashMap<Vec<String>, FolderFuture>, BatchError> {
        let children = match self.lists {
            true => Some(
                folders::list(&self.client, root)
                    .await
                    .map_err(BatchError::Listing)?
                    .0,
            ),
            false => None,
        };
        let before = self.before(root, children.as_deref(), false)?;
        let top = Arc::new(Folder {
            token: root.to_owned(),
            children,
            before,
        });
        let mut all: HashMap<Vec<String>, FolderFuture> = HashMap::new();
        all.insert(Vec::new(), futures::future::ready(Ok(top)).boxed().shared());
        for path in request.all_folders() {
            let parent = all[&path[..path.len() - 1]].clone();
            let future = self.clone().folder(path.clone(), parent).boxed().shared();
            all.insert(path, future);
        }
        Ok(all)
    }

    /// What `folder` held before this batch put anything in it: what the journal recorded the
    /// first time, or (recorded now) its children, or nothing for a folder just made.
    fn before(
        &self,
        folder: &str,
        children: Option<&[Child]>,
        made: bool,
    ) -> Result<HashSet<String>, BatchError> {
        if let Some(recorded) = self.earlier.listed.get(folder) {
            return Ok(recorded.clone());
        }
        let tokens: Vec<String> = match (made, children) {
            (true, _) | (false, None) => Vec::new(),
            (false, Some(children)) => children.iter().map(|c| c.token.clone()).collect(),
        };
        if made || children.is_some() {
            self.journal(|r| r.listed(folder, tokens.clone()))?;
        }
        Ok(tokens.into_iter().collect())
    }

    /// Finds or makes the folder `path` once its parent is ready.
    async fn folder(self: Arc<Self>, path: Vec<String>, parent: FolderFuture) -> FolderResult {
        let parent = parent.await?;
        let key = join(&path, None);
        let failed = |e: crate::ApiError| {
            Arc::new(FileError::Folder {
                folder: key.clone(),
                source: Arc::new(e),
            })
        };
        let name = path.last().map(String::as_str).unwrap_or_default();
        let found = self.earlier.folders.get(&key).cloned().or_else(|| {
            let children = parent.children.as_deref()?;
            let found = children
                .iter()
                .find(|c| c.kind == Kind::Folder && c.name == name)?;
            Some(found.token.clone())
        });
        let made = found.is_none();
        let token = match found {
            Some(token) => token,
            None => folders::create(&self.client, &parent.token, name)
                .await
                .map_err(failed)?,
        };
        if !self.earlier.folders.contains_key(&key) {
            self.journal(|r| r.folder(&key, &token)).map_err(journal_failed)?;
        }
        if made {
            self.folders_created.fetch_add(1, Ordering::Relaxed);
        }
        let children = match (made, self.lists) {
            (true, _) => Some(Vec::new()),
            (false, true) => Some(
                folders::list(&self.client, &token)
                    .await
                    .map_err(|e| {
                        Arc::new(FileError::Listing {
                            folder: key.clone(),
                            source: Arc::new(e),
                        })
                    })?
                    .0,
            ),
            (false, false) => None,
        };
        let before = self
            .before(&token, children.as_deref(), made)
            .map_err(journal_failed)?;
        self.emit(&BatchEvent::FolderReady {
            folder: &key,
            token: &token,
            created: made,
        });
        Ok(Arc::new(Folder {
            token,
            children,
            before,
        }))
    }
}
