//! The upload endpoints of both families: prepare, part, finish and the one-shot upload_all.
//! The media family (`drive/v1/medias/…`) attaches the file to a document; the files family
//! (`drive/v1/files/…`) puts it in a Drive folder, or makes a new version of a Drive file. Parts
//! and finish work the same in both; an upload id belongs to the family that prepared it.

use std::sync::Arc;

use axum::Json;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use feishu_drive::{ErrorCode, types};

use super::fields::{
    checksum, count, file_spec, finished_response, json_count, required, success, upload_spec,
};
use super::gate::{JsonFields, answer, form_request, json_request};
use crate::auth::Identity;
use crate::config::Operation;
use crate::error::Failure;
use crate::form::{FORM_OVERHEAD, Fields, Form};
use crate::state::{App, UploadSpec};
use crate::stats::ReceivedPart;
use crate::storage::Family;

/// `upload_prepare` / `file_upload_prepare`.
pub(super) async fn prepare(app: Arc<App>, op: Operation, family: Family, req: Request) -> Response {
    let (who, request) = match json_request(&app, op, req).await {
        Ok(parsed) => parsed,
        Err(response) => return response,
    };
    let result = async {
        let size = json_count(request.integer("size")?, "size")?;
        let spec = match family {
            Family::Media => media_prepare_spec(&app, who, &request, size)?,
            Family::File => file_spec(
                &app,
                who,
                request.text("file_name")?,
                request.text("parent_type")?,
                request.text("parent_node")?,
                size,
                request.text("file_token")?,
            )?,
        };
        let upload = app.prepare(spec).await?;
        let data = types::UploadPrepareData {
            upload_id: upload.id.parse().map_err(Failure::internal)?,
            block_size: std::num::NonZeroU64::new(upload.block_size)
                .ok_or_else(|| Failure::internal("block size 0"))?,
            block_num: i64::try_from(upload.block_num).map_err(Failure::internal)?,
        };
        Ok(Json(types::UploadPrepareResponse {
            code: 0,
            msg: success(),
            data: Some(data),
            error: None,
        })
        .into_response())
    };
    answer(result.await)
}

fn media_prepare_spec(
    app: &App,
    who: Identity,
    request: &JsonFields,
    size: u64,
) -> Result<UploadSpec, Failure> {
    // The official CLI found slides media taken by upload_all only: upload_prepare refuses
    // `slide_file` with 99992402 (so slides media are at most 20 MiB).
    if let Some(parent_type @ "slide_file") = request.text("parent_type")? {
        return Err(Failure::field_violation(
            "parent_type",
            parent_type,
            "slide_file is taken by upload_all only",
        ));
    }
    upload_spec(
        app,
        who,
        request.text("file_name")?,
        request.text("parent_type")?,
        request.text("parent_node")?,
        size,
        request.text("extra")?,
    )
}

/// Logs what an upload body carried, before any check of it.
fn record(app: &App, op: Operation, fields: &Fields, file: Option<&crate::form::Received>) {
    app.received.record(ReceivedPart {
        operation: op,
        upload_id: fields.text("upload_id").map(str::to_owned),
        seq: fields.text("seq").map(str::to_owned),
        checksum: fields.text("checksum").map(str::to_owned),
        len: file.map_or(0, |f| f.len),
        adler32: file.map_or(1, |f| f.adler32),
    });
}

