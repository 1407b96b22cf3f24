//! Drive: the folder tree and the files in it, with their versions.
//!
//! One root folder, made at the first start (and kept in the data directory, so its token stays
//! the same across restarts of a kept directory), owned by nobody: anyone may upload into it or
//! make folders in it. A folder belongs to whoever made it, and so does a Drive file; someone
//! else gets 1061004 for adding to, listing or reading them. A file's versions keep its token; a
//! download reads the newest unless it names one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use feishu_drive::ErrorCode;

use crate::auth::{Identity, lock};
use crate::config::DriveLimits;
use crate::error::Failure;
use crate::storage::{FileMeta, FolderMeta, now_secs};

/// Where a Drive file is: a folder of the tree, or a wiki node (this server keeps no wiki, so
/// such files are stored and read back, never listed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Place {
    Folder(String),
    Wiki(String),
}

/// One Drive file: its versions, oldest first (never empty).
#[derive(Debug)]
struct DriveFile {
    versions: Vec<Arc<FileMeta>>,
    /// Creation order among files and folders (for files kept from an earlier run, the order
    /// they were finished in, after the kept folders).
    seq: u64,
}

impl DriveFile {
    fn newest(&self) -> Option<&Arc<FileMeta>> {
        self.versions.last()
    }
}

#[derive(Debug)]
struct Folder {
    meta: FolderMeta,
    /// 0 for the root.
    depth: u32,
}

/// A child of a folder, as `list_files` answers it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Node {
    pub(crate) token: String,
    pub(crate) name: String,
    pub(crate) is_folder: bool,
    pub(crate) parent: String,
    pub(crate) owner: Option<Identity>,
    pub(crate) created_secs: u64,
    pub(crate) modified_secs: u64,
    /// Creation order, to break ties between nodes made in the same second.
    seq: u64,
}

/// How `list_files` sorts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Order {
    pub(crate) by_created: bool,
    pub(crate) descending: bool,
}

#[derive(Debug, Default)]
struct Tree {
    folders: HashMap<String, Folder>,
    files: HashMap<String, DriveFile>,
    /// Each file's place (the place of its newest version).
    places: HashMap<String, Place>,
    next_seq: u64,
}

/// The folder tree and the Drive files.
#[derive(Debug)]
pub(crate) struct Drive {
    root: String,
    limits: DriveLimits,
    tree: Mutex<Tree>,
}

impl Drive {
    /// The tree an earlier run left (folders and file versions), with a root folder: the kept
    /// one, or a new one that the caller must save (returned).
    pub(crate) fn new(
        folders: Vec<FolderMeta>,
        files: Vec<FileMeta>,
        limits: DriveLimits,
        new_token: impl Fn() -> String,
    ) -> (Self, Option<FolderMeta>) {
        let mut tree = Tree::default();
        let kept_root = folders.iter().find(|f| f.parent.is_none()).cloned();
        let new_root = kept_root.is_none().then(|| FolderMeta {
            token: new_token(),
            name: String::new(),
            parent: None,
            owner: None,
            created_secs: now_secs(),
            seq: 0,
        });
        let root = kept_root
            .as_ref()
            .or(new_root.as_ref())
            .map(|f| f.token.clone())
            .unwrap_or_default();
        tree.next_seq = folders.iter().map(|f| f.seq + 1).max().unwrap_or(1);
        for meta in folders.into_iter().chain(new_root.clone()) {
            tree.folders.insert(meta.token.clone(), Folder { meta, depth: 0 });
        }
        tree.fix_depths();
        let mut files = files;
        files.sort_by_key(|m| m.created_secs);
        for meta in files {
            let place = Place::Folder(meta.parent_node.clone());
            let place = if meta.parent_type == WIKI {
                Place::Wiki(meta.parent_node.clone())
            } else {
                place
            };
            tree.insert_version(Arc::new(meta), place);
        }
        let drive = Self {
            root,
            limits,
            tree: Mutex::new(tree),
        };
        (drive, new_root)
    }

    /// The root folder's token.
    pub(crate) fn root(&self) -> &str {
        &self.root
    }

