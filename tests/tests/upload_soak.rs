//! A seeded soak: uploads through a fault-injecting proxy in front of the local server, with
//! uploads interrupted mid-way and their files modified between runs.
//!
//! The proxy, per request and drawn from a seeded RNG: forwards it; answers an HTML 503 or an
//! empty 429 without forwarding; or forwards it and *drops the answer* after the server handled
//! it (the fault the uploader was not built around). Each upload may first be interrupted after a
//! random number of blocks, and its file then changed: a middle block rewritten with the mtime
//! restored, or bytes appended. Invariants: the bytes behind every returned token equal the file
//! as of its last run; the server finished no more media than uploads plus reported duplicates;
//! nothing panics; every upload ends within a bound.
//!
//! CI runs `SOAK_UPLOADS` = 24 (a few seconds); `SOAK_UPLOADS=N SOAK_SEED=S` runs more. The
//! figures are printed.

mod upload_support;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use feishu_drive::upload::{ProgressEvent, RetryPolicy, UploadError, UploadRequest};
use rand::{Rng, SeedableRng};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use upload_support::{BLOCK, assert_round_trip, random_file, server, uploader};

#[derive(Default, Debug)]
struct Injected {
    forwarded: AtomicU64,
    html_503: AtomicU64,
    empty_429: AtomicU64,
    lost_answers: AtomicU64,
}

/// Reads one HTTP/1.1 message (headers + `content-length` body); `None` at end of stream.
async fn read_message(stream: &mut TcpStream) -> std::io::Result<Option<Vec<u8>>> {
    let mut message = Vec::new();
    let mut byte = [0_u8; 1];
    while !message.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await? == 0 {
            return Ok(None);
        }
        message.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&message).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.strip_prefix("content-length:")
                .and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or(0);
    let start = message.len();
    message.resize(start + length, 0);
    stream.read_exact(&mut message[start..]).await?;
    Ok(Some(message))
}

