//! Checks of request fields, shared by the endpoints of both families.

use axum::Json;
use axum::response::{IntoResponse, Response};
use feishu_drive::{ErrorCode, types};

use crate::auth::Identity;
use crate::drive::{EXPLORER, Place, WIKI};
use crate::error::Failure;
use crate::state::{App, Target, UploadSpec};
use crate::storage::{Family, FileMeta};

/// The longest file name the docs allow, in characters.
const FILE_NAME_MAX_CHARS: usize = feishu_drive::limits::FILE_NAME_MAX_LENGTH;

pub(super) fn required<'a>(value: Option<&'a str>, name: &str) -> Result<&'a str, Failure> {
    value
        .filter(|v| !v.is_empty())
        .ok_or_else(|| Failure::params(format!("`{name}` is required")))
}

/// 1061008 for an empty name or one over 250 characters; a missing one is a params error.
pub(super) fn file_name(value: Option<&str>) -> Result<String, Failure> {
    let name = value.ok_or_else(|| Failure::params("`file_name` is required"))?;
    let chars = name.chars().count();
    if chars == 0 || chars > FILE_NAME_MAX_CHARS {
        return Err(Failure::new(
            ErrorCode::InvalidFileName,
            format!("the file name has {chars} characters; 1 to {FILE_NAME_MAX_CHARS} are allowed"),
        ));
    }
    Ok(name.to_owned())
}

/// A non-negative decimal integer form field.
pub(super) fn count(value: Option<&str>, name: &str) -> Result<u64, Failure> {
    required(value, name)?
        .parse()
        .map_err(|_| Failure::params(format!("`{name}` is not a non-negative integer")))
}

/// A non-negative JSON integer.
pub(super) fn json_count(value: Option<i64>, name: &str) -> Result<u64, Failure> {
    let value = value.ok_or_else(|| Failure::params(format!("`{name}` is required")))?;
    u64::try_from(value).map_err(|_| Failure::params(format!("`{name}` must not be negative")))
}

/// `extra` is JSON text when given; an empty value means none (the Python SDK sends `""`).
pub(super) fn extra(value: Option<&str>) -> Result<(), Failure> {
    match value {
        None | Some("") => Ok(()),
        Some(text) => serde_json::from_str::<serde_json::Value>(text)
            .map(drop)
            .map_err(|e| Failure::params(format!("`extra` is not JSON text: {e}"))),
    }
}

/// Checks the optional Adler-32 `checksum` (decimal) against the bytes' own. Empty means none,
/// as the Python SDK sends it; digits that cannot be an Adler-32 (over 2^32-1) never match.
pub(super) fn checksum(value: Option<&str>, actual: u32) -> Result<(), Failure> {
    let Some(text) = value.filter(|v| !v.is_empty()) else {
        return Ok(());
    };
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Failure::params("`checksum` is not a decimal number"));
    }
    if text.parse::<u32>().ok() != Some(actual) {
        return Err(Failure::new(
            ErrorCode::ChecksumInvalid,
            format!("checksum {text} does not match the bytes' Adler-32 {actual}"),
        ));
    }
    Ok(())
}

/// The fields `upload_prepare` and `upload_all` share, checked in the same order.
pub(super) fn upload_spec(
    app: &App,
    owner: Identity,
    name: Option<&str>,
    parent_type: Option<&str>,
    parent_node: Option<&str>,
    size: u64,
    extra_text: Option<&str>,
) -> Result<UploadSpec, Failure> {
    let file_name = file_name(name)?;
    let parent_type = required(parent_type, "parent_type")?;
    check_parent_type(parent_type)?;
    let parent_type = parent_type.to_owned();
    // Optional, and may be empty (the Node SDK and the official CLI's import flow send none).
    let parent_node = parent_node.unwrap_or_default().to_owned();
    extra(extra_text)?;
    if !parent_node.is_empty() && app.config.parent_is_missing(&parent_node) {
        return Err(Failure::new(
            ErrorCode::ParentNodeNotExist,
            format!("no parent node {parent_node:?}"),
        ));
    }
    Ok(UploadSpec {
        owner,
        file_name,
        parent_type,
        parent_node,
        size,
        target: Target::Media,
    })
}

