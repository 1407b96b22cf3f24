//! The files family over real HTTP: uploads into Drive folders (one-shot and chunked), new
//! versions, ranged downloads, folders and their listing, and the codes the doc pages give for
//! what goes wrong (files/upload_prepare, upload_all, upload_finish, download, create_folder
//! and the folder listing doc tables). Statuses and codes are written here from those pages,
//! not read from the generated table.
//!
//! Why this file is long: the files family's eight end-to-end scenarios share one server set-up and the form builders defined here; split by endpoint they would each repeat them.

use crate::support;

use feishu_drive_server::{Config, DriveLimits, Server};
use serde_json::{Value, json};
use support::{Harness, data, json_of, start};

const FILES: &str = "/open-apis/drive/v1/files";

/// The Adler-32 of `bytes` as a decimal string (RFC 1950), computed here, not by the server.
fn adler32(bytes: &[u8]) -> String {
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in bytes {
        a = (a + u32::from(byte)) % 65521;
        b = (b + a) % 65521;
    }
    ((b << 16) | a).to_string()
}

trait Files {
    fn files_url(&self, op: &str) -> String;
    async fn post_json(&self, token: &str, op: &str, body: Value) -> (u16, Value);
    async fn file_upload_all(&self, token: &str, fields: &[(&str, &str)], bytes: &[u8]) -> (u16, Value);
    async fn part(
        &self,
        token: &str,
        upload_id: &str,
        seq: u64,
        bytes: &[u8],
        checksum: Option<&str>,
    ) -> (u16, Value);
    async fn list(&self, token: &str, query: &[(&str, &str)]) -> (u16, Value);
    async fn file_download(
        &self,
        token: &str,
        file_token: &str,
        query: &[(&str, &str)],
        range: Option<&str>,
    ) -> reqwest::Response;
}

impl Files for Harness {
    fn files_url(&self, op: &str) -> String {
        format!("{}{FILES}/{op}", self.server.base_url())
    }

    async fn post_json(&self, token: &str, op: &str, body: Value) -> (u16, Value) {
        let response = self
            .http
            .post(self.files_url(op))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .expect("an answer");
        let (status, _, body) = json_of(response).await;
        (status, body)
    }

    async fn file_upload_all(&self, token: &str, fields: &[(&str, &str)], bytes: &[u8]) -> (u16, Value) {
        let mut form = reqwest::multipart::Form::new().text("size", bytes.len().to_string());
        for (key, value) in fields {
            form = form.text((*key).to_owned(), (*value).to_owned());
        }
        let form = form.part("file", reqwest::multipart::Part::bytes(bytes.to_vec()));
        let response = self
            .http
            .post(self.files_url("upload_all"))
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await
            .expect("an answer");
        let (status, _, body) = json_of(response).await;
        (status, body)
    }

    async fn part(
        &self,
        token: &str,
        upload_id: &str,
        seq: u64,
        bytes: &[u8],
        checksum: Option<&str>,
    ) -> (u16, Value) {
        let mut form = reqwest::multipart::Form::new()
            .text("upload_id", upload_id.to_owned())
            .text("seq", seq.to_string())
            .text("size", bytes.len().to_string());
        if let Some(checksum) = checksum {
            form = form.text("checksum", checksum.to_owned());
        }
        let form = form.part("file", reqwest::multipart::Part::bytes(bytes.to_vec()));
        let response = self
            .http
            .post(self.files_url("upload_part"))
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await
            .expect("an answer");
        let (status, _, body) = json_of(response).await;
        (status, body)
    }

    async fn list(&self, token: &str, query: &[(&str, &str)]) -> (u16, Value) {
        let response = self
            .http
            .get(format!("{}{FILES}", self.server.base_url()))
            .query(query)
            .bearer_auth(token)
            .send()
            .await
            .expect("an answer");
        let (status, _, body) = json_of(response).await;
        (status, body)
    }

    async fn file_download(
        &self,
        token: &str,
        file_token: &str,
        query: &[(&str, &str)],
        range: Option<&str>,
    ) -> reqwest::Response {
        let mut request = self
            .http
            .get(self.files_url(&format!("{file_token}/download")))
            .query(query)
            .bearer_auth(token);
        if let Some(range) = range {
            request = request.header("range", range);
        }
        request.send().await.expect("an answer")
    }
}