    /// The folder a file goes into, for `parent_node` (`""`: the root), if `who` may add to it:
    /// 1061044 when it does not exist, 1061004 when it is someone else's, 1062507 when it is
    /// full.
    pub(crate) fn upload_folder(&self, who: &Identity, parent_node: &str) -> Result<String, Failure> {
        let token = if parent_node.is_empty() {
            &self.root
        } else {
            parent_node
        };
        let tree = lock(&self.tree);
        let folder = tree.folders.get(token).ok_or_else(|| {
            Failure::new(
                ErrorCode::ParentNodeNotExist,
                format!("no folder {parent_node:?}"),
            )
        })?;
        may_write(&folder.meta, who)?;
        tree.room_for_one(token, &self.limits)?;
        Ok(token.to_owned())
    }

    /// Checks that `file_token` is a Drive file `who` may add a version to, in `place`.
    pub(crate) fn version_target(
        &self,
        who: &Identity,
        file_token: &str,
        place: &Place,
    ) -> Result<(), Failure> {
        let tree = lock(&self.tree);
        let file = tree
            .files
            .get(file_token)
            .and_then(DriveFile::newest)
            .ok_or_else(|| Failure::new(ErrorCode::NotFound, format!("no file {file_token:?}")))?;
        if let Some(owner) = &file.owner
            && owner != who
        {
            return Err(Failure::new(
                ErrorCode::Forbidden,
                format!("the file belongs to {owner}, not {who}"),
            ));
        }
        match tree.places.get(file_token) {
            Some(found) if found == place => Ok(()),
            _ => Err(Failure::params(format!(
                "file {file_token:?} is not in the parent node the request names"
            ))),
        }
    }

    /// Adds a finished version (or the first one) of a Drive file. A new file needs room in
    /// its folder (1062507): checked again here, since the folder may have filled since the
    /// upload started.
    pub(crate) fn add_version(&self, meta: Arc<FileMeta>, place: Place) -> Result<(), Failure> {
        let mut tree = lock(&self.tree);
        if let Place::Folder(folder) = &place
            && !tree.files.contains_key(&meta.file_token)
        {
            tree.room_for_one(folder, &self.limits)?;
        }
        tree.insert_version(meta, place);
        Ok(())
    }

    /// A version of a Drive file (the newest without `version`), or `None`.
    pub(crate) fn file(&self, token: &str, version: Option<&str>) -> Option<Arc<FileMeta>> {
        let tree = lock(&self.tree);
        let file = tree.files.get(token)?;
        match version {
            None => file.newest().cloned(),
            Some(v) => file
                .versions
                .iter()
                .find(|m| m.version.as_deref() == Some(v))
                .cloned(),
        }
    }

    /// Makes a folder named `name` in `parent` (`""`: the root), owned by `who`; the caller
    /// saves it. 1061003 for a parent that does not exist, 1061004 for someone else's, 1062506
    /// past the depth limit, 1062507 / 1062505 past the node limits.
    pub(crate) fn make_folder(
        &self,
        who: &Identity,
        parent: &str,
        name: &str,
        token: String,
    ) -> Result<FolderMeta, Failure> {
        let parent = if parent.is_empty() {
            self.root.clone()
        } else {
            parent.to_owned()
        };
        let mut tree = lock(&self.tree);
        let folder = tree
            .folders
            .get(&parent)
            .ok_or_else(|| Failure::new(ErrorCode::NotFound, format!("no folder {parent:?}")))?;
        may_write(&folder.meta, who)?;
        let depth = folder.depth + 1;
        if depth > self.limits.max_depth {
            return Err(Failure::new(
                ErrorCode::ParentNodeOutOfDepth,
                format!("folders nest at most {} deep", self.limits.max_depth),
            ));
        }
        tree.room_for_one(&parent, &self.limits)?;
        let seq = tree.next_seq;
        tree.next_seq += 1;
        let meta = FolderMeta {
            token: token.clone(),
            name: name.to_owned(),
            parent: Some(parent),
            owner: Some(who.clone()),
            created_secs: now_secs(),
            seq,
        };
        tree.folders.insert(
            token,
            Folder {
                meta: meta.clone(),
                depth,
            },
        );
        Ok(meta)
    }

    /// Forgets a folder whose record could not be saved.
    pub(crate) fn forget_folder(&self, token: &str) {
        lock(&self.tree).folders.remove(token);
    }

