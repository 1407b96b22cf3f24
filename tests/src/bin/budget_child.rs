//! One participant of the multi-process budget tests and benchmark: a raw `Client` uploading one
//! file (prepare, parts, finish) with every request drawn from a `Budget`.
//!
//! `budget-child BASE_URL STORE BLOCKS CONCURRENCY` where STORE is `local` (an in-process
//! budget) or a `redis://` URL. Every refused request (rate limit) is reported to the budget and
//! sent again. Prints one line:
//! `parts: N refusals: R first_part_ms: T0 last_part_ms: T1 fallbacks: F restored: S`
//! (times in Unix milliseconds), then `file_token: <token>`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use feishu_drive::budget::{Budget, BudgetConfig, BudgetEvent, Group};
use feishu_drive::{ApiError, Client, FeishuResult, types};

const APP_ID: &str = "cli_local";
const APP_SECRET: &str = "local-secret";
/// Sends of one request before the child gives up.
const MAX_ATTEMPTS: u32 = 200;

#[derive(Default)]
struct Counters {
    refusals: AtomicU64,
    fallbacks: AtomicU64,
    restored: AtomicU64,
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as u64
}

/// Sends the request `make` builds (through the client, whose hooks draw a permit from the
/// budget for every attempt) until it is not refused for its rate.
async fn send<T, F, Fut>(
    counters: &Counters,
    group: Group,
    make: F,
) -> Result<progenitor_client::ResponseValue<T>, String>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<
            Output = Result<
                progenitor_client::ResponseValue<T>,
                progenitor_client::Error<types::ErrorEnvelope>,
            >,
        >,
    T: feishu_drive::Envelope,
{
    let mut last = String::new();
    for _ in 0..MAX_ATTEMPTS {
        match make().await.checked() {
            Ok(response) => return Ok(response),
            Err(e) if is_refusal(&e) => {
                counters.refusals.fetch_add(1, Ordering::Relaxed);
                last = e.to_string();
            }
            Err(e) if e.is_retryable() => {
                last = e.to_string();
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => return Err(format!("{group}: {e}")),
        }
    }
    Err(format!("{group}: gave up after {MAX_ATTEMPTS} attempts: {last}"))
}

fn is_refusal(e: &ApiError) -> bool {
    e.code() == Some(feishu_drive::ErrorCode::RateLimited)
        || e.status() == Some(reqwest::StatusCode::TOO_MANY_REQUESTS)
}

async fn run(args: &[String]) -> Result<(), String> {
    let [_, base_url, store, blocks, concurrency] = args else {
        return Err("usage: budget-child BASE_URL STORE BLOCKS CONCURRENCY".to_owned());
    };
    let blocks: u64 = blocks.parse().map_err(|_| "BLOCKS must be a number")?;
    let concurrency: usize = concurrency.parse().map_err(|_| "CONCURRENCY must be a number")?;
    let counters = Arc::new(Counters::default());
    let events = counters.clone();
    let mut config = BudgetConfig::new(APP_ID);
    // The tests widen the spacing margin (see tests/tests/suite/budget_processes.rs); unset, the
    // default margin is used, as the benchmark does.
    if let Ok(ms) = std::env::var("BUDGET_SPACING_MARGIN_MS") {
        let ms: u64 = ms
            .parse()
            .map_err(|_| "BUDGET_SPACING_MARGIN_MS must be a number")?;
        config = config.spacing_margin(std::time::Duration::from_millis(ms));
    }
    let config = config.on_event(move |event| match event {
        BudgetEvent::StoreUnavailable { .. } => {
            events.fallbacks.fetch_add(1, Ordering::Relaxed);
        }
        BudgetEvent::StoreRestored => {
            events.restored.fetch_add(1, Ordering::Relaxed);
        }
        _ => {}
    });
    let budget = if store == "local" {
        Budget::in_process(config)
    } else {
        Budget::redis(store, config).map_err(|e| e.to_string())?
    };
    let client = Client::builder(base_url)
        .app_credentials(APP_ID, APP_SECRET)
        .budget(budget)
        .build()
        .map_err(|e| e.to_string())?;

    // The server hands out the block size; ask for a file of `blocks` of them.
    let probe = send(&counters, Group::UploadPrepare, || {
        client.upload_prepare().body(prepare_body(1)).send()
    })
    .await?;
    let block_size = probe
        .data
        .as_ref()
        .map(|d| d.block_size.get())
        .ok_or("upload_prepare gave no block size")?;
    let size = block_size * blocks;
    let prepared = send(&counters, Group::UploadPrepare, || {
        client.upload_prepare().body(prepare_body(size)).send()
    })
    .await?;
    let data = prepared.into_inner().data.ok_or("upload_prepare without data")?;
    let block = bytes::Bytes::from(vec![
        0x5a_u8;
        usize::try_from(block_size).map_err(|_| "block size")?
    ]);

    let next = AtomicU64::new(0);
    let first_part = AtomicU64::new(u64::MAX);
    let last_part = AtomicU64::new(0);
    let worker = || async {
        loop {
            let seq = next.fetch_add(1, Ordering::Relaxed);
            if seq >= blocks {
                return Ok::<(), String>(());
            }
            first_part.fetch_min(unix_ms(), Ordering::Relaxed);
            send(&counters, Group::UploadPart, || {
                client
                    .upload_part()
                    .upload_id(data.upload_id.clone())
                    .seq(seq as i64)
                    .size(block.len())
                    .file(block.clone())
                    .send()
            })
            .await?;
            last_part.fetch_max(unix_ms(), Ordering::Relaxed);
        }
    };
    futures::future::try_join_all((0..concurrency.max(1)).map(|_| worker())).await?;
    let finished = send(&counters, Group::UploadFinish, || {
        client
            .upload_finish()
            .body(
                types::UploadFinishRequest::builder()
                    .upload_id(data.upload_id.clone())
                    .block_num(data.block_num),
            )
            .send()
    })
    .await?;
    let token = finished
        .into_inner()
        .data
        .map(|d| d.file_token.to_string())
        .ok_or("upload_finish without data")?;
    println!(
        "parts: {blocks} refusals: {} first_part_ms: {} last_part_ms: {} fallbacks: {} restored: {}",
        counters.refusals.load(Ordering::Relaxed),
        first_part.load(Ordering::Relaxed),
        last_part.load(Ordering::Relaxed),
        counters.fallbacks.load(Ordering::Relaxed),
        counters.restored.load(Ordering::Relaxed),
    );
    println!("file_token: {token}");
    Ok(())
}

fn prepare_body(size: u64) -> types::builder::UploadPrepareRequest {
    types::UploadPrepareRequest::builder()
        .file_name("budget.bin")
        .parent_type("docx_file")
        .parent_node(types::ParentNode::from("doxcnBudgetTest".to_owned()))
        .size(size as i64)
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().collect();
    match run(&args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
