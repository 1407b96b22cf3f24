//! The two upload families an upload goes through, with the same flow: `drive/v1/medias/…`
//! (attachments of docs, sheets and bases) and `drive/v1/files/…` (files in a Drive folder). The
//! flow (`flow.rs`, `workers.rs`) asks for "the prepare", "a part", "the finish" and "the
//! one-shot"; this file sends each to the family's operation.

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::operations::OperationId;
use crate::{ApiError, Client, FeishuResult, types};

/// Where an upload's file goes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Family {
    /// A media attached to a doc, sheet or base (`drive/v1/medias/…`).
    #[default]
    Media,
    /// A file in a Drive folder (`drive/v1/files/…`, `parent_type: explorer`).
    Files,
}

impl Family {
    /// The family's one-shot upload.
    pub fn upload_all(self) -> OperationId {
        match self {
            Family::Media => OperationId::UploadAll,
            Family::Files => OperationId::FileUploadAll,
        }
    }

    /// The family's `upload_prepare`.
    pub fn upload_prepare(self) -> OperationId {
        match self {
            Family::Media => OperationId::UploadPrepare,
            Family::Files => OperationId::FileUploadPrepare,
        }
    }

    /// The family's `upload_part`.
    pub fn upload_part(self) -> OperationId {
        match self {
            Family::Media => OperationId::UploadPart,
            Family::Files => OperationId::FileUploadPart,
        }
    }

    /// The family's `upload_finish`.
    pub fn upload_finish(self) -> OperationId {
        match self {
            Family::Media => OperationId::UploadFinish,
            Family::Files => OperationId::FileUploadFinish,
        }
    }

    /// The family's download.
    pub fn download(self) -> OperationId {
        match self {
            Family::Media => OperationId::Download,
            Family::Files => OperationId::FileDownload,
        }
    }

    /// The `parent_type` values the spec documents for the family.
    pub(crate) fn known_parent_types(self) -> &'static [&'static str] {
        match self {
            Family::Media => types::ParentType::KNOWN,
            Family::Files => types::FileParentType::KNOWN,
        }
    }
}

/// Where the upload goes, and as whom; a journal for another target must not be resumed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Target {
    /// Which family's endpoints; journals written before the files family are media ones.
    #[serde(default)]
    pub(crate) family: Family,
    /// The Drive file this upload makes a new version of (files family only).
    #[serde(default)]
    pub(crate) version_of: Option<String>,
    pub(crate) file_name: String,
    pub(crate) parent_type: String,
    pub(crate) parent_node: String,
    pub(crate) extra: Option<String>,
    /// The app whose token uploads (an upload id belongs to it), when the token source says.
    pub(crate) app: Option<String>,
}

/// What a finish or a one-shot upload answered.
#[derive(Debug, Clone)]
pub(crate) struct Uploaded {
    pub(crate) file_token: String,
    /// The Drive file's version (files family only).
    pub(crate) version: Option<String>,
    /// The Drive file's address (files family only).
    pub(crate) url: Option<String>,
}

impl From<types::FileTokenData> for Uploaded {
    fn from(data: types::FileTokenData) -> Self {
        Uploaded {
            file_token: data.file_token,
            version: None,
            url: None,
        }
    }
}

impl From<types::FileUploadData> for Uploaded {
    fn from(data: types::FileUploadData) -> Self {
        Uploaded {
            file_token: data.file_token,
            version: data.version,
            url: data.url,
        }
    }
}

/// What upload_prepare answered, in either family.
pub(crate) struct Prepared {
    pub(crate) upload_id: String,
    pub(crate) block_size: u64,
    pub(crate) block_num: i64,
}

