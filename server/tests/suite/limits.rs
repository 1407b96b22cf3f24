//! The server is safe to run on a real machine: it never deletes a directory it did not make,
//! stalled clients are cut off, connections and uploads in flight are capped, and no value of
//! the configuration makes it panic. Each test fails if its bound does not fire.

use crate::support;

use std::time::Duration;

use feishu_drive_server::{Config, Limits, Server, ServerError};
use serde_json::json;
use support::{PARENT, json_of, start, within};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Every wait on a server process ends within this.
const CHILD_BOUND: Duration = Duration::from_secs(30);

/// Waits (up to 30 s) until the server closes `stream`: a read returns end-of-file or an error.
/// Returns whatever it sent first.
async fn closed_by_server(stream: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let read_all = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), read_all)
        .await
        .expect("the server closes the connection");
    got
}

/// Polls `check` every 20 ms, up to 30 s.
async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..1500 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("never happened: {what}");
}

// ------------------------------------------------------------------------------- data dir

#[tokio::test]
async fn a_foreign_directory_with_files_is_refused_and_survives() {
    let dir = tempfile::tempdir().expect("temp dir");
    // Someone else's directory, with exactly the names the server cleans at start.
    for sub in ["tmp", "uploads", "files"] {
        std::fs::create_dir(dir.path().join(sub)).expect("mkdir");
        std::fs::write(dir.path().join(sub).join("precious.txt"), sub).expect("write");
    }
    std::fs::write(dir.path().join("notes.txt"), "mine").expect("write");
    let refused = Server::start(Config::default().data_dir(dir.path())).await;
    let error = refused.expect_err("a foreign directory is refused");
    assert!(matches!(error, ServerError::ForeignDataDir { .. }), "{error}");
    assert!(
        error.to_string().contains("not created by feishu-drive-server"),
        "{error}"
    );
    for sub in ["tmp", "uploads", "files"] {
        let kept = std::fs::read_to_string(dir.path().join(sub).join("precious.txt")).expect("still there");
        assert_eq!(kept, sub);
    }
    assert_eq!(
        std::fs::read_to_string(dir.path().join("notes.txt")).expect("kept"),
        "mine"
    );
    assert!(!dir.path().join(".feishu-drive-server").exists());
}

#[tokio::test]
async fn a_new_or_empty_directory_is_marked_and_reused() {
    let parent = tempfile::tempdir().expect("temp dir");
    let fresh = parent.path().join("new/nested");
    for dir in [parent.path().join("empty"), fresh] {
        if dir.ends_with("empty") {
            std::fs::create_dir(&dir).expect("mkdir");
        }
        let h = start(Config::default().data_dir(&dir)).await;
        let file = h.stored(&h.token, "kept.txt", b"kept").await;
        // An unfinished upload leaves blocks under uploads/, which the next start clears.
        let (_, _, prepared) = json_of(
            h.prepare_as(
                &h.token,
                json!({"file_name": "u", "parent_type": "docx_file", "parent_node": PARENT, "size": 10}),
            )
            .await
            .expect("prepare"),
        )
        .await;
        let upload_id = prepared["data"]["upload_id"].as_str().expect("id").to_owned();
        assert!(dir.join("uploads").join(&upload_id).is_dir());
        h.server.shutdown().await.expect("shutdown");
        assert!(dir.join(".feishu-drive-server").is_file(), "{}", dir.display());

        let h = start(Config::default().data_dir(&dir)).await;
        assert!(
            !dir.join("uploads").join(&upload_id).exists(),
            "unfinished upload cleared"
        );
        let got = h
            .download_as(&h.token, &file, None)
            .await
            .bytes()
            .await
            .expect("bytes");
        assert_eq!(got.as_ref(), b"kept");
        h.server.shutdown().await.expect("shutdown");
    }
}

