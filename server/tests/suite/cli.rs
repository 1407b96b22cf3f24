//! The `feishu-drive-server` binary: it starts with the documented flags, says where it listens,
//! serves an upload, and stops cleanly on Ctrl-C (SIGINT), deleting its temporary data dir.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::within;

#[tokio::test]
async fn binary_serves_and_stops_on_ctrl_c() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_feishu-drive-server"))
        .args([
            "--addr",
            "127.0.0.1:0",
            "--app-id",
            "cli_cli",
            "--app-secret",
            "cli-secret",
        ])
        .args(["--block-size", "1024", "--rate-limit", "50", "--latency-ms", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let stdout = child.stdout.take().expect("stdout");
    // The reader is kept (returned) so that the server's stdout stays open.
    let (first, second, third, _stdout) = within(
        Duration::from_secs(30),
        child.id(),
        "the first three lines",
        move || {
            let mut stdout = BufReader::new(stdout);
            let (mut first, mut second, mut third) = (String::new(), String::new(), String::new());
            stdout.read_line(&mut first).expect("the listening line");
            stdout.read_line(&mut second).expect("the credentials line");
            stdout.read_line(&mut third).expect("the root folder line");
            (first, second, third, stdout)
        },
    );
    let root_folder = third
        .trim()
        .strip_prefix("root folder: ")
        .unwrap_or_else(|| panic!("unexpected third line: {third:?}"))
        .to_owned();
    let base_url = first
        .trim()
        .strip_prefix("feishu-drive-server listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {first:?}"))
        .to_owned();
    let data_dir = PathBuf::from(second.trim().rsplit(" data in ").next().expect("data dir"));
    assert!(second.contains("app id cli_cli"), "{second}");
    assert!(data_dir.is_dir(), "{}", data_dir.display());

    let http = reqwest::Client::new();
    let token: serde_json::Value = http
        .post(format!(
            "{base_url}/open-apis/auth/v3/tenant_access_token/internal"
        ))
        .json(&serde_json::json!({"app_id": "cli_cli", "app_secret": "cli-secret"}))
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("JSON");
    let token = token["tenant_access_token"].as_str().expect("a token").to_owned();
    let prepared: serde_json::Value = http
        .post(format!("{base_url}/open-apis/drive/v1/medias/upload_prepare"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"file_name": "a", "parent_type": "docx_file", "parent_node": "n", "size": 3000}))
        .send()
        .await
        .expect("prepare")
        .json()
        .await
        .expect("JSON");
    assert_eq!(prepared["data"]["block_size"], 1024, "{prepared}");
    assert_eq!(prepared["data"]["block_num"], 3, "{prepared}");
    // A script can upload into the printed root folder with no set-up.
    let form = reqwest::multipart::Form::new()
        .text("file_name", "into-root.txt")
        .text("parent_type", "explorer")
        .text("parent_node", root_folder.clone())
        .text("size", "5")
        .part("file", reqwest::multipart::Part::bytes(b"hello".to_vec()));
    let uploaded: serde_json::Value = http
        .post(format!("{base_url}/open-apis/drive/v1/files/upload_all"))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .expect("upload_all")
        .json()
        .await
        .expect("JSON");
    assert_eq!(uploaded["code"], 0, "{uploaded}");
    let listed: serde_json::Value = http
        .get(format!("{base_url}/open-apis/drive/v1/files"))
        .query(&[("folder_token", root_folder.as_str())])
        .bearer_auth(&token)
        .send()
        .await
        .expect("list_files")
        .json()
        .await
        .expect("JSON");
    assert_eq!(listed["data"]["files"][0]["name"], "into-root.txt", "{listed}");

    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let exit = loop {
        if let Some(exit) = child.try_wait().expect("wait") {
            break exit;
        }
        assert!(Instant::now() < deadline, "the server did not stop on SIGINT");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(exit.success(), "{exit}");
    assert!(!data_dir.exists(), "the temporary data dir is deleted on exit");
}
