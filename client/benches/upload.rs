//! Upload throughput against the local server: the `Uploader` vs an "ideal client", and the
//! `Uploader` under the server's 5 QPS limit.
//!
//! ```sh
//! # Everything, against an in-process server (client and server share the process):
//! cargo bench -p feishu-drive --bench upload
//! # Against a server running as its own process (scripts/bench-upload.sh does this):
//! cargo bench -p feishu-drive --bench upload -- --base-url http://127.0.0.1:8787 --only throughput
//! ```
//!
//! Flags (after `--`): `--base-url URL` (default: an in-process server), `--app-id`,
//! `--app-secret`, `--size-mib N` (1024), `--runs N` (3), `--concurrency 4,8` (4,8),
//! `--only throughput|ratelimit` (both), `--rl-size-mib N` (200).
//!
//! * throughput: a file of random bytes in a temporary directory. Each run uploads it with the
//!   `Uploader` (`requests_per_second(None)`) and with the ideal client: the same blocks held in
//!   memory as `Bytes`, multipart forms built from them with no checksum, `upload_prepare` + N
//!   concurrent `upload_part` + `upload_finish` through reqwest directly, with the same
//!   reqwest settings as the uploader. The two alternate within each run; the median of the runs
//!   is reported.
//! * ratelimit: an in-process server enforcing 5 requests per second per endpoint (gateway
//!   style, HTTP 429), the `Uploader` at its default 5 requests per second. Reported: MiB/s vs
//!   the ceiling `size / ((block_num + 2) / 5 s)`, and the requests the server refused.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use feishu_drive::Client;
use feishu_drive::auth::AppCredentials;
use feishu_drive::upload::{ProgressEvent, UploadRequest};
use feishu_drive_server::{Config, Faults, RateLimitStyle, Server};
use serde_json::{Value, json};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const MIB: u64 = 1024 * 1024;
const PARENT_TYPE: &str = "docx_file";
const PARENT_NODE: &str = "doxcnBenchUpload";

#[derive(Debug)]
struct Opts {
    base_url: Option<String>,
    app_id: String,
    app_secret: String,
    size_mib: u64,
    runs: usize,
    concurrency: Vec<usize>,
    throughput: bool,
    ratelimit: bool,
    rl_size_mib: u64,
}

fn opts() -> Result<Opts, BoxError> {
    let mut opts = Opts {
        base_url: None,
        app_id: feishu_drive_server::DEFAULT_APP_ID.to_owned(),
        app_secret: feishu_drive_server::DEFAULT_APP_SECRET.to_owned(),
        size_mib: 1024,
        runs: 3,
        concurrency: vec![4, 8],
        throughput: true,
        ratelimit: true,
        rl_size_mib: 200,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            // cargo bench passes `--bench` to harness = false targets.
            "--bench" => {}
            "--base-url" => opts.base_url = Some(value()?),
            "--app-id" => opts.app_id = value()?,
            "--app-secret" => opts.app_secret = value()?,
            "--size-mib" => opts.size_mib = value()?.parse()?,
            "--runs" => opts.runs = value()?.parse()?,
            "--concurrency" => {
                opts.concurrency = value()?.split(',').map(str::parse).collect::<Result<_, _>>()?;
            }
            "--only" => match value()?.as_str() {
                "throughput" => opts.ratelimit = false,
                "ratelimit" => opts.throughput = false,
                other => return Err(format!("--only throughput|ratelimit, not {other}").into()),
            },
            "--rl-size-mib" => opts.rl_size_mib = value()?.parse()?,
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    Ok(opts)
}

fn main() -> Result<(), BoxError> {
    let opts = opts()?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        if opts.throughput {
            throughput(&opts).await?;
        }
        if opts.ratelimit {
            rate_limited(&opts).await?;
        }
        Ok(())
    })
}

// ------------------------------------------------------------------------------- throughput