/// `upload_part` / `file_upload_part`.
pub(super) async fn part(app: Arc<App>, op: Operation, family: Family, req: Request) -> Response {
    let cap = app.config.block_size.saturating_add(FORM_OVERHEAD);
    // A body over the cap cannot be one block.
    let (who, Form { fields, file }) = match form_request(&app, op, req, cap, ErrorCode::ParamsError).await {
        Ok(parsed) => parsed,
        Err(response) => return response,
    };
    record(&app, op, &fields, file.as_ref());
    let result = async {
        let upload_id = required(fields.text("upload_id"), "upload_id")?;
        let seq = count(fields.text("seq"), "seq")?;
        let size = count(fields.text("size"), "size")?;
        let checksum_text = fields.text("checksum");
        let block = file.ok_or_else(|| Failure::params("the `file` part is required"))?;
        let upload = app.upload(upload_id, family)?;
        if upload.spec.owner != who {
            return Err(Failure::new(
                ErrorCode::UploadUserNotMatch,
                format!("the upload belongs to {}, not {who}", upload.spec.owner),
            ));
        }
        if seq >= upload.block_num {
            return Err(Failure::new(
                ErrorCode::BlockNumOutOfBounds,
                format!("seq {seq} is not below block_num {}", upload.block_num),
            ));
        }
        if size != block.len {
            return Err(Failure::new(
                ErrorCode::SizeMismatch,
                format!("`size` says {size} bytes, the file part has {}", block.len),
            ));
        }
        let expected = upload.block_len(seq);
        if block.len != expected {
            return Err(Failure::new(
                ErrorCode::SizeMismatch,
                format!(
                    "block {seq} must hold {expected} bytes of the prepared size, not {}",
                    block.len
                ),
            ));
        }
        checksum(checksum_text, block.adler32)?;
        app.store_block(upload, seq, block).await?;
        Ok(Json(types::UploadPartResponse {
            code: 0,
            msg: success(),
            data: Some(types::UploadPartData(serde_json::Map::new())),
            error: None,
        })
        .into_response())
    };
    answer(result.await)
}

/// `upload_finish` / `file_upload_finish`.
pub(super) async fn finish(app: Arc<App>, op: Operation, family: Family, req: Request) -> Response {
    let (who, request) = match json_request(&app, op, req).await {
        Ok(parsed) => parsed,
        Err(response) => return response,
    };
    let result = async {
        let upload_id = required(request.text("upload_id")?, "upload_id")?;
        let block_num = json_count(request.integer("block_num")?, "block_num")?;
        let upload = app.upload(upload_id, family)?;
        if upload.spec.owner != who {
            return Err(Failure::new(
                ErrorCode::UploadUserNotMatch,
                format!("the upload belongs to {}, not {who}", upload.spec.owner),
            ));
        }
        let meta = app.finish(upload, block_num).await?;
        Ok(finished_response(&app, &meta))
    };
    answer(result.await)
}

/// `upload_all` / `file_upload_all`.
pub(super) async fn upload_all(app: Arc<App>, op: Operation, family: Family, req: Request) -> Response {
    let limit = app.config.upload_all_limit;
    let cap = limit.saturating_add(FORM_OVERHEAD);
    let (who, Form { fields, file }) =
        match form_request(&app, op, req, cap, ErrorCode::FileSizeBeyondLimit).await {
            Ok(parsed) => parsed,
            Err(response) => return response,
        };
    record(&app, op, &fields, file.as_ref());
    let result = async {
        let size = count(fields.text("size"), "size")?;
        if size > limit {
            return Err(Failure::new(
                ErrorCode::FileSizeBeyondLimit,
                format!("{op} takes at most {limit} bytes, not {size}: use the chunked upload"),
            ));
        }
        let spec = match family {
            Family::Media => upload_spec(
                &app,
                who,
                fields.text("file_name"),
                fields.text("parent_type"),
                fields.text("parent_node"),
                size,
                fields.text("extra"),
            )?,
            Family::File => file_spec(
                &app,
                who,
                fields.text("file_name"),
                fields.text("parent_type"),
                fields.text("parent_node"),
                size,
                fields.text("file_token"),
            )?,
        };
        let checksum_text = fields.text("checksum");
        let file = file.ok_or_else(|| Failure::params("the `file` part is required"))?;
        if file.len > limit {
            return Err(Failure::new(
                ErrorCode::FileSizeBeyondLimit,
                format!("{op} takes at most {limit} bytes, the file part has {}", file.len),
            ));
        }
        if file.len != size {
            return Err(Failure::new(
                ErrorCode::SizeMismatch,
                format!("`size` says {size} bytes, the file part has {}", file.len),
            ));
        }
        checksum(checksum_text, file.adler32)?;
        let meta = app.store_file(spec, file).await?;
        Ok(finished_response(&app, &meta))
    };
    answer(result.await)
}
