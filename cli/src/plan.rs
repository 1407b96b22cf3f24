//! `feishu-drive plan`: what an upload would cost — the library's batch plan of the same files
//! and target — without sending anything.

use std::time::Duration;

use feishu_drive::batch::{BatchRequest, Plan, PlanSettings};
use feishu_drive::budget::BudgetConfig;

use crate::args::{Cli, PlanArgs};
use crate::exit::{CliError, Exit};
use crate::output::Reporter;
use crate::walk;

/// The plan of the paths and sizes of `args` at `rps` requests per second per operation.
pub fn plan(args: &PlanArgs, rps: u32) -> Result<Plan, CliError> {
    let target = match &args.folder {
        Some(folder) => BatchRequest::to_folder(folder.clone()),
        // The target of media does not change the count; the plan needs none.
        None => BatchRequest::to_parent("", ""),
    };
    let request = walk::add_paths(target, &args.paths, args.folder.is_some())?;
    let spacing = match rps {
        0 => Duration::ZERO,
        rps => BudgetConfig::new("plan").requests_per_second(rps).spacing(),
    };
    let settings = PlanSettings::documented()
        .upload_all_max(args.chunked_over)
        .spacing(spacing);
    Ok(request.plan_adding(&args.size, settings))
}

/// Runs `plan`.
pub fn run(cli: &Cli, args: &PlanArgs, reporter: &Reporter) -> Result<Exit, CliError> {
    let plan = plan(args, cli.rps)?;
    if reporter.is_json() {
        let mut line = serde_json::to_value(&plan).map_err(|e| CliError::Build(e.to_string()))?;
        if let Some(object) = line.as_object_mut() {
            object.insert("event".to_owned(), "plan".into());
            object.insert("requests_per_second".to_owned(), cli.rps.into());
        }
        println!("{line}");
        return Ok(Exit::Done);
    }
    println!(
        "{} files, {} bytes; files over {} bytes go in blocks of {} bytes",
        plan.files, plan.bytes, plan.upload_all_max, plan.block_size
    );
    println!(
        "{:<20} {:>10} {:>14} {:>12}",
        "operation", "requests", "s at rate", "of quota"
    );
    for op in &plan.operations {
        println!(
            "{:<20} {:>10} {:>14.1} {:>11.2}%",
            op.operation.as_str(),
            op.requests,
            op.seconds_at_rate,
            op.quota_share * 100.0
        );
    }
    let rate = match cli.rps {
        0 => "no client-side rate limit".to_owned(),
        rps => format!("{rps} requests per second per operation"),
    };
    let quota = plan.daily_quota.map_or_else(
        || "no daily quota".to_owned(),
        |q| format!("a day's quota of {q} calls per operation"),
    );
    println!(
        "at least {:.1} s at {rate} (bandwidth not counted); {} {quota}",
        plan.seconds_at_rate,
        if plan.fits { "fits in" } else { "does NOT fit in" },
    );
    Ok(Exit::Done)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1024 * 1024;

    fn sizes(sizes: &[u64]) -> PlanArgs {
        PlanArgs {
            paths: Vec::new(),
            size: sizes.to_vec(),
            chunked_over: 20 * MIB,
            folder: None,
        }
    }

    fn requests(plan: &Plan, name: &str) -> Option<u64> {
        plan.operations
            .iter()
            .find(|o| o.operation.as_str() == name)
            .map(|o| o.requests)
    }

    #[test]
    fn small_files_take_one_upload_all_and_large_ones_their_blocks() {
        // 50 MiB: 13 blocks of 4 MiB; 1 MiB: one upload_all.
        let plan = plan(&sizes(&[50 * MIB, MIB]), 5).expect("a plan");
        assert_eq!(requests(&plan, "upload_part"), Some(13));
        assert_eq!(requests(&plan, "upload_prepare"), Some(1));
        assert_eq!(requests(&plan, "upload_finish"), Some(1));
        assert_eq!(requests(&plan, "upload_all"), Some(1));
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
        let plan = plan(&sizes(&[10_001 * 4 * MIB]), 5).expect("a plan");
        assert!(!plan.fits);
    }

    #[test]
    fn a_folder_batch_counts_its_listing_and_folders() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("a/b")).expect("dirs");
        std::fs::write(dir.path().join("a/b/x.txt"), b"x").expect("file");
        let args = PlanArgs {
            paths: vec![dir.path().to_owned()],
            folder: Some("fldcn1".to_owned()),
            ..sizes(&[])
        };
        let plan = plan(&args, 5).expect("a plan");
        assert_eq!(requests(&plan, "list_files"), Some(1));
        assert_eq!(requests(&plan, "create_folder"), Some(2));
        assert_eq!(requests(&plan, "file_upload_all"), Some(1));
    }
}