async fn throughput(opts: &Opts) -> Result<(), BoxError> {
    let size = opts.size_mib * MIB;
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("random.bin");
    write_random(&path, size)?;
    // The ideal client's blocks: the file's bytes, in memory.
    let data = Bytes::from(std::fs::read(&path)?);

    let local;
    let base_url = match &opts.base_url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => {
            local = Server::start(Config::default()).await?;
            local.base_url()
        }
    };
    let server_kind = if opts.base_url.is_some() {
        "separate process"
    } else {
        "in-process"
    };
    println!(
        "upload throughput: {} MiB of random bytes to {base_url} ({server_kind}), {} runs, median reported",
        opts.size_mib, opts.runs
    );

    let mut uploader_rates = vec![Vec::new(); opts.concurrency.len()];
    let mut ideal_rates = vec![Vec::new(); opts.concurrency.len()];
    for run in 1..=opts.runs {
        for (i, &concurrency) in opts.concurrency.iter().enumerate() {
            let cpu = cpu_secs();
            let secs = uploader_once(opts, &base_url, &path, size, concurrency, None)
                .await?
                .0;
            let (rate, cpu) = (mib_per_s(size, secs), cpu_secs() - cpu);
            println!(
                "  run {run} uploader     c={concurrency}: {secs:6.2} s {rate:8.1} MiB/s, client CPU {cpu:5.2} s"
            );
            uploader_rates[i].push(rate);

            let cpu = cpu_secs();
            let secs = ideal_once(opts, &base_url, &data, concurrency).await?;
            let (rate, cpu) = (mib_per_s(size, secs), cpu_secs() - cpu);
            println!(
                "  run {run} ideal client c={concurrency}: {secs:6.2} s {rate:8.1} MiB/s, client CPU {cpu:5.2} s"
            );
            ideal_rates[i].push(rate);
        }
    }
    println!("summary (median MiB/s):");
    for (i, &concurrency) in opts.concurrency.iter().enumerate() {
        let (uploader, ideal) = (median(&uploader_rates[i]), median(&ideal_rates[i]));
        println!(
            "  concurrency {concurrency}: uploader {uploader:8.1}  ideal {ideal:8.1}  uploader/ideal {:5.1}%",
            uploader / ideal * 100.0
        );
    }
    Ok(())
}

/// One upload with the `Uploader`; returns (seconds, retries seen).
async fn uploader_once(
    opts: &Opts,
    base_url: &str,
    path: &std::path::Path,
    size: u64,
    concurrency: usize,
    rps: Option<Option<u32>>,
) -> Result<(f64, u64), BoxError> {
    let mut builder = Client::builder(base_url)
        .token_source(AppCredentials::new(base_url, &opts.app_id, &opts.app_secret))
        .concurrency(concurrency)
        // Always the chunked flow, whatever the size.
        .upload_all_max(0);
    // `None`: no client-side limit; `Some(x)`: as given; the default otherwise.
    builder = match rps {
        None => builder.requests_per_second(None),
        Some(None) => builder,
        Some(Some(limit)) => builder.requests_per_second(Some(limit)),
    };
    let uploader = builder.build()?;
    let retrying = Arc::new(AtomicU64::new(0));
    let seen = Arc::clone(&retrying);
    let request = UploadRequest::file(path, PARENT_TYPE, PARENT_NODE).progress(move |event| {
        if let ProgressEvent::Retrying {
            operation,
            error,
            delay,
        } = event
        {
            seen.fetch_add(1, Ordering::Relaxed);
            println!("    retrying {operation} in {delay:.2?}: {error}");
        }
    });
    let started = Instant::now();
    let outcome = uploader.upload(request).await?;
    let secs = started.elapsed().as_secs_f64();
    if outcome.size != size || !outcome.chunked {
        return Err(format!("unexpected outcome {outcome:?}").into());
    }
    Ok((secs, retrying.load(Ordering::Relaxed)))
}

/// One upload with the ideal client: prepare, N concurrent parts from in-memory `Bytes` (no
/// file reads, no checksums), finish. Same reqwest settings as the `Uploader`.
async fn ideal_once(opts: &Opts, base_url: &str, data: &Bytes, concurrency: usize) -> Result<f64, BoxError> {
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(120))
        .pool_max_idle_per_host(concurrency.max(4))
        .build()?;
    let started = Instant::now();
    let token = {
        let body = json!({"app_id": opts.app_id, "app_secret": opts.app_secret});
        let url = format!("{base_url}/open-apis/auth/v3/tenant_access_token/internal");
        let reply = checked(http.post(url).json(&body).send().await?).await?;
        reply["tenant_access_token"]
            .as_str()
            .ok_or("no tenant_access_token")?
            .to_owned()
    };
    let auth = format!("Bearer {token}");
    let body = json!({
        "file_name": "random.bin",
        "parent_type": PARENT_TYPE,
        "parent_node": PARENT_NODE,
        "size": data.len(),
    });
    let url = format!("{base_url}/open-apis/drive/v1/medias/upload_prepare");
    let prepared = checked(
        http.post(url)
            .header("authorization", &auth)
            .json(&body)
            .send()
            .await?,
    )
    .await?;
    let upload_id = prepared["data"]["upload_id"]
        .as_str()
        .ok_or("no upload_id")?
        .to_owned();
    let block_size = prepared["data"]["block_size"].as_u64().ok_or("no block_size")? as usize;
    let block_num = data.len().div_ceil(block_size);

    // Pre-built multipart bodies: each part's file is a zero-copy slice of `data`.
    let forms: std::collections::VecDeque<_> = (0..block_num)
        .map(|seq| {
            let block = data.slice(seq * block_size..((seq + 1) * block_size).min(data.len()));
            let len = block.len() as u64;
            let part = reqwest::multipart::Part::stream_with_length(block, len)
                .file_name("random.bin")
                .mime_str("application/octet-stream")?;
            Ok::<_, reqwest::Error>(
                reqwest::multipart::Form::new()
                    .text("upload_id", upload_id.clone())
                    .text("seq", seq.to_string())
                    .text("size", len.to_string())
                    .part("file", part),
            )
        })
        .collect::<Result<_, _>>()?;
    let forms = std::sync::Mutex::new(forms);
    let url = format!("{base_url}/open-apis/drive/v1/medias/upload_part");
    let worker = || async {
        loop {
            let Some(form) = forms.lock().map_err(|_| "poisoned")?.pop_front() else {
                return Ok::<(), BoxError>(());
            };
            checked(
                http.post(&url)
                    .header("authorization", &auth)
                    .multipart(form)
                    .send()
                    .await?,
            )
            .await?;
        }
    };
    futures::future::try_join_all((0..concurrency).map(|_| worker())).await?;

    let body = json!({"upload_id": upload_id, "block_num": block_num});
    let url = format!("{base_url}/open-apis/drive/v1/medias/upload_finish");
    let finished = checked(
        http.post(url)
            .header("authorization", &auth)
            .json(&body)
            .send()
            .await?,
    )
    .await?;
    finished["data"]["file_token"].as_str().ok_or("no file_token")?;
    Ok(started.elapsed().as_secs_f64())
}