/// The one-shot upload of `bytes` (checksummed) to `target`.
pub(crate) async fn upload_all(
    client: &Client,
    target: &Target,
    bytes: Bytes,
    checksum: &str,
) -> Result<Uploaded, ApiError> {
    let size = bytes.len() as u64;
    match target.family {
        Family::Media => {
            let mut builder = client
                .upload_all()
                .file_name(target.file_name.as_str())
                .parent_type(target.parent_type.as_str())
                .size(size)
                .checksum(checksum)
                .file(bytes);
            if let Some(extra) = &target.extra {
                builder = builder.extra(extra.clone());
            }
            // An empty parent node is left out (parent types such as `ccm_import_open` need none).
            if !target.parent_node.is_empty() {
                builder = builder.parent_node(target.parent_node.clone());
            }
            builder.send().await.into_data().map(Uploaded::from)
        }
        Family::Files => {
            let mut builder = client
                .file_upload_all()
                .file_name(target.file_name.as_str())
                .parent_type(target.parent_type.as_str())
                .parent_node(target.parent_node.as_str())
                .size(size)
                .checksum(checksum)
                .file(bytes);
            if let Some(version_of) = &target.version_of {
                builder = builder.file_token(version_of.as_str());
            }
            builder.send().await.into_data().map(Uploaded::from)
        }
    }
}

/// upload_prepare of `size` bytes to `target`.
pub(crate) async fn prepare(client: &Client, target: &Target, size: u64) -> Result<Prepared, ApiError> {
    match target.family {
        Family::Media => {
            let body = types::UploadPrepareRequest::builder()
                .file_name(target.file_name.as_str())
                .parent_type(target.parent_type.as_str())
                .parent_node(
                    (!target.parent_node.is_empty())
                        .then(|| types::ParentNode::from(target.parent_node.clone())),
                )
                .size(size)
                .extra(target.extra.clone().map(types::Extra));
            let data = client.upload_prepare().body(body).send().await.into_data()?;
            Ok(Prepared {
                upload_id: data.upload_id.to_string(),
                block_size: data.block_size.get(),
                block_num: data.block_num,
            })
        }
        Family::Files => {
            let size = i64::try_from(size)
                .map_err(|_| ApiError::InvalidRequest(format!("size {size} is too large")))?;
            let body = types::FileUploadPrepareRequest::builder()
                .file_name(target.file_name.as_str())
                .parent_type(target.parent_type.as_str())
                .parent_node(types::FolderToken::from(target.parent_node.clone()))
                .size(size)
                .file_token(
                    target
                        .version_of
                        .as_deref()
                        .map(types::DriveFileToken::try_from)
                        .transpose()
                        .map_err(|e| ApiError::InvalidRequest(e.to_string()))?,
                );
            let data = client.file_upload_prepare().body(body).send().await.into_data()?;
            Ok(Prepared {
                upload_id: data.upload_id.to_string(),
                block_size: data.block_size.get(),
                block_num: data.block_num,
            })
        }
    }
}

/// upload_part of block `seq`.
pub(crate) async fn part(
    client: &Client,
    family: Family,
    upload_id: &str,
    seq: u64,
    bytes: Bytes,
    checksum: &str,
) -> Result<(), ApiError> {
    let len = bytes.len() as u64;
    match family {
        Family::Media => client
            .upload_part()
            .upload_id(upload_id)
            .seq(seq)
            .size(len)
            .checksum(checksum)
            .file(bytes)
            .send()
            .await
            .checked()
            .map(drop),
        Family::Files => client
            .file_upload_part()
            .upload_id(upload_id)
            .seq(seq)
            .size(len)
            .checksum(checksum)
            .file(bytes)
            .send()
            .await
            .checked()
            .map(drop),
    }
}

/// upload_finish of `block_num` blocks.
pub(crate) async fn finish(
    client: &Client,
    family: Family,
    upload_id: &str,
    block_num: u64,
) -> Result<Uploaded, ApiError> {
    match family {
        Family::Media => {
            let body = types::UploadFinishRequest::builder()
                .upload_id(upload_id)
                .block_num(block_num);
            client
                .upload_finish()
                .body(body)
                .send()
                .await
                .into_data()
                .map(Uploaded::from)
        }
        Family::Files => {
            let body = types::UploadFinishRequest::builder()
                .upload_id(upload_id)
                .block_num(block_num);
            client
                .file_upload_finish()
                .body(body)
                .send()
                .await
                .into_data()
                .map(Uploaded::from)
        }
    }
}
