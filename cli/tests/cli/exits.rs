//! The documented exit codes, and the messages that come with them.

use std::time::Duration;

use feishu_drive_server::Config;

use crate::support::{Home, LocalServer, named, run};

#[test]
fn usage_errors_exit_2_and_say_what_to_do() {
    let home = Home::new();
    let file = home.file("a.txt", 10, 1);

    let mut no_target = home.command();
    no_target.arg("upload").arg(&file);
    let finished = run(no_target);
    assert_eq!(finished.code(), Some(2), "{}", finished.stderr);
    assert!(finished.stderr.contains("--parent-type"), "{}", finished.stderr);

    // No credentials and no base URL: point at `serve`.
    let mut no_credentials = home.command();
    no_credentials
        .arg("upload")
        .arg(&file)
        .args(["--parent-type", "docx_file"]);
    let finished = run(no_credentials);
    assert_eq!(finished.code(), Some(2), "{}", finished.stderr);
    assert!(finished.stderr.contains("LARK_APP_ID"), "{}", finished.stderr);
    assert!(
        finished.stderr.contains("feishu-drive serve"),
        "{}",
        finished.stderr
    );

    // --if-exists overwrite: Drive has no in-place overwrite; refused, saying what to use.
    let mut overwrite = home.command();
    overwrite
        .args(["--base-url", "http://127.0.0.1:9", "upload"])
        .arg(&file)
        .args(["--folder", "fldcn1", "--if-exists", "overwrite"]);
    let finished = run(overwrite);
    assert_eq!(finished.code(), Some(2), "{}", finished.stderr);
    assert!(
        finished.stderr.contains("--if-exists version"),
        "{}",
        finished.stderr
    );

    // --if-exists decides from a folder's listing: a doc has none.
    let mut no_folder = home.command();
    no_folder
        .args(["--base-url", "http://127.0.0.1:9", "upload"])
        .arg(&file)
        .args(["--parent-type", "docx_file", "--if-exists", "skip"]);
    let finished = run(no_folder);
    assert_eq!(finished.code(), Some(2), "{}", finished.stderr);
    assert!(finished.stderr.contains("--folder"), "{}", finished.stderr);

    let mut missing = home.command();
    missing.args([
        "--base-url",
        "http://127.0.0.1:9",
        "upload",
        "no-such-file",
        "--parent-type",
        "docx_file",
    ]);
    let finished = run(missing);
    assert_eq!(finished.code(), Some(2), "{}", finished.stderr);
    assert!(finished.stderr.contains("no-such-file"), "{}", finished.stderr);
}

#[test]
fn refused_credentials_exit_4_with_the_code_and_no_secret_printed() {
    let server = LocalServer::start(Config::default());
    let home = Home::new();
    let file = home.file("a.txt", 10, 1);
    let mut command = home.command();
    command
        .env("LARK_APP_ID", feishu_drive_server::DEFAULT_APP_ID)
        .env("LARK_APP_SECRET", "not-the-secret-xyz")
        .args(["--json", "--base-url", &server.url(), "--rps", "0", "upload"])
        .arg(&file)
        .arg(&file)
        .args(["--parent-type", "docx_file", "--parent-node", "doxcnX"]);
    let finished = run(command);
    assert_eq!(finished.code(), Some(4), "{}", finished.stderr);
    let events = finished.events();
    let failed = named(&events, "failed");
    assert_eq!(
        failed.len(),
        1,
        "the batch stops at the first refusal: {}",
        finished.stdout
    );
    assert!(failed[0]["code"].as_i64().is_some(), "{}", failed[0]);
    for output in [&finished.stdout, &finished.stderr] {
        assert!(
            !output.contains("not-the-secret-xyz"),
            "the secret was printed: {output}"
        );
    }
}