async fn bytes_of(response: reqwest::Response) -> (u16, Vec<u8>) {
    let status = response.status().as_u16();
    (status, response.bytes().await.expect("a body").to_vec())
}

/// Makes a folder; its token.
async fn folder(h: &Harness, token: &str, parent: &str, name: &str) -> String {
    let (status, body) = h
        .post_json(
            token,
            "create_folder",
            json!({"name": name, "folder_token": parent}),
        )
        .await;
    assert_eq!((status, body["code"].as_i64()), (200, Some(0)), "{body}");
    assert!(
        body["data"]["url"]
            .as_str()
            .is_some_and(|u| u.contains("/drive/folder/")),
        "{body}"
    );
    body["data"]["token"].as_str().expect("a folder token").to_owned()
}

/// A chunked upload into `parent` (or a new version of `file_token`); the finish answer's data.
async fn chunked(h: &Harness, parent: &str, name: &str, bytes: &[u8], file_token: Option<&str>) -> Value {
    let mut prepare =
        json!({"file_name": name, "parent_type": "explorer", "parent_node": parent, "size": bytes.len()});
    if let Some(file_token) = file_token {
        prepare["file_token"] = json!(file_token);
    }
    let (status, body) = h.post_json(&h.token, "upload_prepare", prepare).await;
    assert_eq!((status, body["code"].as_i64()), (200, Some(0)), "{body}");
    let upload_id = body["data"]["upload_id"]
        .as_str()
        .expect("an upload id")
        .to_owned();
    let block_size =
        usize::try_from(body["data"]["block_size"].as_u64().expect("a block size")).expect("fits");
    let block_num = body["data"]["block_num"].as_u64().expect("a block count");
    assert_eq!(block_num, bytes.len().div_ceil(block_size) as u64);
    // Last block first: any order is allowed.
    for (seq, block) in bytes.chunks(block_size).enumerate().rev() {
        let (status, body) = h
            .part(&h.token, &upload_id, seq as u64, block, Some(&adler32(block)))
            .await;
        assert_eq!((status, body["code"].as_i64()), (200, Some(0)), "{body}");
    }
    let (status, body) = h
        .post_json(
            &h.token,
            "upload_finish",
            json!({"upload_id": upload_id, "block_num": block_num}),
        )
        .await;
    assert_eq!((status, body["code"].as_i64()), (200, Some(0)), "{body}");
    body["data"].clone()
}

#[tokio::test]
async fn files_go_into_folders_and_come_back_byte_exact() {
    let h = start(Config::default().block_size(1024)).await;
    let root = h.server.root_folder().to_owned();
    assert!(root.starts_with("fld"), "{root}");

    // upload_all into the root, named by its token and by "" (the CLI's default).
    let small = data(3000, 1);
    for parent in [root.as_str(), ""] {
        let (status, body) = h
            .file_upload_all(
                &h.token,
                &[
                    ("file_name", "报告 1.pdf"),
                    ("parent_type", "explorer"),
                    ("parent_node", parent),
                    ("checksum", &adler32(&small)),
                ],
                &small,
            )
            .await;
        assert_eq!((status, body["code"].as_i64()), (200, Some(0)), "{body}");
        let file_token = body["data"]["file_token"].as_str().expect("a token");
        assert!(
            body["data"]["version"].as_str().is_some_and(|v| !v.is_empty()),
            "{body}"
        );
        assert!(
            body["data"]["url"]
                .as_str()
                .is_some_and(|u| u.ends_with(file_token)),
            "{body}"
        );
        let response = h.file_download(&h.token, file_token, &[], None).await;
        assert_eq!(response.headers()["content-type"], "application/pdf");
        assert!(
            response.headers()["content-disposition"]
                .to_str()
                .is_ok_and(|d| d.contains("filename*=UTF-8''%E6%8A%A5%E5%91%8A%201.pdf")),
            "{:?}",
            response.headers()
        );
        assert_eq!(bytes_of(response).await, (200, small.clone()));
    }

    // A chunked upload into a sub-folder, read back whole and by range.
    let sub = folder(&h, &h.token, &root, "子文件夹").await;
    let big = data(5000, 2);
    let finished = chunked(&h, &sub, "big.bin", &big, None).await;
    let file_token = finished["file_token"].as_str().expect("a token");
    assert_eq!(
        bytes_of(h.file_download(&h.token, file_token, &[], None).await).await,
        (200, big.clone())
    );
    let response = h
        .file_download(&h.token, file_token, &[], Some("bytes=1000-2047"))
        .await;
    assert_eq!(response.headers()["content-range"], "bytes 1000-2047/5000");
    assert_eq!(bytes_of(response).await, (206, big[1000..2048].to_vec()));

    // The listing shows each where it went.
    let (status, body) = h.list(&h.token, &[("folder_token", &sub)]).await;
    assert_eq!(status, 200, "{body}");
    let files = body["data"]["files"].as_array().expect("files");
    assert_eq!(files.len(), 1, "{body}");
    assert_eq!(
        (files[0]["name"].as_str(), files[0]["type"].as_str()),
        (Some("big.bin"), Some("file"))
    );
    assert_eq!(files[0]["parent_token"].as_str(), Some(sub.as_str()));
    let (_, body) = h.list(&h.token, &[]).await;
    let kinds: Vec<(&str, &str)> = body["data"]["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| (f["name"].as_str().unwrap_or(""), f["type"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(
        kinds,
        [
            ("报告 1.pdf", "file"),
            ("报告 1.pdf", "file"),
            ("子文件夹", "folder")
        ],
        "{body}"
    );
    assert_eq!(body["data"]["has_more"], false, "the root comes whole");
}

