//! `--redis` with a real redis-server: the binary needs no feature for the flag it shows.

use feishu_drive_server::Config;

use crate::budget_support::RedisServer;
use crate::support::{Home, LocalServer, run};

#[test]
fn an_upload_with_redis_draws_on_the_shared_budget() {
    let redis = RedisServer::start();
    let server = LocalServer::start(Config::default().block_size(16 * 1024));
    let home = Home::new();
    let file = home.file("shared.bin", 64 * 1024, 3);
    let mut command = home.command();
    command
        .args([
            "--base-url",
            &server.url(),
            "--redis",
            &redis.url(),
            "--rps",
            "50",
            "upload",
        ])
        .arg(&file)
        .args(["--parent-type", "docx_file", "--parent-node", "doxcnRedis"])
        .args(["--chunked-over", "16384"]);
    let finished = run(command);
    assert_eq!(finished.code(), Some(0), "{}", finished.stderr);
    assert!(
        !finished.stderr.contains("unavailable"),
        "Redis was not used: {}",
        finished.stderr
    );
    // Redis itself is the oracle: the budget's keys of the app exist there now.
    let keys = redis.command("KEYS *\r\n").expect("Redis answers");
    assert!(
        keys.contains(&format!(
            "feishu-drive:budget:{}",
            feishu_drive_server::DEFAULT_APP_ID
        )) || keys.contains("feishu-drive:budget"),
        "no budget keys in Redis: {keys}"
    );
    assert_eq!(server.stats().files_finished, 1);
}
