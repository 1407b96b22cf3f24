//! The Drive side of a folder batch: a folder's children (every page of `list_files`), and
//! sub-folders made with `create_folder` exactly once, even when an answer is lost.

use std::num::NonZeroU64;

use crate::limits::PAGE_SIZE_MAXIMUM;
use crate::{ApiError, Client, FeishuResult, Verdict, types};

/// The `type` `list_files` gives a folder.
const FOLDER: &str = "folder";
/// The `type` `list_files` gives a Drive file (what uploads make).
const FILE: &str = "file";

/// How many times a folder is asked for when each answer is lost.
const CREATE_ATTEMPTS: u32 = 3;

/// One child of a folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Child {
    pub(crate) token: String,
    pub(crate) name: String,
    pub(crate) kind: Kind,
}

/// What a child is, as far as a batch cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Folder,
    File,
    /// A doc, sheet, shortcut, …: never replaced by an upload.
    Other,
}

/// Every child of the folder `folder_token`, page after page (each page is read-only, so
/// retried like any idempotent request). Returns the children and the pages it took.
pub(crate) async fn list(client: &Client, folder_token: &str) -> Result<(Vec<Child>, u64), ApiError> {
    let page_size = NonZeroU64::new(PAGE_SIZE_MAXIMUM).map(types::PageSize::from);
    let mut children = Vec::new();
    let mut page_token: Option<String> = None;
    let mut pages = 0;
    loop {
        let data = client
            .retrying(true, || async {
                let mut request = client.list_files().folder_token(folder_token);
                if let Some(size) = &page_size {
                    request = request.page_size(size.clone());
                }
                if let Some(token) = &page_token {
                    request = request.page_token(token.as_str());
                }
                request.send().await.into_data()
            })
            .await?;
        pages += 1;
        children.extend(data.files.into_iter().map(|node| Child {
            kind: match node.type_.as_str() {
                FOLDER => Kind::Folder,
                FILE => Kind::File,
                _ => Kind::Other,
            },
            token: node.token,
            name: node.name,
        }));
        match data.next_page_token.filter(|_| data.has_more == Some(true)) {
            Some(next) => page_token = Some(next),
            None => return Ok((children, pages)),
        }
    }
}

/// Makes the folder `name` in `parent` (which held no folder of that name), and returns its
/// token. `create_folder` is not idempotent: when an answer is lost after the request was
/// sent, the parent is listed, and a folder of that name there is the one the lost request
/// made; only when there is none is it asked for again.
pub(crate) async fn create(client: &Client, parent: &str, name: &str) -> Result<String, ApiError> {
    let name_value = types::FolderName::try_from(name.to_owned())
        .map_err(|e| ApiError::InvalidRequest(format!("folder name {name:?}: {e}")))?;
    let body = types::CreateFolderRequest::builder()
        .folder_token(types::FolderToken::from(parent.to_owned()))
        .name(name_value);
    let mut attempt = 1;
    loop {
        let made = client
            .retrying(false, || async {
                client.create_folder().body(body.clone()).send().await.into_data()
            })
            .await;
        match made {
            Ok(data) => return Ok(data.token),
            Err(error) if error.verdict() == Verdict::Ambiguous && attempt < CREATE_ATTEMPTS => {
                let (children, _) = list(client, parent).await?;
                if let Some(found) = children
                    .into_iter()
                    .find(|c| c.kind == Kind::Folder && c.name == name)
                {
                    return Ok(found.token);
                }
                attempt += 1;
            }
            Err(error) => return Err(error),
        }
    }
}