#[tokio::test]
async fn a_file_token_makes_a_new_version_and_each_version_reads_back() {
    let h = start(Config::default().block_size(1024)).await;
    let root = h.server.root_folder().to_owned();
    let first = data(1500, 3);
    let (status, body) = h
        .file_upload_all(
            &h.token,
            &[
                ("file_name", "v.txt"),
                ("parent_type", "explorer"),
                ("parent_node", &root),
            ],
            &first,
        )
        .await;
    assert_eq!((status, body["code"].as_i64()), (200, Some(0)), "{body}");
    let file_token = body["data"]["file_token"].as_str().expect("a token").to_owned();
    let v1 = body["data"]["version"].as_str().expect("a version").to_owned();

    let second = data(2500, 4);
    let finished = chunked(&h, &root, "v2.txt", &second, Some(&file_token)).await;
    assert_eq!(
        finished["file_token"].as_str(),
        Some(file_token.as_str()),
        "a version keeps the token"
    );
    let v2 = finished["version"].as_str().expect("a version").to_owned();
    assert_ne!(v1, v2);

    assert_eq!(
        bytes_of(h.file_download(&h.token, &file_token, &[], None).await).await,
        (200, second.clone())
    );
    assert_eq!(
        bytes_of(
            h.file_download(&h.token, &file_token, &[("version", &v1)], None)
                .await
        )
        .await,
        (200, first)
    );
    assert_eq!(
        bytes_of(
            h.file_download(&h.token, &file_token, &[("version", &v2)], None)
                .await
        )
        .await,
        (200, second)
    );
    let (status, _, body) = json_of(
        h.file_download(&h.token, &file_token, &[("version", "1")], None)
            .await,
    )
    .await;
    assert_eq!((status, body["code"].as_i64()), (404, Some(1061003)), "{body}");

    // One file in the folder, under its newest name.
    let (_, body) = h.list(&h.token, &[("folder_token", &root)]).await;
    let names: Vec<&str> = body["data"]["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter_map(|f| f["name"].as_str())
        .collect();
    assert_eq!(names, ["v2.txt"], "{body}");

    // A version of a file that does not exist: 1061003 (404).
    let (status, body) = h
        .post_json(
            &h.token,
            "upload_prepare",
            json!({"file_name": "x", "parent_type": "explorer", "parent_node": root, "size": 1, "file_token": "boxcnNoSuchFile"}),
        )
        .await;
    assert_eq!((status, body["code"].as_i64()), (404, Some(1061003)), "{body}");
}

#[tokio::test]
async fn folders_list_page_by_page() {
    let h = start(Config::default()).await;
    let parent = folder(&h, &h.token, "", "parent").await;
    let mut made = Vec::new();
    for i in 0..5 {
        made.push(folder(&h, &h.token, &parent, &format!("child {i}")).await);
    }
    let mut seen = Vec::new();
    let mut page_token = String::new();
    let mut pages = 0;
    loop {
        let mut query = vec![("folder_token", parent.as_str()), ("page_size", "2")];
        if !page_token.is_empty() {
            query.push(("page_token", &page_token));
        }
        let (status, body) = h.list(&h.token, &query).await;
        assert_eq!((status, body["code"].as_i64()), (200, Some(0)), "{body}");
        let files = body["data"]["files"].as_array().expect("files");
        assert!(files.len() <= 2, "{body}");
        seen.extend(
            files
                .iter()
                .filter_map(|f| f["token"].as_str().map(str::to_owned)),
        );
        pages += 1;
        if body["data"]["has_more"] != true {
            break;
        }
        page_token = body["data"]["next_page_token"]
            .as_str()
            .expect("a next page token")
            .to_owned();
        assert!(pages < 10, "paging ends");
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, made, "creation order, each child once");

    let (_, body) = h
        .list(&h.token, &[("folder_token", &parent), ("direction", "DESC")])
        .await;
    let newest_first: Vec<String> = body["data"]["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter_map(|f| f["token"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(newest_first, made.iter().rev().cloned().collect::<Vec<_>>());

    // The listing doc table: 1064001 page size out of limit, HTTP 400 (page_size at most 200).
    let (status, body) = h
        .list(&h.token, &[("folder_token", &parent), ("page_size", "201")])
        .await;
    assert_eq!((status, body["code"].as_i64()), (400, Some(1064001)), "{body}");
    let (status, body) = h
        .list(&h.token, &[("folder_token", &parent), ("page_size", "200")])
        .await;
    assert_eq!((status, body["code"].as_i64()), (200, Some(0)), "{body}");
    // A folder that does not exist: 1061003 not found, HTTP 404.
    let (status, body) = h.list(&h.token, &[("folder_token", "fldcnNoSuchFolder")]).await;
    assert_eq!((status, body["code"].as_i64()), (404, Some(1061003)), "{body}");
}

#[tokio::test]
async fn what_goes_wrong_gets_the_documented_codes() {
    let limits = DriveLimits {
        max_children: 2,
        max_depth: 2,
        max_nodes: 100,
    };
    let h = start(Config::default().drive_limits(limits)).await;
    let alice = "u-alice";
    let theirs = folder(&h, alice, "", "alice's").await;
    let bytes = data(10, 5);
    let upload = |parent: String, parent_type: &'static str| {
        let h = &h;
        let bytes = bytes.clone();
        async move {
            h.file_upload_all(
                &h.token,
                &[
                    ("file_name", "a"),
                    ("parent_type", parent_type),
                    ("parent_node", &parent),
                ],
                &bytes,
            )
            .await
        }
    };
    // files/upload_all table: 1061044 parent node not exist (400), 1061004 forbidden (403).
    let (status, body) = upload("fldcnNoSuchFolder".into(), "explorer").await;
    assert_eq!((status, body["code"].as_i64()), (400, Some(1061044)), "{body}");
    let (status, body) = upload(theirs.clone(), "explorer").await;
    assert_eq!((status, body["code"].as_i64()), (403, Some(1061004)), "{body}");
    // A media parent type is no Drive place: the field is named (99992402, as the CLI met it).
    let (status, body) = upload(theirs.clone(), "docx_file").await;
    assert_eq!(body["code"].as_i64(), Some(99992402), "{body}");
    assert_eq!(status, 400);
    assert_eq!(
        body["error"]["field_violations"][0]["field"], "parent_type",
        "{body}"
    );
    // create_folder table: 1061004 for someone else's folder, 1061003 for none; the depth
    // limit 1062506 and the per-folder limit 1062507 (400).
    let (status, body) = h
        .post_json(
            &h.token,
            "create_folder",
            json!({"name": "x", "folder_token": theirs}),
        )
        .await;
    assert_eq!((status, body["code"].as_i64()), (403, Some(1061004)), "{body}");
    let (status, body) = h
        .post_json(
            &h.token,
            "create_folder",
            json!({"name": "x", "folder_token": "fldcnNone"}),
        )
        .await;
    assert_eq!((status, body["code"].as_i64()), (404, Some(1061003)), "{body}");
    let mine = folder(&h, &h.token, "", "mine").await;
    let deeper = folder(&h, &h.token, &mine, "deeper").await;
    let (status, body) = h
        .post_json(
            &h.token,
            "create_folder",
            json!({"name": "x", "folder_token": deeper}),
        )
        .await;
    assert_eq!((status, body["code"].as_i64()), (400, Some(1062506)), "{body}");
    // The root holds alice's and mine: full.
    let (status, body) = h
        .post_json(
            &h.token,
            "create_folder",
            json!({"name": "x", "folder_token": ""}),
        )
        .await;
    assert_eq!((status, body["code"].as_i64()), (400, Some(1062507)), "{body}");
    let (status, body) = upload(String::new(), "explorer").await;
    assert_eq!((status, body["code"].as_i64()), (400, Some(1062507)), "{body}");
    // A name over 256 bytes (85 three-byte characters are 255 bytes, 86 are 258).
    let (status, body) = h
        .post_json(
            &h.token,
            "create_folder",
            json!({"name": "名".repeat(86), "folder_token": mine}),
        )
        .await;
    assert_eq!((status, body["code"].as_i64()), (400, Some(1061002)), "{body}");
    let (status, body) = h
        .post_json(
            &h.token,
            "create_folder",
            json!({"name": "名".repeat(85), "folder_token": mine}),
        )
        .await;
    assert_eq!((status, body["code"].as_i64()), (200, Some(0)), "{body}");
}

#[tokio::test]
async fn downloads_and_upload_ids_keep_to_their_owner_and_family() {
    let h = start(Config::default()).await;
    let alice = "u-alice";
    let theirs = folder(&h, alice, "", "alice's").await;
    let bytes = data(10, 5);
    // The download page: 403 without the permission, 404 for a token that does not exist.
    let (_, body) = h
        .file_upload_all(
            alice,
            &[
                ("file_name", "a"),
                ("parent_type", "explorer"),
                ("parent_node", &theirs),
            ],
            &bytes,
        )
        .await;
    let alices = body["data"]["file_token"]
        .as_str()
        .expect("alice's file")
        .to_owned();
    let (status, _, body) = json_of(h.file_download(&h.token, &alices, &[], None).await).await;
    assert_eq!((status, body["code"].as_i64()), (403, Some(1061004)), "{body}");
    let (status, _, body) = json_of(h.file_download(&h.token, "boxcnNoSuchFile", &[], None).await).await;
    assert_eq!((status, body["code"].as_i64()), (404, Some(1061003)), "{body}");
    // A media token is not a Drive file, and a Drive upload id is not a media one (1061021).
    let media = h.stored(&h.token, "m.txt", &bytes).await;
    let (status, _, _) = json_of(h.file_download(&h.token, &media, &[], None).await).await;
    assert_eq!(status, 404);
    let body = h
        .prepare_as(
            &h.token,
            json!({"file_name": "m", "parent_type": "docx_file", "parent_node": support::PARENT, "size": 10}),
        )
        .await
        .expect("prepare")
        .json::<Value>()
        .await
        .expect("JSON");
    let media_upload = body["data"]["upload_id"]
        .as_str()
        .expect("an upload id")
        .to_owned();
    let (status, body) = h.part(&h.token, &media_upload, 0, &bytes, None).await;
    assert_eq!((status, body["code"].as_i64()), (400, Some(1061021)), "{body}");
}

#[tokio::test]
async fn every_received_part_is_logged_with_its_checksum_field() {
    let h = start(Config::default().block_size(4)).await;
    let root = h.server.root_folder().to_owned();
    let (_, body) = h
        .post_json(
            &h.token,
            "upload_prepare",
            json!({"file_name": "c", "parent_type": "explorer", "parent_node": root, "size": 10}),
        )
        .await;
    let upload_id = body["data"]["upload_id"]
        .as_str()
        .expect("an upload id")
        .to_owned();
    let bytes = data(10, 6);
    let (s0, _) = h
        .part(
            &h.token,
            &upload_id,
            0,
            &bytes[0..4],
            Some(&adler32(&bytes[0..4])),
        )
        .await;
    let (s1, _) = h.part(&h.token, &upload_id, 1, &bytes[4..8], None).await;
    let (s2, _) = h.part(&h.token, &upload_id, 2, &bytes[8..], Some("")).await;
    assert_eq!((s0, s1, s2), (200, 200, 200));
    let parts = h.server.received_parts();
    let seen: Vec<(Option<&str>, Option<&str>, u64)> = parts
        .iter()
        .map(|p| (p.seq.as_deref(), p.checksum.as_deref(), p.len))
        .collect();
    let first = adler32(&bytes[0..4]);
    assert_eq!(
        seen,
        [
            (Some("0"), Some(first.as_str()), 4),
            (Some("1"), None, 4),
            (Some("2"), Some(""), 2)
        ]
    );
    assert!(
        parts
            .iter()
            .all(|p| p.upload_id.as_deref() == Some(upload_id.as_str()))
    );
    assert_eq!(
        parts[1].adler32.to_string(),
        adler32(&bytes[4..8]),
        "the server's own checksum of the bytes"
    );
}

#[tokio::test]
async fn a_kept_data_dir_keeps_its_root_folder_files_and_folders() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let config = || Config::default().data_dir(dir.path().join("data"));
    let h = start(config()).await;
    let root = h.server.root_folder().to_owned();
    let sub = folder(&h, &h.token, "", "kept").await;
    let bytes = data(100, 7);
    let (_, body) = h
        .file_upload_all(
            &h.token,
            &[
                ("file_name", "k.bin"),
                ("parent_type", "explorer"),
                ("parent_node", &sub),
            ],
            &bytes,
        )
        .await;
    let file_token = body["data"]["file_token"].as_str().expect("a token").to_owned();
    h.server.shutdown().await.expect("stops");

    let again = Server::start(config()).await.expect("starts again");
    assert_eq!(again.root_folder(), root);
    let h = Harness {
        token: support::tenant_token(
            &reqwest::Client::new(),
            &again.base_url(),
            feishu_drive_server::DEFAULT_APP_ID,
            feishu_drive_server::DEFAULT_APP_SECRET,
        )
        .await
        .expect("a token"),
        server: again,
        http: reqwest::Client::new(),
    };
    let (_, body) = h.list(&h.token, &[]).await;
    assert_eq!(
        body["data"]["files"][0]["token"].as_str(),
        Some(sub.as_str()),
        "{body}"
    );
    let (_, body) = h.list(&h.token, &[("folder_token", &sub)]).await;
    assert_eq!(
        body["data"]["files"][0]["token"].as_str(),
        Some(file_token.as_str()),
        "{body}"
    );
    assert_eq!(
        bytes_of(h.file_download(&h.token, &file_token, &[], None).await).await,
        (200, bytes)
    );
}

