//! `feishu-drive plan`: what an upload would cost, from the library's documented limits, without
//! sending anything.

use std::time::Duration;

use feishu_drive::budget::{Group, SPACING_MARGIN};
use feishu_drive::limits::{BLOCK_SIZE, CALLS_PER_DAY};
use serde::Serialize;

use crate::args::{Cli, PlanArgs};
use crate::exit::{CliError, Exit};
use crate::output::Reporter;
use crate::walk;

/// The plan of one batch.
#[derive(Debug, Serialize)]
pub struct Plan {
    /// Always `plan` (the NDJSON tag).
    pub event: &'static str,
    /// Files.
    pub files: u64,
    /// Bytes in all.
    pub bytes: u64,
    /// Files over this go block by block.
    pub chunked_over: u64,
    /// The block size assumed (upload_prepare gives the real one).
    pub block_size: u64,
    /// The client-side rate per operation (0: none).
    pub requests_per_second: u32,
    /// Each operation's calls per app per day.
    pub daily_quota: u64,
    /// Per operation.
    pub operations: Vec<OperationPlan>,
    /// The least time the rate allows (each operation is limited separately, so the busiest
    /// one sets it); bandwidth is not counted.
    pub seconds_at_rate: f64,
    /// Whether every operation fits in one day's quota.
    pub fits: bool,
}

/// One operation's part of a plan.
#[derive(Debug, Serialize)]
pub struct OperationPlan {
    /// The operation.
    pub operation: &'static str,
    /// Requests it takes (without retries).
    pub requests: u64,
    /// Seconds its requests take at the rate.
    pub seconds_at_rate: f64,
    /// Its share of the day's quota (1.0: all of it).
    pub quota_share: f64,
}

/// Counts the requests of files of `sizes` and what they take at `rps`.
pub fn plan(sizes: &[u64], chunked_over: u64, rps: u32) -> Plan {
    let mut requests = [0_u64; Group::ALL.len()];
    let mut count = |group: Group, n: u64| {
        if let Some(slot) = Group::ALL.iter().position(|g| *g == group) {
            requests[slot] += n;
        }
    };
    for &size in sizes {
        if size <= chunked_over {
            count(Group::UploadAll, 1);
        } else {
            count(Group::UploadPrepare, 1);
            count(Group::UploadPart, size.div_ceil(BLOCK_SIZE));
            count(Group::UploadFinish, 1);
        }
    }
    // The budget's own spacing: a second and its margin shared by `rps` requests.
    let interval = match rps {
        0 => Duration::ZERO,
        rps => (Duration::from_secs(1) + SPACING_MARGIN) / rps,
    };
    let operations: Vec<OperationPlan> = Group::ALL
        .iter()
        .zip(requests)
        .filter(|(group, _)| **group != Group::Download)
        .map(|(group, n)| OperationPlan {
            operation: group.as_str(),
            requests: n,
            seconds_at_rate: interval.as_secs_f64() * n as f64,
            quota_share: n as f64 / CALLS_PER_DAY as f64,
        })
        .collect();
    Plan {
        event: "plan",
        files: sizes.len() as u64,
        bytes: sizes.iter().sum(),
        chunked_over,
        block_size: BLOCK_SIZE,
        requests_per_second: rps,
        daily_quota: CALLS_PER_DAY,
        seconds_at_rate: operations.iter().map(|o| o.seconds_at_rate).fold(0.0, f64::max),
        fits: operations.iter().all(|o| o.requests <= CALLS_PER_DAY),
        operations,
    }
}

/// Runs `plan`.
pub fn run(cli: &Cli, args: &PlanArgs, reporter: &Reporter) -> Result<Exit, CliError> {
    let mut sizes: Vec<u64> = if args.paths.is_empty() {
        Vec::new()
    } else {
        walk::collect(&args.paths)?.iter().map(|f| f.size).collect()
    };
    sizes.extend(&args.size);
    let plan = plan(&sizes, args.chunked_over, cli.rps);
    if reporter.is_json() {
        let line = serde_json::to_string(&plan).map_err(|e| CliError::Build(e.to_string()))?;
        println!("{line}");
        return Ok(Exit::Done);
    }
    println!(
        "{} files, {} bytes; files over {} bytes go in blocks of {} bytes",
        plan.files, plan.bytes, plan.chunked_over, plan.block_size
    );
    println!(
        "{:<16} {:>10} {:>14} {:>12}",
        "operation", "requests", "s at rate", "of quota"
    );
    for op in &plan.operations {
        println!(
            "{:<16} {:>10} {:>14.1} {:>11.2}%",
            op.operation,
            op.requests,
            op.seconds_at_rate,
            op.quota_share * 100.0
        );
    }
    let rate = match plan.requests_per_second {
        0 => "no client-side rate limit".to_owned(),
        rps => format!("{rps} requests per second per operation"),
    };
    println!(
        "at least {:.1} s at {rate} (bandwidth not counted); {}",
        plan.seconds_at_rate,
        if plan.fits {
            format!(
                "fits in a day's quota of {} calls per operation",
                plan.daily_quota
            )
        } else {
            format!(
                "does NOT fit in a day's quota of {} calls per operation",
                plan.daily_quota
            )
        }
    );
    Ok(Exit::Done)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1024 * 1024;

    #[test]
    fn small_files_take_one_upload_all_and_large_ones_their_blocks() {
        // 50 MiB: 13 blocks of 4 MiB; 1 MiB: one upload_all.
        let plan = plan(&[50 * MIB, MIB], 20 * MIB, 5);
        let by_name = |name: &str| {
            plan.operations
                .iter()
                .find(|o| o.operation == name)
                .map(|o| o.requests)
        };
        assert_eq!(by_name("upload_part"), Some(13));
        assert_eq!(by_name("upload_prepare"), Some(1));
        assert_eq!(by_name("upload_finish"), Some(1));
        assert_eq!(by_name("upload_all"), Some(1));
        // 13 parts at 5 per second, each 1.025 s / 5 apart.
        assert!(
            (plan.seconds_at_rate - 13.0 * 0.205).abs() < 1e-9,
            "{}",
            plan.seconds_at_rate
        );
        assert!(plan.fits);
    }

    #[test]
    fn a_batch_over_the_daily_quota_does_not_fit() {
        // 10,001 blocks of 4 MiB.
        let plan = plan(&[10_001 * 4 * MIB], 20 * MIB, 5);
        assert!(!plan.fits);
    }
}