/// The fields `file_upload_prepare` and `file_upload_all` share, checked in the same order:
/// the name, where the file goes (`explorer`: a folder, `""` the root; `wiki`: a wiki node), and
/// for a new version the file it is a version of.
pub(super) fn file_spec(
    app: &App,
    owner: Identity,
    name: Option<&str>,
    parent_type: Option<&str>,
    parent_node: Option<&str>,
    size: u64,
    file_token: Option<&str>,
) -> Result<UploadSpec, Failure> {
    let file_name = file_name(name)?;
    let parent_type = required(parent_type, "parent_type")?;
    let parent_node = parent_node.ok_or_else(|| Failure::params("`parent_node` is required"))?;
    let place = match parent_type {
        EXPLORER => Place::Folder(app.drive.upload_folder(&owner, parent_node)?),
        WIKI => {
            let node = required(Some(parent_node), "parent_node")?;
            if app.config.parent_is_missing(node) {
                return Err(Failure::new(
                    ErrorCode::ParentNodeNotExist,
                    format!("no wiki node {node:?}"),
                ));
            }
            Place::Wiki(node.to_owned())
        }
        other => {
            return Err(Failure::field_violation(
                "parent_type",
                other,
                format!("a Drive file goes to `{EXPLORER}` (a folder) or `{WIKI}`"),
            ));
        }
    };
    let file_token = file_token.filter(|t| !t.is_empty()).map(str::to_owned);
    if let Some(token) = &file_token {
        app.drive.version_target(&owner, token, &place)?;
    }
    Ok(UploadSpec {
        owner,
        file_name,
        parent_type: parent_type.to_owned(),
        parent_node: parent_node.to_owned(),
        size,
        target: Target::File { place, file_token },
    })
}

/// The longest `parent_type` taken; documented values are at most 22 characters.
const PARENT_TYPE_MAX_CHARS: usize = 64;

/// A `parent_type` must be a lower-case identifier (`docx_image`, `sheet_file`): the list of
/// values grows, so any well-formed one is taken. A malformed one is 99992402 "field validation
/// failed" naming the field, as the official CLI met it.
pub(super) fn check_parent_type(value: &str) -> Result<(), Failure> {
    let well_formed = value.len() <= PARENT_TYPE_MAX_CHARS
        && value.starts_with(|c: char| c.is_ascii_lowercase())
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if well_formed {
        Ok(())
    } else {
        Err(Failure::field_violation(
            "parent_type",
            value,
            format!(
                "must be a lower-case identifier of at most {PARENT_TYPE_MAX_CHARS} characters, such as docx_image"
            ),
        ))
    }
}

pub(super) fn success() -> String {
    "success".to_owned()
}

/// The answer to a finished upload: a media's token, or a Drive file's token, version and URL.
pub(super) fn finished_response(app: &App, meta: &FileMeta) -> Response {
    match meta.family {
        Family::Media => Json(types::FileTokenResponse {
            code: 0,
            msg: success(),
            data: Some(types::FileTokenData {
                file_token: meta.file_token.clone(),
            }),
            error: None,
        })
        .into_response(),
        Family::File => Json(types::FileUploadResponse {
            code: 0,
            msg: success(),
            data: Some(types::FileUploadData {
                file_token: meta.file_token.clone(),
                version: meta.version.clone(),
                url: Some(format!("{}/file/{}", app.base_url, meta.file_token)),
            }),
            error: None,
        })
        .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parent_types() {
        for ok in [
            "docx_image",
            "ccm_import_open",
            "a",
            "lark_ai_media_analysis",
            "x2",
        ] {
            assert!(check_parent_type(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "Docx",
            "docx-image",
            "2doc",
            "docx image",
            "_x",
            &"a".repeat(65),
        ] {
            assert_eq!(
                check_parent_type(bad).map_err(|f| f.code().code()),
                Err(ErrorCode::FieldValidationFailed.code()),
                "{bad}"
            );
        }
    }

    #[test]
    fn checksums() {
        assert!(checksum(None, 5).is_ok());
        assert!(checksum(Some(""), 5).is_ok());
        assert!(checksum(Some("5"), 5).is_ok());
        assert!(checksum(Some("0005"), 5).is_ok());
        assert_eq!(
            checksum(Some("6"), 5).map_err(|f| f.code()),
            Err(ErrorCode::ChecksumInvalid)
        );
        assert_eq!(
            checksum(Some("99999999999999999999999"), 5).map_err(|f| f.code()),
            Err(ErrorCode::ChecksumInvalid)
        );
        assert_eq!(
            checksum(Some("-5"), 5).map_err(|f| f.code()),
            Err(ErrorCode::ParamsError)
        );
    }

    #[test]
    fn file_names() {
        assert!(file_name(Some("a")).is_ok());
        assert!(file_name(Some(&"名".repeat(250))).is_ok());
        assert_eq!(
            file_name(Some(&"a".repeat(251))).map_err(|f| f.code()),
            Err(ErrorCode::InvalidFileName)
        );
        assert_eq!(
            file_name(Some("")).map_err(|f| f.code()),
            Err(ErrorCode::InvalidFileName)
        );
        assert_eq!(file_name(None).map_err(|f| f.code()), Err(ErrorCode::ParamsError));
    }
}
