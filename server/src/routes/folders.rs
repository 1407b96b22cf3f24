//! Folders: `create_folder`, and `list_files`, a folder's children page by page.

use std::str::FromStr;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, Request};
use axum::response::{IntoResponse, Response};
use feishu_drive::{ErrorCode, limits, types};

use super::fields::{required, success};
use super::gate::{answer, drop_connection, gate, injected, json_request};
use crate::auth::Identity;
use crate::config::Operation;
use crate::drive::{Node, Order};
use crate::error::Failure;
use crate::faults::Fault;
use crate::state::App;

/// The longest folder name, in bytes (the docs count bytes; the spec's `maxLength` counts
/// characters, so this server checks the bytes).
const FOLDER_NAME_MAX_BYTES: usize = limits::FOLDER_NAME_MAX_LENGTH;
/// The most items a page holds.
const PAGE_SIZE_MAX: u64 = limits::PAGE_SIZE_MAXIMUM;
/// Items per page when `page_size` is absent (the doc page's default).
const PAGE_SIZE_DEFAULT: u64 = limits::LIST_PAGE_SIZE_DEFAULT;

/// `create_folder`: a new empty folder in `folder_token` (`""`: the root).
pub(super) async fn create_folder(app: Arc<App>, op: Operation, req: Request) -> Response {
    let (who, request) = match json_request(&app, op, req).await {
        Ok(parsed) => parsed,
        Err(response) => return response,
    };
    let result = async {
        let name = required(request.text("name")?, "name")?;
        if name.len() > FOLDER_NAME_MAX_BYTES {
            return Err(Failure::params(format!(
                "the folder name has {} bytes; at most {FOLDER_NAME_MAX_BYTES} are allowed",
                name.len()
            )));
        }
        let parent = request
            .text("folder_token")?
            .ok_or_else(|| Failure::params("`folder_token` is required (\"\" for the root folder)"))?;
        let folder = app.make_folder(&who, parent, name).await?;
        Ok(Json(types::CreateFolderResponse {
            code: 0,
            msg: success(),
            data: Some(types::CreateFolderData {
                url: Some(format!("{}/drive/folder/{}", app.base_url, folder.token)),
                token: folder.token,
            }),
            error: None,
        })
        .into_response())
    };
    answer(result.await)
}

/// What `list_files` asks for.
#[derive(Debug, PartialEq, Eq)]
struct Listing {
    /// `None`: the root folder, all of it in one page.
    folder: Option<String>,
    page_size: usize,
    offset: usize,
    order: Order,
}

/// Reads `list_files`' query (1064001 for a page size over the maximum, 1061002 for any other
/// bad value).
fn listing(pairs: &[(String, String)]) -> Result<Listing, Failure> {
    let get = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let page_size = match get("page_size") {
        None => usize::try_from(PAGE_SIZE_DEFAULT).unwrap_or(usize::MAX),
        Some(text) => {
            let size: i64 = text
                .parse()
                .map_err(|_| Failure::params("`page_size` is not an integer"))?;
            if u64::try_from(size).is_ok_and(|s| s > PAGE_SIZE_MAX) {
                return Err(Failure::new(
                    ErrorCode::PageSizeOutOfLimit,
                    format!("page_size {size} is over {PAGE_SIZE_MAX}"),
                ));
            }
            usize::try_from(size)
                .ok()
                .filter(|&s| s >= 1)
                .ok_or_else(|| Failure::params("`page_size` must be at least 1"))?
        }
    };
    let offset = match get("page_token").filter(|t| !t.is_empty()) {
        None => 0,
        Some(token) => token
            .parse()
            .map_err(|_| Failure::params(format!("`page_token` {token:?} is not one this server gave")))?,
    };
    let by_created = match get("order_by") {
        None => true,
        Some(text) => {
            types::ListOrderBy::from_str(text).map_err(|_| Failure::params(format!("`order_by` {text:?}")))?
                == types::ListOrderBy::CreatedTime
        }
    };
    let descending = match get("direction") {
        None => false,
        Some(text) => {
            types::ListDirection::from_str(text)
                .map_err(|_| Failure::params(format!("`direction` {text:?}")))?
                == types::ListDirection::Desc
        }
    };
    if let Some(text) = get("user_id_type") {
        types::UserIdType::from_str(text).map_err(|_| Failure::params(format!("`user_id_type` {text:?}")))?;
    }
    Ok(Listing {
        folder: get("folder_token").filter(|t| !t.is_empty()).map(str::to_owned),
        page_size,
        offset,
        order: Order {
            by_created,
            descending,
        },
    })
}