/// Nothing listens at the base URL: the token source's own backoff (about 10 s), once, then exit
/// 3 with the cause (a refused connection) and what to do, and the other files left for the next
/// run. The request that needed the token used to retry the token source's whole backoff nine
/// times: two and a half minutes of warnings first, past this test's bound.
#[test]
fn an_unreachable_token_endpoint_exits_3_after_one_backoff_saying_why() {
    let home = Home::new();
    let (a, b) = (home.file("a.txt", 10, 1), home.file("b.txt", 20, 2));
    // A port that was free a moment ago: nothing accepts on it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let mut command = home.command();
    command
        .env("LARK_APP_ID", feishu_drive_server::DEFAULT_APP_ID)
        .env("LARK_APP_SECRET", feishu_drive_server::DEFAULT_APP_SECRET)
        .args([
            "--json",
            "--base-url",
            &format!("http://127.0.0.1:{port}"),
            "--rps",
            "0",
            "upload",
        ])
        .args([&a, &b])
        .args([
            "--files",
            "1",
            "--parent-type",
            "docx_file",
            "--parent-node",
            "doxcnX",
        ]);
    let finished = crate::support::Running::spawn(&mut command, true).wait(Duration::from_secs(60));
    assert_eq!(finished.code(), Some(3), "{}", finished.stderr);
    assert!(
        finished.stderr.contains("Connection refused"),
        "{}",
        finished.stderr
    );
    assert!(
        finished.stderr.contains("no access token could be had"),
        "{}",
        finished.stderr
    );
    let events = finished.events();
    assert_eq!(named(&events, "failed").len(), 1, "{}", finished.stdout);
    let summary = events.last().expect("a summary");
    assert_eq!(summary["not_started"].as_u64(), Some(1), "{summary}");
}

#[test]
fn failed_uploads_in_a_batch_exit_3_with_code_and_log_id() {
    let server = LocalServer::start(Config::default());
    let home = Home::new();
    let a = home.file("a.txt", 10, 1);
    let b = home.file("b.txt", 20, 2);
    let mut command = home.command();
    // The server says parent nodes starting with "missing" do not exist (1061044).
    command
        .args(["--json", "--base-url", &server.url(), "--rps", "0", "upload"])
        .arg(&a)
        .arg(&b)
        .args(["--parent-type", "docx_file", "--parent-node", "missing-doc"]);
    let finished = run(command);
    assert_eq!(finished.code(), Some(3), "{}", finished.stderr);
    let events = finished.events();
    let failed = named(&events, "failed");
    assert_eq!(failed.len(), 2, "{}", finished.stdout);
    for event in failed {
        assert_eq!(event["code"], 1_061_044, "{event}");
        assert!(
            event["log_id"].as_str().is_some_and(|id| !id.is_empty()),
            "{event}"
        );
        // The error table's advice for the code (1061044: the parent node does not exist).
        assert!(
            event["hint"].as_str().is_some_and(|h| h.contains("parent node")),
            "{event}"
        );
    }
    let summary = events.last().expect("summary");
    assert_eq!(
        (summary["failed"].as_u64(), summary["exit_code"].as_u64()),
        (Some(2), Some(3))
    );
}

/// A run that cannot start because of a Feishu error (a target folder that does not exist) says
/// the code, the log id and what to do, on stderr and in its `failed` event.
#[test]
fn a_missing_target_folder_says_its_code_and_what_to_do() {
    let server = LocalServer::start(Config::default());
    let home = Home::new();
    let a = home.file("a.txt", 10, 1);
    let upload = |json: bool| {
        let mut command = home.command();
        if json {
            command.arg("--json");
        }
        command
            .args(["--base-url", &server.url(), "--rps", "0", "upload"])
            .arg(&a)
            .args(["--folder", "fldcnNoSuchFolder"]);
        run(command)
    };
    let plain = upload(false);
    assert_eq!(plain.code(), Some(1), "{}", plain.stderr);
    assert!(plain.stderr.contains("1061003"), "{}", plain.stderr);
    assert!(
        plain
            .stderr
            .contains("what to do: Check that the resource exists"),
        "{}",
        plain.stderr
    );
    let json = upload(true);
    let events = json.events();
    let failed = named(&events, "failed");
    assert_eq!(failed.len(), 1, "{}", json.stdout);
    assert_eq!(failed[0]["code"], 1_061_003, "{}", failed[0]);
    assert!(failed[0]["log_id"].as_str().is_some(), "{}", failed[0]);
    assert!(failed[0]["hint"].as_str().is_some(), "{}", failed[0]);
}

