//! What the server sends, checked against the official sources
//! (`../shared/reference/official-sources.md`) rather than against the code that sends it:
//! optional `parent_node`, 99992402 with `error.field_violations`, `X-Tt-Logid` and
//! `error.log_id`, ranged downloads with the media's own type, and the download owner check
//! (1061004, HTTP 403 in the seed's table).

use crate::support;

use feishu_drive_server::Config;
use serde_json::json;
use support::{PARENT, data, json_of, start};

#[tokio::test]
async fn parent_node_may_be_absent_or_empty() {
    let h = start(Config::default()).await;
    for body in [
        json!({"file_name": "a", "parent_type": "ccm_import_open", "size": 3}),
        json!({"file_name": "a", "parent_type": "ccm_import_open", "parent_node": "", "size": 3}),
    ] {
        let (status, _, answer) = json_of(h.prepare_as(&h.token, body).await.expect("answer")).await;
        assert_eq!((status, &answer["code"]), (200, &json!(0)), "{answer}");
    }
    for fields in [
        vec![("parent_type", "ccm_import_open")],
        vec![("parent_type", "ccm_import_open"), ("parent_node", "")],
    ] {
        let response = h
            .upload_all_as(&h.token, "a.txt", b"abc", &fields)
            .await
            .expect("answer");
        let (status, _, answer) = json_of(response).await;
        assert_eq!((status, &answer["code"]), (200, &json!(0)), "{answer}");
    }
}

#[tokio::test]
async fn a_malformed_parent_type_is_99992402_naming_the_field() {
    let h = start(Config::default()).await;
    let body = json!({"file_name": "a", "parent_type": "Docx-File", "parent_node": PARENT, "size": 3});
    let (status, headers, answer) = json_of(h.prepare_as(&h.token, body).await.expect("answer")).await;
    assert_eq!(
        (status, answer["code"].as_i64()),
        (400, Some(99992402)),
        "{answer}"
    );
    let violations = answer["error"]["field_violations"]
        .as_array()
        .expect("field_violations");
    assert_eq!(violations.len(), 1, "{answer}");
    assert_eq!(violations[0]["field"], "parent_type");
    assert_eq!(violations[0]["value"], "Docx-File");
    // The log id is in the envelope and in the header, the same.
    let header = headers["x-tt-logid"].to_str().expect("ascii");
    assert_eq!(answer["error"]["log_id"], header, "{answer}");

    let response = h
        .upload_all_as(
            &h.token,
            "a.txt",
            b"abc",
            &[("parent_type", "sheet file"), ("parent_node", PARENT)],
        )
        .await
        .expect("answer");
    let (_, _, answer) = json_of(response).await;
    assert_eq!(answer["code"], json!(99992402), "{answer}");
}

#[tokio::test]
async fn every_answer_carries_a_log_id() {
    let h = start(Config::default()).await;
    let file = h.stored(&h.token, "a.txt", b"abc").await;
    let ok = h.download_as(&h.token, &file, None).await;
    let mut ids = vec![ok.headers()["x-tt-logid"].to_str().expect("ascii").to_owned()];
    let (_, headers, answer) = json_of(h.download_as(&h.token, "boxcnNoSuchFile", None).await).await;
    assert_eq!(answer["code"], json!(1061003), "{answer}");
    assert_eq!(
        answer["error"]["log_id"],
        headers["x-tt-logid"].to_str().expect("ascii")
    );
    ids.push(headers["x-tt-logid"].to_str().expect("ascii").to_owned());
    let no_token = h
        .http
        .post(h.url("upload_prepare"))
        .json(&json!({}))
        .send()
        .await
        .expect("answer");
    let (_, headers, answer) = json_of(no_token).await;
    assert_eq!(answer["code"], json!(99991661), "{answer}");
    ids.push(headers["x-tt-logid"].to_str().expect("ascii").to_owned());
    let unknown_path = h
        .http
        .get(format!("{}/nowhere", h.server.base_url()))
        .send()
        .await
        .expect("answer");
    ids.push(
        unknown_path.headers()["x-tt-logid"]
            .to_str()
            .expect("ascii")
            .to_owned(),
    );
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 4, "one log id per request: {ids:?}");
}