/// The JSON envelope of a 200 with `code` 0, or an error.
async fn checked(response: reqwest::Response) -> Result<Value, BoxError> {
    let status = response.status();
    let body: Value = response.json().await?;
    if !status.is_success() || body["code"].as_i64() != Some(0) {
        return Err(format!("HTTP {status}: {body}").into());
    }
    Ok(body)
}

// ------------------------------------------------------------------------------- rate limit

async fn rate_limited(opts: &Opts) -> Result<(), BoxError> {
    const QPS: u32 = 5;
    let size = opts.rl_size_mib * MIB;
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("random.bin");
    write_random(&path, size)?;
    let config = Config::default().faults(Faults::default().rate_limit(QPS, RateLimitStyle::Gateway));
    let block_size = config.block_size;
    println!(
        "rate-limited upload: {} MiB, in-process server at {QPS} QPS per endpoint (gateway 429s), \
         uploader at its default requests_per_second and concurrency, {} runs",
        opts.rl_size_mib, opts.runs
    );
    let block_num = size.div_ceil(block_size);
    // Every request the client sends goes through its limiter: prepare + parts + finish.
    let requests = block_num + 2;
    let ceiling = mib_per_s(size, requests as f64 / f64::from(QPS));
    let mut rates = Vec::new();
    for run in 1..=opts.runs {
        let server = Server::start(config.clone()).await?;
        let base_url = server.base_url();
        let creds = Opts {
            app_id: feishu_drive_server::DEFAULT_APP_ID.to_owned(),
            app_secret: feishu_drive_server::DEFAULT_APP_SECRET.to_owned(),
            base_url: None,
            concurrency: Vec::new(),
            ..*opts
        };
        let (secs, retries) = uploader_once(
            &creds,
            &base_url,
            &path,
            size,
            feishu_drive::upload::DEFAULT_CONCURRENCY,
            Some(None),
        )
        .await?;
        let stats = server.stats();
        server.shutdown().await?;
        let rate = mib_per_s(size, secs);
        println!(
            "  run {run}: {secs:6.2} s {rate:6.2} MiB/s = {:5.1}% of the {ceiling:.2} MiB/s ceiling \
             ({requests} requests / {QPS} per s); server rate_limited {}, client retries {retries}",
            rate / ceiling * 100.0,
            stats.rate_limited
        );
        rates.push(rate);
    }
    let rate = median(&rates);
    println!(
        "summary: median {rate:.2} MiB/s = {:.1}% of the ceiling {ceiling:.2} MiB/s",
        rate / ceiling * 100.0
    );
    Ok(())
}

// ------------------------------------------------------------------------------- helpers

/// Writes `size` pseudo-random bytes (SplitMix64: incompressible, fast to make).
fn write_random(path: &std::path::Path, size: u64) -> Result<(), BoxError> {
    let mut file = std::io::BufWriter::with_capacity(4 * MIB as usize, std::fs::File::create(path)?);
    let mut state = 0x9e37_79b9_7f4a_7c15_u64 ^ size;
    let mut chunk = vec![0_u8; MIB as usize];
    let mut left = size;
    while left > 0 {
        for word in chunk.chunks_exact_mut(8) {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            word.copy_from_slice(&(z ^ (z >> 31)).to_le_bytes());
        }
        let n = left.min(MIB) as usize;
        file.write_all(&chunk[..n])?;
        left -= n as u64;
    }
    file.flush()?;
    Ok(())
}

/// CPU seconds (user + system) this process used so far, from /proc/self/stat (0 elsewhere).
fn cpu_secs() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let ticks: f64 = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|t| t.parse::<f64>().ok())
        .sum();
    ticks / 100.0
}

fn mib_per_s(bytes: u64, secs: f64) -> f64 {
    bytes as f64 / MIB as f64 / secs.max(1e-9)
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}