/// A data directory from before files had owners (a `meta.json` without `owner`, as the first
/// versions of this server wrote it): its files stay readable, by anyone.
#[tokio::test]
async fn files_from_before_the_owner_check_stay_readable() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let data_dir = dir.path().join("data");
    let file_dir = data_dir.join("files").join("boxcnOldFileWithoutOwner00");
    std::fs::create_dir_all(&file_dir).expect("mkdir");
    std::fs::write(data_dir.join(".feishu-drive-server"), "marker\n").expect("marker");
    std::fs::write(file_dir.join("0"), b"old bytes").expect("block");
    let meta = json!({
        "file_token": "boxcnOldFileWithoutOwner00",
        "file_name": "old.txt",
        "size": 9,
        "blocks": 1,
        "parent_type": "docx_file",
        "parent_node": "doxcnOld",
    });
    std::fs::write(file_dir.join("meta.json"), meta.to_string()).expect("meta");
    let h = start(Config::default().data_dir(&data_dir)).await;
    for token in [h.token.as_str(), "u-someone-else"] {
        let response = h.download_as(token, "boxcnOldFileWithoutOwner00", None).await;
        assert_eq!(
            bytes_of(response).await,
            (200, b"old bytes".to_vec()),
            "as {token}"
        );
    }
}
