//! Adler-32 throughput on 4 MiB blocks: the SIMD crate in the hot path vs the `adler32` crate.
//!
//! `cargo bench -p feishu-drive --bench adler32` prints GB/s for both, measured in the same run.

use std::hint::black_box;
use std::time::{Duration, Instant};

const BLOCK: usize = 4 * 1024 * 1024;

fn main() {
    let block: Vec<u8> = (0..BLOCK)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let simd = feishu_drive::checksum::adler32(&block);
    let reference = adler32::adler32(&block[..]).unwrap_or_default();
    assert_eq!(simd, reference, "the two implementations disagree");

    let simd_rate = throughput(&block, feishu_drive::checksum::adler32);
    let reference_rate = throughput(&block, |b| adler32::adler32(b).unwrap_or_default());
    println!("adler32 on 4 MiB blocks (best of 5 runs of >= 0.5 s):");
    println!("  simd-adler32 (hot path): {simd_rate:7.1} GB/s");
    println!("  adler32 crate (oracle):  {reference_rate:7.1} GB/s");
    println!("  speed-up: {:.1}x", simd_rate / reference_rate);
}

/// GB/s of `f` over `block`: the best of five runs of at least half a second each.
fn throughput(block: &[u8], f: impl Fn(&[u8]) -> u32) -> f64 {
    (0..5)
        .map(|_| {
            let started = Instant::now();
            let mut bytes = 0_u64;
            while started.elapsed() < Duration::from_millis(500) {
                black_box(f(black_box(block)));
                bytes += block.len() as u64;
            }
            bytes as f64 / started.elapsed().as_secs_f64() / 1e9
        })
        .fold(0.0, f64::max)
}