#[test]
fn a_config_file_readable_by_others_is_refused_and_a_private_one_used() {
    use std::os::unix::fs::PermissionsExt;
    let server = LocalServer::start(Config::default());
    let home = Home::new();
    let file = home.file("a.txt", 10, 1);
    let config = home.path().join("config/feishu-drive/config.toml");
    std::fs::create_dir_all(config.parent().expect("a parent")).expect("config dir");
    std::fs::write(
        &config,
        format!(
            "app_id = \"{}\"\napp_secret = \"{}\"\nbase_url = \"{}\"\n",
            feishu_drive_server::DEFAULT_APP_ID,
            feishu_drive_server::DEFAULT_APP_SECRET,
            server.url()
        ),
    )
    .expect("config written");
    let upload = || {
        let mut command = home.command();
        command.args(["--rps", "0", "upload"]).arg(&file).args([
            "--parent-type",
            "docx_file",
            "--parent-node",
            "doxcnCfg",
        ]);
        run(command)
    };
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let refused = upload();
    assert_eq!(refused.code(), Some(2), "{}", refused.stderr);
    assert!(refused.stderr.contains("chmod 600"), "{}", refused.stderr);
    assert!(
        !refused.stderr.contains(feishu_drive_server::DEFAULT_APP_SECRET),
        "{}",
        refused.stderr
    );

    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let used = upload();
    assert_eq!(used.code(), Some(0), "{}", used.stderr);
    assert!(used.stdout.starts_with("boxcn"), "{}", used.stdout);
    assert_eq!(server.stats().files_finished, 1);
}

#[test]
fn a_server_that_cannot_start_exits_1_naming_the_address() {
    // The port is taken by this listener for as long as the test runs.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let addr = taken.local_addr().expect("its address").to_string();
    let home = Home::new();
    let mut serve = home.command();
    serve.args(["serve", "--addr", &addr]);
    let finished = run(serve);
    assert_eq!(finished.code(), Some(1), "{}", finished.stderr);
    assert!(finished.stderr.contains(&addr), "{}", finished.stderr);
}

#[test]
fn help_shows_every_documented_exit_code() {
    let home = Home::new();
    let mut help = home.command();
    help.arg("--help");
    let finished = run(help);
    assert_eq!(finished.code(), Some(0), "{}", finished.stderr);
    let table = finished
        .stdout
        .split_once("Exit codes:")
        .map(|(_, table)| table)
        .unwrap_or_else(|| panic!("no exit-code table in --help: {}", finished.stdout));
    let codes: Vec<&str> = table
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .collect();
    assert_eq!(codes, ["0", "1", "2", "3", "4", "130"], "{table}");
}

/// Blocks a file sent before it failed are in the summary: its finish refused (credentials, so
/// exit 4), the five parts it sent are counted, as many as the `block` events said.
#[test]
fn a_file_that_fails_after_its_parts_counts_the_blocks_it_sent() {
    use feishu_drive_server::{FaultKind, FaultRule, Faults, Operation};
    let refuse = FaultRule::new(FaultKind::RefuseCredentials, [Operation::UploadFinish]).rate(1.0);
    let server = LocalServer::start(
        Config::default()
            .block_size(64 * 1024)
            .faults(Faults::default().rule(refuse)),
    );
    let home = Home::new();
    let file = home.file("five.bin", 5 * 64 * 1024, 3);
    let mut command = home.command();
    command
        .args(["--json", "--base-url", &server.url(), "--rps", "0", "upload"])
        .arg(&file)
        .args(["--parent-type", "docx_file", "--parent-node", "doxcnX"])
        .args(["--chunked-over", "65536", "--no-journal"]);
    let finished = run(command);
    assert_eq!(finished.code(), Some(4), "{}", finished.stderr);
    let events = finished.events();
    assert_eq!(named(&events, "block").len(), 5, "{}", finished.stdout);
    let summary = events.last().expect("a summary");
    assert_eq!(summary["blocks_sent"].as_u64(), Some(5), "{summary}");
    assert_eq!(server.stats().parts_stored, 5);
}