/// `list_files`: a page of a folder's children, in creation order unless `order_by` and
/// `direction` say otherwise. The page token is the offset of the page's first child, so a
/// child added or removed between pages shifts the pages after it.
pub(super) async fn list_files(app: Arc<App>, op: Operation, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let who = match gate(&app, &parts.headers, op).await {
        Ok(who) => who,
        Err(failure) => return failure.into_response(),
    };
    match app.faults.roll(op) {
        Some(Fault::Drop) => return drop_connection(&app, &parts, body).await,
        Some(Fault::Retryable(code)) => return injected(&app, code).into_response(),
        None => {}
    }
    answer((|| {
        let Query(pairs) = Query::<Vec<(String, String)>>::try_from_uri(&parts.uri)
            .map_err(|e| Failure::params(format!("the query: {e}")))?;
        let listing = listing(&pairs)?;
        let nodes = app
            .drive
            .children(&who, listing.folder.as_deref(), listing.order)?;
        let (page, next) = match listing.folder {
            None => (nodes, None),
            Some(_) => {
                let end = listing.offset.saturating_add(listing.page_size).min(nodes.len());
                let page = nodes.get(listing.offset..end).unwrap_or_default().to_vec();
                (page, (end < nodes.len()).then_some(end))
            }
        };
        Ok(Json(types::ListFilesResponse {
            code: 0,
            msg: success(),
            data: Some(types::ListFilesData {
                files: page.into_iter().map(|node| drive_node(&app, node)).collect(),
                has_more: Some(next.is_some()),
                next_page_token: next.map(|n| n.to_string()),
            }),
            error: None,
        })
        .into_response())
    })())
}

fn drive_node(app: &App, node: Node) -> types::DriveNode {
    let (kind, path) = if node.is_folder {
        ("folder", "drive/folder")
    } else {
        ("file", "file")
    };
    types::DriveNode {
        url: Some(format!("{}/{path}/{}", app.base_url, node.token)),
        token: node.token,
        name: node.name,
        type_: kind.to_owned(),
        parent_token: Some(node.parent),
        shortcut_info: None,
        created_time: Some(node.created_secs.to_string()),
        modified_time: Some(node.modified_secs.to_string()),
        owner_id: node.owner.as_ref().map(owner_id),
    }
}

/// The owner as a user id: the app id for an app, the user's name for a user.
fn owner_id(who: &Identity) -> String {
    match who {
        Identity::App(id) => id.clone(),
        Identity::User { name, .. } => name.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> Result<Listing, ErrorCode> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        listing(&pairs).map_err(|f| f.code())
    }

    #[test]
    fn listing_queries() {
        let root = query(&[]).expect("defaults");
        assert_eq!(root.folder, None);
        assert_eq!((root.page_size as u64, root.offset), (PAGE_SIZE_DEFAULT, 0));
        assert!(root.order.by_created && !root.order.descending);
        let paged = query(&[
            ("folder_token", "fldX"),
            ("page_size", "200"),
            ("page_token", "400"),
            ("order_by", "EditedTime"),
            ("direction", "DESC"),
        ])
        .expect("valid");
        assert_eq!(paged.folder.as_deref(), Some("fldX"));
        assert_eq!((paged.page_size, paged.offset), (200, 400));
        assert!(!paged.order.by_created && paged.order.descending);
        assert_eq!(query(&[("folder_token", "")]).map(|l| l.folder), Ok(None));
        assert_eq!(
            query(&[("page_size", "201")]).err(),
            Some(ErrorCode::PageSizeOutOfLimit)
        );
        for bad in [
            ("page_size", "0"),
            ("page_size", "x"),
            ("page_token", "-1"),
            ("order_by", "name"),
            ("direction", "up"),
            ("user_id_type", "email"),
        ] {
            assert_eq!(query(&[bad]).err(), Some(ErrorCode::ParamsError), "{bad:?}");
        }
    }
}
