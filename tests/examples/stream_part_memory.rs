//! Peak memory of a generated multipart method sending a large file part, streamed
//! (`{field}_file`) and, for comparison, in memory (`{field}(Bytes)`): prints this process's
//! VmHWM (Linux) after each. A loopback listener in the same process reads and counts the
//! request in 64 KiB pieces.
//!
//! `cargo run --release -p feishu-drive-tests --example stream_part_memory -- [MiB] [--in-memory]`
//! (default 1024 MiB; the file is sparse, so it takes no disk).

#[rustfmt::skip]
#[allow(dead_code, unused_imports, clippy::all, clippy::unwrap_used, missing_debug_implementations)]
#[path = "../fixtures/codegen/corpus/peertube.api.rs"]
mod peertube;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// This process's peak resident set (VmHWM), in KiB.
fn peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Serves one request: reads it whole (counting, keeping nothing), answers 200.
async fn sink(listener: tokio::net::TcpListener) -> u64 {
    let Ok((mut socket, _)) = listener.accept().await else {
        return 0;
    };
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    let mut head = Vec::new();
    let mut expected = None;
    loop {
        let n = socket.read(&mut buf).await.unwrap_or(0);
        if n == 0 {
            break;
        }
        total += n as u64;
        if expected.is_none() {
            head.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&head).to_ascii_lowercase();
            if let Some(end) = text.find("\r\n\r\n") {
                expected = text[..end]
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(|len| len + end as u64 + 4);
                head.clear();
            }
        }
        if expected.is_some_and(|e| total >= e) {
            break;
        }
    }
    let body = r#"{"videoPlaylist": {"id": 7}}"#;
    let response = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = socket.write_all(response.as_bytes()).await;
    total
}

async fn send(path: &std::path::Path, in_memory: bool) -> Result<u64, Box<dyn std::error::Error>> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let server = tokio::spawn(sink(listener));
    let client = peertube::Client::new(&base);
    let builder = client.create_playlist().display_name("big");
    let builder = if in_memory {
        builder.thumbnailfile(tokio::fs::read(path).await?)
    } else {
        builder.thumbnailfile_file(path)
    };
    builder.send().await?;
    Ok(server.await?)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mib: u64 = args.iter().find_map(|a| a.parse().ok()).unwrap_or(1024);
    let in_memory = args.iter().any(|a| a == "--in-memory");
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("big.bin");
    std::fs::File::create(&path)?.set_len(mib * 1024 * 1024)?;
    println!("file: {mib} MiB; peak before sending: {} KiB", peak_kib());
    let sent = send(&path, false).await?;
    println!(
        "streamed ({{field}}_file): {sent} bytes on the wire, peak {} KiB",
        peak_kib()
    );
    if in_memory {
        let sent = send(&path, true).await?;
        println!(
            "in memory ({{field}}(Vec<u8>)): {sent} bytes on the wire, peak {} KiB",
            peak_kib()
        );
    }
    Ok(())
}