#[tokio::test]
async fn ranged_downloads_206_and_416_with_the_media_type() {
    let h = start(Config::default().block_size(1000)).await;
    let bytes = data(2500, 7);
    // Chunked, so that ranges cross block boundaries.
    let (_, _, prepared) = json_of(
        h.prepare_as(
            &h.token,
            json!({"file_name": "picture.png", "parent_type": "docx_image", "parent_node": PARENT, "size": 2500}),
        )
        .await
        .expect("prepare"),
    )
    .await;
    let upload_id = prepared["data"]["upload_id"].as_str().expect("id").to_owned();
    for (seq, block) in bytes.chunks(1000).enumerate() {
        let form = reqwest::multipart::Form::new()
            .text("upload_id", upload_id.clone())
            .text("seq", seq.to_string())
            .text("size", block.len().to_string())
            .part("file", reqwest::multipart::Part::bytes(block.to_vec()));
        let response = h
            .http
            .post(h.url("upload_part"))
            .bearer_auth(&h.token)
            .multipart(form)
            .send()
            .await;
        assert_eq!(json_of(response.expect("part")).await.2["code"], json!(0));
    }
    let (_, _, finished) = json_of(
        h.http
            .post(h.url("upload_finish"))
            .bearer_auth(&h.token)
            .json(&json!({"upload_id": upload_id, "block_num": 3}))
            .send()
            .await
            .expect("finish"),
    )
    .await;
    let file = finished["data"]["file_token"].as_str().expect("token").to_owned();

    let whole = h.download_as(&h.token, &file, None).await;
    assert_eq!(whole.status().as_u16(), 200);
    assert_eq!(whole.headers()["content-type"], "image/png");
    assert_eq!(whole.headers()["accept-ranges"], "bytes");
    assert_eq!(whole.bytes().await.expect("bytes").as_ref(), bytes.as_slice());

    for (range, start, end) in [
        ("bytes=0-0", 0, 0),
        ("bytes=990-2010", 990, 2010),
        ("bytes=1000-1999", 1000, 1999),
        ("bytes=2000-", 2000, 2499),
        ("bytes=-7", 2493, 2499),
        ("bytes=2400-9999", 2400, 2499),
    ] {
        let part = h.download_as(&h.token, &file, Some(range)).await;
        assert_eq!(part.status().as_u16(), 206, "{range}");
        assert_eq!(
            part.headers()["content-range"],
            format!("bytes {start}-{end}/2500").as_str(),
            "{range}"
        );
        assert_eq!(part.headers()["content-type"], "image/png");
        let got = part.bytes().await.expect("bytes");
        assert_eq!(got.as_ref(), &bytes[start..=end], "{range}");
    }
    for range in ["bytes=2500-", "bytes=3000-4000", "bytes=-0"] {
        let refused = h.download_as(&h.token, &file, Some(range)).await;
        assert_eq!(refused.status().as_u16(), 416, "{range}");
        assert_eq!(refused.headers()["content-range"], "bytes */2500", "{range}");
    }
    // A file name without a known extension downloads as application/octet-stream.
    let plain = h.stored(&h.token, "notes", b"n").await;
    assert_eq!(
        h.download_as(&h.token, &plain, None).await.headers()["content-type"],
        "application/octet-stream"
    );
    let pdf = h.stored(&h.token, "报告.pdf", b"%PDF").await;
    assert_eq!(
        h.download_as(&h.token, &pdf, None).await.headers()["content-type"],
        "application/pdf"
    );
}

#[tokio::test]
async fn only_the_uploader_downloads_1061004() {
    let h = start(Config::default().add_app("cli_other", "other-secret")).await;
    let alices = h.stored("u-alice", "alice.txt", b"alice's").await;
    let (status, _, answer) = json_of(h.download_as("u-bob", &alices, None).await).await;
    assert_eq!(
        (status, answer["code"].as_i64()),
        (403, Some(1061004)),
        "{answer}"
    );
    let (status, _, _) = json_of(h.download_as(&h.token, &alices, None).await).await;
    assert_eq!(status, 403, "the app is not the user");
    let ok = h.download_as("u-alice", &alices, None).await;
    assert_eq!(ok.bytes().await.expect("bytes").as_ref(), b"alice's");

    let apps = h.stored(&h.token, "app.txt", b"app's").await;
    let other = support::tenant_token(&h.http, &h.server.base_url(), "cli_other", "other-secret")
        .await
        .expect("token");
    let (status, _, answer) = json_of(h.download_as(&other, &apps, None).await).await;
    assert_eq!(
        (status, answer["code"].as_i64()),
        (403, Some(1061004)),
        "{answer}"
    );
}

#[tokio::test]
async fn slide_file_is_taken_by_upload_all_only() {
    // official-sources.md item 9: upload_prepare refuses it with 99992402.
    let h = start(Config::default()).await;
    let body = json!({"file_name": "s.png", "parent_type": "slide_file", "parent_node": PARENT, "size": 3});
    let (status, _, answer) = json_of(h.prepare_as(&h.token, body).await.expect("answer")).await;
    assert_eq!(
        (status, answer["code"].as_i64()),
        (400, Some(99992402)),
        "{answer}"
    );
    assert_eq!(answer["error"]["field_violations"][0]["field"], "parent_type");
    let response = h
        .upload_all_as(
            &h.token,
            "s.png",
            b"abc",
            &[("parent_type", "slide_file"), ("parent_node", PARENT)],
        )
        .await
        .expect("answer");
    assert_eq!(json_of(response).await.2["code"], json!(0));
}