    /// The children of `folder` (`None`: the root) that `who` may list, sorted.
    pub(crate) fn children(
        &self,
        who: &Identity,
        folder: Option<&str>,
        order: Order,
    ) -> Result<Vec<Node>, Failure> {
        let token = folder.unwrap_or(&self.root);
        let tree = lock(&self.tree);
        let found = tree
            .folders
            .get(token)
            .ok_or_else(|| Failure::new(ErrorCode::NotFound, format!("no folder {token:?}")))?;
        may_write(&found.meta, who)?;
        let mut nodes = tree.children(token);
        nodes.sort_by(|a, b| {
            let key = |n: &Node| {
                (
                    if order.by_created {
                        n.created_secs
                    } else {
                        n.modified_secs
                    },
                    n.seq,
                )
            };
            let ordering = key(a).cmp(&key(b));
            if order.descending {
                ordering.reverse()
            } else {
                ordering
            }
        });
        Ok(nodes)
    }
}

/// The `parent_type` of a Drive file in a folder (the files family's `FileParentType`).
pub(crate) const EXPLORER: &str = "explorer";
/// The `parent_type` of a Drive file in a wiki.
pub(crate) const WIKI: &str = "wiki";

/// Whether `who` may add to (or list) `folder`: the root is everyone's, a folder its maker's.
fn may_write(folder: &FolderMeta, who: &Identity) -> Result<(), Failure> {
    match &folder.owner {
        Some(owner) if owner != who => Err(Failure::new(
            ErrorCode::Forbidden,
            format!("the folder belongs to {owner}, not {who}"),
        )),
        _ => Ok(()),
    }
}

impl Tree {
    /// Depth of every folder from its parent chain (a record whose chain does not reach the
    /// root is dropped: it cannot be placed).
    fn fix_depths(&mut self) {
        let tokens: Vec<String> = self.folders.keys().cloned().collect();
        let mut orphans = Vec::new();
        for token in tokens {
            let mut depth = 0u32;
            let mut at = token.clone();
            let reached_root = loop {
                match self.folders.get(&at).and_then(|f| f.meta.parent.clone()) {
                    None => break self.folders.contains_key(&at),
                    Some(parent) => {
                        depth += 1;
                        if depth as usize > self.folders.len() {
                            break false;
                        }
                        at = parent;
                    }
                }
            };
            match self.folders.get_mut(&token) {
                Some(folder) if reached_root => folder.depth = depth,
                _ => orphans.push(token),
            }
        }
        for token in orphans {
            tracing::warn!(folder = %token, "dropping a folder outside the tree");
            self.folders.remove(&token);
        }
    }

    fn insert_version(&mut self, meta: Arc<FileMeta>, place: Place) {
        let token = meta.file_token.clone();
        self.places.insert(token.clone(), place);
        let next_seq = &mut self.next_seq;
        self.files
            .entry(token)
            .or_insert_with(|| {
                let seq = *next_seq;
                *next_seq += 1;
                DriveFile {
                    versions: Vec::new(),
                    seq,
                }
            })
            .versions
            .push(meta);
    }

    fn node_count(&self) -> usize {
        self.folders.len() + self.files.len()
    }

    /// 1062507 when `folder` holds its maximum of children, 1062505 when the drive does.
    fn room_for_one(&self, folder: &str, limits: &DriveLimits) -> Result<(), Failure> {
        let children = self
            .folders
            .values()
            .filter(|f| f.meta.parent.as_deref() == Some(folder))
            .count()
            + self
                .places
                .values()
                .filter(|p| matches!(p, Place::Folder(f) if f == folder))
                .count();
        if children >= limits.max_children {
            return Err(Failure::new(
                ErrorCode::ParentNodeOutOfSiblingNum,
                format!("the folder holds {children} nodes, the most a folder holds"),
            ));
        }
        if self.node_count() >= limits.max_nodes {
            return Err(Failure::new(
                ErrorCode::ParentNodeOutOfSize,
                format!("the drive holds {} nodes, the most it holds", self.node_count()),
            ));
        }
        Ok(())
    }