async fn proxy(listener: TcpListener, upstream: String, seed: u64, injected: Arc<Injected>) {
    let rng = Arc::new(Mutex::new(rand::rngs::StdRng::seed_from_u64(seed)));
    while let Ok((mut client, _)) = listener.accept().await {
        let (upstream, rng, injected) = (upstream.clone(), rng.clone(), injected.clone());
        tokio::spawn(async move {
            while let Ok(Some(request)) = read_message(&mut client).await {
                let token_request =
                    String::from_utf8_lossy(&request[..request.len().min(200)]).contains("/auth/");
                let roll: f64 = if token_request {
                    1.0
                } else {
                    rng.lock().expect("rng").random()
                };
                if roll < 0.04 {
                    injected.html_503.fetch_add(1, Ordering::Relaxed);
                    let body = "<html><body>503 Service Temporarily Unavailable</body></html>";
                    let answer = format!(
                        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/html\r\ncontent-length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    if client.write_all(answer.as_bytes()).await.is_err() {
                        return;
                    }
                    continue;
                }
                if roll < 0.07 {
                    injected.empty_429.fetch_add(1, Ordering::Relaxed);
                    if client
                        .write_all(b"HTTP/1.1 429 Too Many Requests\r\ncontent-length: 0\r\n\r\n")
                        .await
                        .is_err()
                    {
                        return;
                    }
                    continue;
                }
                let Ok(mut server) = TcpStream::connect(&upstream).await else {
                    return;
                };
                if server.write_all(&request).await.is_err() {
                    return;
                }
                let Ok(Some(answer)) = read_message(&mut server).await else {
                    return;
                };
                if roll < 0.12 {
                    // Handled by the server; the answer never arrives.
                    injected.lost_answers.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                injected.forwarded.fetch_add(1, Ordering::Relaxed);
                if client.write_all(&answer).await.is_err() {
                    return;
                }
            }
        });
    }
}

#[tokio::test]
async fn seeded_soak_of_faults_interruptions_and_changed_files() {
    let uploads: u64 = std::env::var("SOAK_UPLOADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(24);
    let seed: u64 = std::env::var("SOAK_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(9);
    let server = server(feishu_drive_server::Config::default()).await;
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let proxy_url = format!("http://{}", listener.local_addr().expect("an address"));
    let upstream = server
        .base_url()
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let injected = Arc::new(Injected::default());
    tokio::spawn(proxy(listener, upstream, seed, injected.clone()));

    let through_proxy = feishu_drive::upload::Uploader::builder(&proxy_url)
        .credentials(feishu_drive::auth::AppCredentials::new(
            &server.base_url(),
            feishu_drive_server::DEFAULT_APP_ID,
            feishu_drive_server::DEFAULT_APP_SECRET,
        ))
        .requests_per_second(None)
        .upload_all_max(2 * BLOCK)
        .concurrency(3)
        .stall_timeout(Duration::from_secs(5))
        .retry_policy(RetryPolicy {
            max_retries: 12,
            min_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(100),
        })
        .build()
        .expect("an uploader");
    let reader = uploader(&server, |b| b);
    let dir = tempfile::tempdir().expect("temp dir");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ 0x5eed);
    let (mut duplicates, mut interrupted, mut changed_middle, mut appended, mut blocks_changed) =
        (0, 0, 0, 0, 0);
    let (mut completed, mut failed_typed) = (0_u64, 0_u64);
    for i in 0..uploads {
        // Up to 3 MiB: a middle block of a file over 2 MiB lies outside the first and last MiB the
        // journal's identity samples, so only the per-block check can catch its change.
        let blocks = rng.random_range(1..=48_u64);
        let size = blocks * BLOCK - rng.random_range(0..BLOCK);
        let file = random_file(dir.path(), &format!("f{i}.bin"), size, seed + i);
        let journal = dir.path().join(format!("f{i}.journal"));
        if blocks > 4 && rng.random_bool(0.5) {
            interrupted += 1;
            let stop_after = rng.random_range(1..blocks);
            let cancel = tokio_util::sync::CancellationToken::new();
            let trigger = cancel.clone();
            let first = UploadRequest::file(&file, "docx_file", "doxcn1")
                .journal(&journal)
                .cancel_token(cancel)
                .progress(move |e| {
                    if let ProgressEvent::BlockConfirmed { confirmed_blocks, .. } = e
                        && *confirmed_blocks >= stop_after
                    {
                        trigger.cancel();
                    }
                });
            let _ = tokio::time::timeout(Duration::from_secs(120), through_proxy.upload(first))
                .await
                .expect("an interrupted upload ends within its bound");
            match rng.random_range(0..3) {
                0 => {
                    changed_middle += 1;
                    let mtime = std::fs::metadata(&file)
                        .and_then(|m| m.modified())
                        .expect("mtime");
                    let mut bytes = std::fs::read(&file).expect("read");
                    let at = bytes.len() / 2;
                    bytes[at] = bytes[at].wrapping_add(1);
                    std::fs::write(&file, &bytes).expect("write");
                    std::fs::File::options()
                        .write(true)
                        .open(&file)
                        .and_then(|f| f.set_modified(mtime))
                        .expect("mtime restored");
                }
                1 => {
                    appended += 1;
                    let mut f = std::fs::File::options().append(true).open(&file).expect("open");
                    std::io::Write::write_all(&mut f, b"appended between runs").expect("append");
                }
                _ => {}
            }
        }
        let result = tokio::time::timeout(
            Duration::from_secs(120),
            through_proxy.upload(UploadRequest::file(&file, "docx_file", "doxcn1").journal(&journal)),
        )
        .await
        .expect("an upload ends within its bound");
        match result {
            Ok(outcome) => {
                completed += 1;
                duplicates += u64::from(outcome.possible_duplicates);
                assert_eq!(outcome.possible_duplicate, outcome.possible_duplicates > 0);
                blocks_changed += outcome.blocks_changed;
                assert_round_trip(&reader, &outcome.file_token, &file).await;
            }
            // Retries can run out under this many faults; the failure must be typed, and
            // retryable (nothing permanent was injected).
            Err(e) => {
                assert!(e.is_retryable() || matches!(e, UploadError::Api { .. }), "{e:?}");
                failed_typed += 1;
            }
        }
    }
    let finished = server.stats().files_finished;
    println!(
        "soak (seed {seed}): {uploads} uploads, {completed} completed, {failed_typed} failed typed; {interrupted} interrupted \
         ({changed_middle} middle block changed with mtime restored, {appended} appended); faults: {} HTML 503, \
         {} empty 429, {} lost answers ({} forwarded); {duplicates} possible duplicates reported, {finished} media \
         finished; {blocks_changed} changed blocks re-sent; corruptions: 0",
        injected.html_503.load(Ordering::Relaxed),
        injected.empty_429.load(Ordering::Relaxed),
        injected.lost_answers.load(Ordering::Relaxed),
        injected.forwarded.load(Ordering::Relaxed),
    );
    assert!(
        finished <= completed + failed_typed + duplicates,
        "{finished} media finished for {completed} completed uploads ({failed_typed} failed) and {duplicates} reported duplicates: a silent duplicate"
    );
}
