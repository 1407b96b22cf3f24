//! What durability and resume verification cost: the journal per confirmed block, batched as the
//! uploader writes it and, for comparison, with a durable rewrite (write, fsync, rename, fsync of
//! the directory) per block; and re-reading and checking every confirmed block before a resumed
//! upload finishes, per GiB.
//!
//! `cargo bench -p feishu-drive --bench resume` (`RESUME_MIB=N` sets the verified file's size,
//! 1024 by default; `JOURNAL_DIR` where the journal is written, the temp dir by default).

use std::io::Write;
use std::time::Duration;

use feishu_drive::upload::bench_support::{journal_confirm_cost, journal_rewrite_cost, verify_cost};
use feishu_drive::upload::{JOURNAL_BATCH_BLOCKS, JOURNAL_BATCH_INTERVAL};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let journal_dir = std::env::var_os("JOURNAL_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let dir = tempfile::tempdir_in(&journal_dir)?;
    // Both ways in one run, alternating, so load on the machine hits them alike.
    let (mut batched, mut each) = (Vec::new(), Vec::new());
    for run in 0..5 {
        each.push(journal_rewrite_cost(
            &dir.path().join(format!("e{run}.journal")),
            256,
        )?);
        batched.push(journal_confirm_cost(
            &dir.path().join(format!("b{run}.journal")),
            256,
        )?);
    }
    for (what, times) in [
        ("every block written at once (before batching)", &mut each),
        (
            &*format!("batched (at most every {JOURNAL_BATCH_BLOCKS} blocks or {JOURNAL_BATCH_INTERVAL:?})"),
            &mut batched,
        ),
    ] {
        times.sort();
        println!(
            "journal per confirmed block, {what} (256 blocks, 5 runs): median {:.3} ms, min {:.3} ms, max {:.3} ms",
            ms(times[2]),
            ms(times[0]),
            ms(times[4])
        );
    }

    let mib: u64 = std::env::var("RESUME_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    let path = dir.path().join("verify.bin");
    let mut file = std::fs::File::create(&path)?;
    let mut chunk = vec![0_u8; 1024 * 1024];
    for i in 0..mib {
        chunk
            .iter_mut()
            .enumerate()
            .for_each(|(j, b)| *b = (i as usize * 31 + j * 7) as u8);
        file.write_all(&chunk)?;
    }
    file.sync_all()?;
    drop(file);
    let runtime = tokio::runtime::Runtime::new()?;
    let mut times = Vec::new();
    for _ in 0..3 {
        times.push(runtime.block_on(verify_cost(&path, 4 * 1024 * 1024))?);
    }
    times.sort();
    let per_gib = times[1].as_secs_f64() * 1024.0 / mib as f64;
    println!(
        "resume verification (re-read + Adler-32 of every 4 MiB block, page cache warm): {mib} MiB in {:.3} s (median of 3) = {per_gib:.3} s per GiB",
        times[1].as_secs_f64()
    );
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