    fn children(&self, folder: &str) -> Vec<Node> {
        let folders = self
            .folders
            .values()
            .filter(|f| f.meta.parent.as_deref() == Some(folder))
            .map(|f| Node {
                token: f.meta.token.clone(),
                name: f.meta.name.clone(),
                is_folder: true,
                parent: folder.to_owned(),
                owner: f.meta.owner.clone(),
                created_secs: f.meta.created_secs,
                modified_secs: f.meta.created_secs,
                seq: f.meta.seq,
            });
        let files = self.files.iter().filter_map(|(token, file)| {
            let in_folder = matches!(self.places.get(token), Some(Place::Folder(f)) if f == folder);
            let first = file.versions.first()?;
            let newest = file.newest()?;
            in_folder.then(|| Node {
                token: token.clone(),
                name: newest.file_name.clone(),
                is_folder: false,
                parent: folder.to_owned(),
                owner: first.owner.clone(),
                created_secs: first.created_secs,
                modified_secs: newest.created_secs,
                seq: file.seq,
            })
        });
        let mut nodes: Vec<Node> = folders.chain(files).collect();
        // A stable base order, so that equal keys always come out the same way.
        nodes.sort_by(|a, b| a.token.cmp(&b.token));
        nodes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> DriveLimits {
        DriveLimits {
            max_children: 3,
            max_depth: 2,
            max_nodes: 100,
        }
    }

    fn counter() -> impl Fn() -> String {
        let n = std::sync::atomic::AtomicU64::new(0);
        move || format!("fld{}", n.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
    }

    #[test]
    fn folders_nest_to_the_limit_and_belong_to_their_maker() {
        let (drive, root) = Drive::new(Vec::new(), Vec::new(), limits(), counter());
        let root = root.expect("a new root");
        assert_eq!(drive.root(), root.token);
        let alice = Identity::App("alice".into());
        let bob = Identity::App("bob".into());
        let a = drive
            .make_folder(&alice, "", "a", "fa".into())
            .expect("in the root");
        let b = drive
            .make_folder(&alice, &a.token, "b", "fb".into())
            .expect("depth 2");
        let deep = drive.make_folder(&alice, &b.token, "c", "fc".into());
        assert_eq!(
            deep.map_err(|f| f.code()).err(),
            Some(ErrorCode::ParentNodeOutOfDepth)
        );
        let theirs = drive.make_folder(&bob, &a.token, "x", "fx".into());
        assert_eq!(theirs.map_err(|f| f.code()).err(), Some(ErrorCode::Forbidden));
        let missing = drive.make_folder(&alice, "nope", "x", "fy".into());
        assert_eq!(missing.map_err(|f| f.code()).err(), Some(ErrorCode::NotFound));
        assert_eq!(drive.upload_folder(&bob, "").ok().as_deref(), Some(drive.root()));
        assert_eq!(
            drive.upload_folder(&bob, &a.token).map_err(|f| f.code()).err(),
            Some(ErrorCode::Forbidden)
        );
    }

    #[test]
    fn a_full_folder_takes_no_more() {
        let (drive, _) = Drive::new(Vec::new(), Vec::new(), limits(), counter());
        let who = Identity::App("a".into());
        for i in 0..3 {
            drive
                .make_folder(&who, "", &format!("{i}"), format!("f{i}"))
                .expect("room");
        }
        let full = drive.make_folder(&who, "", "3", "f3".into());
        assert_eq!(
            full.map_err(|f| f.code()).err(),
            Some(ErrorCode::ParentNodeOutOfSiblingNum)
        );
        assert_eq!(
            drive.upload_folder(&who, "").map_err(|f| f.code()).err(),
            Some(ErrorCode::ParentNodeOutOfSiblingNum)
        );
    }

    #[test]
    fn a_kept_tree_keeps_its_root_and_drops_orphans() {
        let root = FolderMeta {
            token: "root".into(),
            name: String::new(),
            parent: None,
            owner: None,
            created_secs: 1,
            seq: 0,
        };
        let child = FolderMeta {
            token: "child".into(),
            parent: Some("root".into()),
            seq: 1,
            ..root.clone()
        };
        let orphan = FolderMeta {
            token: "orphan".into(),
            parent: Some("gone".into()),
            seq: 2,
            ..root.clone()
        };
        let (drive, new_root) = Drive::new(vec![child, root, orphan], Vec::new(), limits(), counter());
        assert!(new_root.is_none());
        assert_eq!(drive.root(), "root");
        let who = Identity::App("a".into());
        let order = Order {
            by_created: true,
            descending: false,
        };
        let names: Vec<String> = drive
            .children(&who, None, order)
            .expect("root")
            .into_iter()
            .map(|n| n.token)
            .collect();
        assert_eq!(names, ["child"]);
        assert!(drive.children(&who, Some("orphan"), order).is_err());
    }
}