#[tokio::test]
async fn the_binary_refuses_a_foreign_data_dir_with_a_clear_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join("tmp")).expect("mkdir");
    std::fs::write(dir.path().join("tmp/keep.txt"), "keep").expect("write");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_feishu-drive-server"))
        .args(["--addr", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("runs");
    // It must exit by itself; one that took the directory would serve until killed.
    let mut exited = false;
    for _ in 0..1500 {
        if child.try_wait().expect("wait").is_some() {
            exited = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    if !exited {
        child.kill().expect("kill");
    }
    let pid = child.id();
    let output = within(CHILD_BOUND, pid, "reaping the server", move || {
        child.wait_with_output()
    })
    .expect("exits");
    assert!(exited, "the server took a foreign directory");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("not created by feishu-drive-server"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("tmp/keep.txt")).expect("kept"),
        "keep"
    );
}

// ------------------------------------------------------------------------ stalled clients

#[tokio::test]
async fn stalled_bodies_and_headers_are_cut_off() {
    let limits = Limits::default()
        .body_idle_timeout(Duration::from_millis(300))
        .header_timeout(Duration::from_millis(300));
    let h = start(Config::default().block_size(64 * 1024).limits(limits)).await;
    let mut stalled_headers = TcpStream::connect(h.server.addr()).await.expect("connect");
    stalled_headers
        .write_all(b"POST /open-apis/drive/v1/medias/upload_part HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("write");
    let mut stalled_body = TcpStream::connect(h.server.addr()).await.expect("connect");
    stalled_body
        .write_all(
            format!(
                "POST /open-apis/drive/v1/medias/upload_part HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
                 Content-Type: multipart/form-data; boundary=X\r\nContent-Length: 100000\r\n\r\n--X\r\n\
                 Content-Disposition: form-data; name=\"file\"\r\n\r\nsome bytes",
                h.token
            )
            .as_bytes(),
        )
        .await
        .expect("write");
    closed_by_server(&mut stalled_body).await;
    closed_by_server(&mut stalled_headers).await;
    assert_eq!(h.server.stats().idle_timeouts, 1);
    assert_eq!(h.server.stats().parts_stored, 0);
    // The stalled body's temporary file is gone with its request.
    let tmp = h.server.data_dir().join("tmp");
    eventually("the temporary body file is deleted", || {
        std::fs::read_dir(&tmp).map(|d| d.count() == 0).unwrap_or(false)
    })
    .await;
    // Everyone else is served.
    h.stored(&h.token, "after.txt", b"after").await;
}

#[tokio::test]
async fn connections_over_the_cap_get_503() {
    let h = start(Config::default().limits(Limits::default().max_connections(2))).await;
    // reqwest's pool holds one connection (the token request); one more raw connection fills the
    // cap.
    let mut held = TcpStream::connect(h.server.addr()).await.expect("connect");
    held.write_all(b"GET /open-apis/drive/v1/medias/x/download HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("write");
    let mut over = TcpStream::connect(h.server.addr()).await.expect("connect");
    over.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("write");
    let answer = closed_by_server(&mut over).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert_eq!(h.server.stats().connections_refused, 1);
    // The pooled connection is still served.
    h.stored(&h.token, "in.txt", b"in").await;
    // Once one closes, a new connection gets in.
    drop(held);
    let addr = h.server.addr();
    let mut served = false;
    for _ in 0..1500 {
        let mut s = TcpStream::connect(addr).await.expect("connect");
        s.write_all(
            b"GET /open-apis/drive/v1/medias/x/download HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .await
        .expect("write");
        let answer = closed_by_server(&mut s).await;
        if !answer.starts_with(b"HTTP/1.1 503") {
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(served, "a freed slot is reused");
}

#[tokio::test]
async fn uploads_in_flight_over_the_cap_are_refused_retryably() {
    let h = start(Config::default().limits(Limits::default().max_uploads_in_flight(1))).await;
    let mut stalled = TcpStream::connect(h.server.addr()).await.expect("connect");
    stalled
        .write_all(
            format!(
                "POST /open-apis/drive/v1/medias/upload_all HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
                 Content-Type: multipart/form-data; boundary=X\r\nContent-Length: 100000\r\n\r\n--X\r\n\
                 Content-Disposition: form-data; name=\"file\"\r\n\r\nsome bytes",
                h.token
            )
            .as_bytes(),
        )
        .await
        .expect("write");
    // The stalled body holds the only slot once the server has started reading it.
    let mut refused = None;
    for _ in 0..1500 {
        let response = h
            .upload_all_as(
                &h.token,
                "b.txt",
                b"b",
                &[("parent_type", "docx_file"), ("parent_node", PARENT)],
            )
            .await;
        if let Ok(response) = response {
            let (status, _, body) = json_of(response).await;
            if body["code"] == json!(1061045) {
                refused = Some(status);
                break;
            }
            assert_eq!(body["code"], json!(0), "{body}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(refused, Some(200), "1061045 comes with HTTP 200");
    assert!(h.server.stats().uploads_refused >= 1);
    // The stalled upload goes away, and uploads are served again.
    drop(stalled);
    let mut stored = false;
    for _ in 0..1500 {
        if let Ok(response) = h
            .upload_all_as(
                &h.token,
                "c.txt",
                b"c",
                &[("parent_type", "docx_file"), ("parent_node", PARENT)],
            )
            .await
            && json_of(response).await.2["code"] == json!(0)
        {
            stored = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(stored, "the slot is freed");
}

// ------------------------------------------------------------------------ extreme values

#[tokio::test]
async fn extreme_configuration_values_never_panic() {
    let config = Config::default()
        .upload_ttl(Duration::MAX)
        .token_ttl(Duration::MAX)
        .block_size(u64::MAX)
        .upload_all_limit(u64::MAX)
        .limits(
            Limits::default()
                .body_idle_timeout(Duration::MAX)
                .header_timeout(Duration::MAX),
        );
    let h = start(config).await;
    let (_, _, prepared) = json_of(
        h.prepare_as(
            &h.token,
            json!({"file_name": "big", "parent_type": "docx_file", "parent_node": PARENT, "size": u64::MAX >> 1}),
        )
        .await
        .expect("prepare"),
    )
    .await;
    assert_eq!(prepared["code"], json!(0), "{prepared}");
    assert_eq!(prepared["data"]["block_num"], json!(1));
    h.stored(&h.token, "s.txt", b"small").await;

    // Values that cannot work are refused with a reason, not a panic.
    for (config, what) in [
        (Config::default().block_size(0), "block_size"),
        (
            Config::default().limits(Limits::default().max_connections(0)),
            "max_connections",
        ),
        (
            Config::default().limits(Limits::default().max_uploads_in_flight(usize::MAX)),
            "max_uploads_in_flight",
        ),
        (
            Config::default().faults(feishu_drive_server::Faults::default().retryable_errors(f64::NAN)),
            "retryable_error_rate",
        ),
    ] {
        let error = Server::start(config).await.expect_err(what);
        assert!(matches!(error, ServerError::InvalidConfig(_)), "{what}: {error}");
        assert!(error.to_string().contains(what), "{what}: {error}");
    }
}

#[test]
fn extreme_flag_values_never_panic() {
    let max = u64::MAX.to_string();
    let runs: Vec<Vec<String>> = vec![
        // Accepted and clamped: the server starts (killed by the closed stdin check below).
        vec![
            "--upload-ttl-secs".into(),
            max.clone(),
            "--token-ttl-secs".into(),
            max.clone(),
            "--latency-ms".into(),
            max.clone(),
            "--block-size".into(),
            max.clone(),
            "--daily-quota".into(),
            max.clone(),
            "--quota-day-secs".into(),
            max.clone(),
            "--slow-link-bps".into(),
            max.clone(),
            "--seed".into(),
            max.clone(),
        ],
        // Refused by the parser with a message.
        vec!["--block-size".into(), "0".into()],
        vec!["--fail-rate".into(), "1.5".into()],
        vec!["--drop-rate".into(), "NaN".into()],
        vec!["--rate-limit".into(), "0".into()],
        vec!["--rate-limit".into(), max.clone()],
        vec!["--max-connections".into(), max.clone()],
        vec!["--body-idle-timeout-secs".into(), max.clone()],
        vec!["--fault".into(), "html-999:upload-part:rate=1".into()],
        vec!["--fault".into(), "lose-response:upload-part".into()],
        vec!["--fault".into(), "delay-99999999999999999999:all:first=1".into()],
        vec!["--fault".into(), "json-202:nowhere:first=1".into()],
    ];
    for (i, args) in runs.iter().enumerate() {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_feishu-drive-server"))
            .args(["--addr", "127.0.0.1:0"])
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("runs");
        let pid = child.id();
        if i == 0 {
            // It must come up and say where it listens.
            use std::io::BufRead;
            let stdout = child.stdout.take().expect("stdout");
            let line = within(CHILD_BOUND, pid, "the listening line", move || {
                let mut line = String::new();
                std::io::BufReader::new(stdout).read_line(&mut line).map(|_| line)
            })
            .expect("a line");
            assert!(line.starts_with("feishu-drive-server listening on"), "{line}");
            child.kill().expect("kill");
            let output = within(CHILD_BOUND, pid, "reaping the server", move || {
                child.wait_with_output()
            })
            .expect("exits");
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(!stderr.contains("panicked"), "{stderr}");
            continue;
        }
        let output = within(CHILD_BOUND, pid, "the server's exit", move || {
            child.wait_with_output()
        })
        .expect("exits");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(stderr.contains("error:"), "{args:?}: {stderr}");
    }
}
