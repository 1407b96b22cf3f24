//! Each subcommand, end to end.

use std::time::Duration;

use feishu_drive_server::Config;

use crate::support::{Home, LocalServer, Running, named, pattern, run};

const KIB: usize = 1024;

#[test]
fn an_upload_then_its_download_gives_back_the_same_bytes() {
    let server = LocalServer::start(Config::default().block_size(64 * KIB as u64));
    let home = Home::new();
    let file = home.file("report.bin", 300 * KIB, 1);
    let mut upload = home.command();
    upload
        .args(["--base-url", &server.url(), "--rps", "0", "upload"])
        .arg(&file)
        .args(["--parent-type", "docx_file", "--parent-node", "doxcnCli"])
        .args(["--chunked-over", "65536"]);
    let uploaded = run(upload);
    assert_eq!(uploaded.code(), Some(0), "{}", uploaded.stderr);
    // Plain mode (stderr is a pipe): one `<token>\t<path>` line on stdout, blocks on stderr.
    let (token, path) = uploaded
        .stdout
        .trim()
        .split_once('\t')
        .unwrap_or_else(|| panic!("stdout is `<token>\\t<path>`: {:?}", uploaded.stdout));
    assert_eq!(path, file.display().to_string());
    assert!(uploaded.stderr.contains("block 5/5"), "{}", uploaded.stderr);
    assert_eq!(server.stats().parts_stored, 5);

    let into = home.path().join("downloads");
    std::fs::create_dir(&into).expect("a directory to download into");
    let mut download = home.command();
    download
        .args(["--base-url", &server.url(), "--rps", "0", "download", token, "-o"])
        .arg(&into);
    let downloaded = run(download);
    assert_eq!(downloaded.code(), Some(0), "{}", downloaded.stderr);
    let written = std::path::PathBuf::from(downloaded.stdout.trim());
    assert_eq!(written, into.join("report.bin"), "named as the server names it");
    assert_eq!(
        std::fs::read(&written).expect("downloaded"),
        pattern(300 * KIB, 1)
    );

    let to_file = home.path().join("copy.bin");
    let mut download = home.command();
    download
        .args(["--base-url", &server.url(), "--rps", "0", "download", token, "-o"])
        .arg(&to_file);
    let downloaded = run(download);
    assert_eq!(downloaded.code(), Some(0), "{}", downloaded.stderr);
    assert_eq!(
        std::fs::read(&to_file).expect("downloaded"),
        pattern(300 * KIB, 1)
    );

    // A file already there is kept (exit 3, saying how to replace it) unless --overwrite.
    std::fs::write(&to_file, b"edited since").expect("edit the copy");
    let again = |extra: &[&str]| {
        let mut download = home.command();
        download
            .args(["--base-url", &server.url(), "--rps", "0", "download", token, "-o"])
            .arg(&to_file)
            .args(extra);
        run(download)
    };
    let kept = again(&[]);
    assert_eq!(kept.code(), Some(3), "{}", kept.stderr);
    assert!(kept.stderr.contains("--overwrite"), "{}", kept.stderr);
    assert_eq!(std::fs::read(&to_file).expect("kept"), b"edited since");
    let replaced = again(&["--overwrite"]);
    assert_eq!(replaced.code(), Some(0), "{}", replaced.stderr);
    assert_eq!(std::fs::read(&to_file).expect("replaced"), pattern(300 * KIB, 1));
}

#[test]
fn a_directory_batch_with_json_reports_every_file_line_by_line() {
    let server = LocalServer::start(Config::default().block_size(32 * KIB as u64));
    let home = Home::new();
    home.file("tree/a.bin", 100 * KIB, 2); // 4 blocks
    home.file("tree/sub/b.txt", 10, 3); // upload_all
    home.file("tree/sub/c.bin", 64 * KIB + 1, 4); // 3 blocks
    let mut upload = home.command();
    upload
        .args([
            "--json",
            "--base-url",
            &server.url(),
            "--rps",
            "0",
            "upload",
            "tree",
        ])
        .args(["--parent-type", "docx_file", "--parent-node", "doxcnCli"])
        .args(["--chunked-over", "32768"]);
    let finished = run(upload);
    assert_eq!(finished.code(), Some(0), "{}", finished.stderr);
    let events = finished.events();
    assert_eq!(named(&events, "started").len(), 3);
    let done = named(&events, "finished");
    // Files upload at once, each reported as it finishes: every one once, in any order.
    let mut files: Vec<&str> = done.iter().map(|e| e["file"].as_str().expect("file")).collect();
    files.sort_unstable();
    assert_eq!(files, ["tree/a.bin", "tree/sub/b.txt", "tree/sub/c.bin"]);
    for event in &done {
        assert!(
            event["file_token"]
                .as_str()
                .is_some_and(|t| t.starts_with("boxcn")),
            "{event}"
        );
    }
    let blocks_of = |file: &str| {
        named(&events, "block")
            .iter()
            .filter(|e| e["file"] == file)
            .count()
    };
    assert_eq!((blocks_of("tree/a.bin"), blocks_of("tree/sub/c.bin")), (4, 3));
    let summary = events.last().expect("a summary");
    assert_eq!(summary["event"], "summary");
    assert_eq!(
        (summary["finished"].as_u64(), summary["exit_code"].as_u64()),
        (Some(3), Some(0))
    );
    assert_eq!(server.stats().files_finished, 3);
}

#[test]
fn plan_counts_requests_from_the_documented_limits_and_sends_nothing() {
    let home = Home::new();
    let big = home.path().join("big.iso");
    // Sparse: 50 MiB on no disk.
    std::fs::File::create(&big)
        .and_then(|f| f.set_len(50 * 1024 * 1024))
        .expect("a sparse file");
    let small = home.file("small.txt", 1000, 5);
    let mut plan = home.command();
    // An unreachable base URL: plan must not need one.
    plan.args(["--json", "--base-url", "http://127.0.0.1:9", "plan"])
        .arg(&big)
        .arg(&small)
        .args(["--size", "41943041"]);
    let finished = run(plan);
    assert_eq!(finished.code(), Some(0), "{}", finished.stderr);
    let events = finished.events();
    let plan = &events[0];
    let requests = |op: &str| {
        plan["operations"]
            .as_array()
            .expect("operations")
            .iter()
            .find(|o| o["operation"] == op)
            .and_then(|o| o["requests"].as_u64())
    };
    // 50 MiB = 13 blocks of 4 MiB; 40 MiB + 1 byte = 11; 1000 bytes in one upload_all.
    assert_eq!(requests("upload_part"), Some(24));
    assert_eq!(requests("upload_prepare"), Some(2));
    assert_eq!(requests("upload_finish"), Some(2));
    assert_eq!(requests("upload_all"), Some(1));
    assert_eq!(plan["fits"], true);
    assert_eq!(plan["files"], 3);
    // 24 parts at 5 per second, spaced (1 s + 25 ms) / 5.
    let seconds = plan["seconds_at_rate"].as_f64().expect("seconds");
    assert!((seconds - 24.0 * 0.205).abs() < 1e-6, "{seconds}");
}

#[test]
fn serve_takes_the_servers_flags_answers_an_upload_into_its_root_folder_and_stops_on_sigint() {
    let home = Home::new();
    let mut serve = home.command();
    // `--fault` is one of the flags `serve` has from `feishu-drive-server`: the first part gets
    // a proxy's HTML 502, which the upload below must retry.
    serve.args(["serve", "--addr", "127.0.0.1:0", "--block-size", "65536"]);
    serve.args(["--fault", "html-502:file-upload-part:first=1"]);
    let server = Running::spawn(&mut serve, true);
    let first = server.wait_for_line(Duration::from_secs(30), |l| l.contains("listening on"));
    let url = first
        .rsplit(' ')
        .next()
        .expect("the line ends with the URL")
        .to_owned();
    let root_line = server.wait_for_line(Duration::from_secs(5), |l| l.starts_with("root folder: "));
    let root = root_line.trim_start_matches("root folder: ").to_owned();
    let file = home.file("x.bin", 200 * KIB, 6);
    let mut upload = home.command();
    upload
        .args(["--json", "--base-url", &url, "--rps", "0", "upload"])
        .arg(&file)
        .args(["--folder", &root, "--chunked-over", "65536"]);
    let uploaded = run(upload);
    assert_eq!(uploaded.code(), Some(0), "{}", uploaded.stderr);
    let events = uploaded.events();
    assert!(
        named(&events, "finished")
            .iter()
            .any(|e| e["file_token"].as_str().is_some_and(|t| !t.is_empty())),
        "{}",
        uploaded.stdout
    );
    assert!(
        named(&events, "retrying")
            .iter()
            .any(|e| e["operation"] == "file_upload_part"),
        "the --fault given to serve did not reach the server: {}",
        uploaded.stdout
    );
    server.signal("INT");
    let stopped = server.wait(Duration::from_secs(30));
    assert_eq!(stopped.code(), Some(0), "{}", stopped.stderr);
}

#[test]
fn serve_stops_cleanly_on_sigterm() {
    let home = Home::new();
    let mut serve = home.command();
    serve.args(["serve", "--addr", "127.0.0.1:0"]);
    let server = Running::spawn(&mut serve, true);
    server.wait_for_line(Duration::from_secs(30), |l| l.starts_with("root folder: "));
    server.signal("TERM");
    let stopped = server.wait(Duration::from_secs(30));
    assert_eq!(stopped.code(), Some(0), "{}", stopped.stderr);
}

#[test]
fn completions_and_the_man_page_come_from_the_command_definition() {
    let home = Home::new();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let mut command = home.command();
        command.args(["completions", shell]);
        let finished = run(command);
        assert_eq!(finished.code(), Some(0), "{shell}: {}", finished.stderr);
        for word in ["feishu-drive", "upload", "parent-node", "if-exists"] {
            assert!(finished.stdout.contains(word), "{shell} completions lack {word}");
        }
    }
    let mut man = home.command();
    man.arg("man");
    let page = run(man);
    assert_eq!(page.code(), Some(0), "{}", page.stderr);
    assert!(
        page.stdout.contains(".TH feishu-drive"),
        "not a man page: {}",
        page.stdout
    );
    assert!(
        page.stdout.contains("download"),
        "the man page names the subcommands"
    );
}

#[test]
fn json_reports_retries_waits_for_the_budget_and_possible_duplicates() {
    use feishu_drive_server::{FaultKind, FaultRule, Faults, Operation};
    // A proxy's 502 on the first part (retried), the first finish's answer lost (the media may
    // exist twice), and 1 request per second (the second part waits over a second).
    let faults = Faults::default()
        .rule(FaultRule::new(FaultKind::Html(502), [Operation::UploadPart]).first(1))
        .rule(FaultRule::new(FaultKind::LoseResponse, [Operation::UploadFinish]).first(1));
    let server = LocalServer::start(Config::default().block_size(16 * KIB as u64).faults(faults));
    let home = Home::new();
    let file = home.file("faulty.bin", 40 * KIB, 11);
    let mut upload = home.command();
    upload
        .args(["--json", "--base-url", &server.url(), "--rps", "1", "upload"])
        .arg(&file)
        .args(["--parent-type", "docx_file", "--parent-node", "doxcnFaults"])
        .args(["--chunked-over", "16384", "--concurrency", "1"]);
    let finished = run(upload);
    assert_eq!(finished.code(), Some(0), "{}", finished.stderr);
    let events = finished.events();
    let retrying = named(&events, "retrying");
    assert!(
        retrying.iter().any(|e| e["operation"] == "upload_part"),
        "no retry of the 502: {}",
        finished.stdout
    );
    assert!(
        !named(&events, "waiting").is_empty(),
        "no budget wait at 1 rps: {}",
        finished.stdout
    );
    assert_eq!(
        named(&events, "possible_duplicate").len(),
        1,
        "{}",
        finished.stdout
    );
    let summary = events.last().expect("summary");
    assert_eq!(summary["possible_duplicates"], 1, "{summary}");
}

#[test]
fn demo_uploads_to_an_embedded_server_and_verifies_what_it_reads_back() {
    let home = Home::new();
    home.file("try/one.bin", 50 * KIB, 12);
    home.file("try/two.txt", 7, 13);
    let mut demo = home.command();
    demo.args(["demo", "try", "--chunked-over", "16384"]);
    let finished = run(demo);
    assert_eq!(finished.code(), Some(0), "{}", finished.stderr);
    assert_eq!(
        finished.stderr.matches("verified: ").count(),
        2,
        "each file read back and compared: {}",
        finished.stderr
    );
    assert_eq!(
        finished.stdout.lines().count(),
        2,
        "one token line per file: {}",
        finished.stdout
    );
}

#[test]
fn a_tree_uploads_into_a_drive_folder_through_the_files_family() {
    let server = LocalServer::start(Config::default().block_size(32 * KIB as u64));
    let root = server.root_folder();
    let home = Home::new();
    home.file("tree/a.bin", 100 * KIB, 5); // 4 blocks
    home.file("tree/b.txt", 10, 6); // upload_all
    let mut upload = home.command();
    upload
        .args([
            "--json",
            "--base-url",
            &server.url(),
            "--rps",
            "0",
            "upload",
            "tree",
        ])
        .args(["--folder", &root])
        .args(["--chunked-over", "32768"]);
    let finished = run(upload);
    assert_eq!(finished.code(), Some(0), "{}", finished.stderr);
    assert_eq!(named(&finished.events(), "finished").len(), 2);
    let parts = server.received_parts();
    let to = |op: feishu_drive::operations::OperationId| parts.iter().filter(|p| p.operation == op).count();
    use feishu_drive::operations::OperationId;
    assert_eq!(to(OperationId::FileUploadPart), 4, "{parts:?}");
    assert_eq!(to(OperationId::FileUploadAll), 1, "{parts:?}");
    assert_eq!(
        to(OperationId::UploadPart) + to(OperationId::UploadAll),
        0,
        "no media was made"
    );

    // Read back through the files family: `download --drive-file` with the printed tokens.
    let events = finished.events();
    let tokens: Vec<&str> = named(&events, "finished")
        .iter()
        .map(|e| e["file_token"].as_str().expect("a token"))
        .collect();
    let into = home.path().join("back");
    let mut download = home.command();
    download
        .args([
            "--base-url",
            &server.url(),
            "--rps",
            "0",
            "download",
            "--drive-file",
        ])
        .args(&tokens)
        .arg("-o")
        .arg(&into);
    let downloaded = run(download);
    assert_eq!(downloaded.code(), Some(0), "{}", downloaded.stderr);
    assert_eq!(
        std::fs::read(into.join("a.bin")).expect("a.bin"),
        pattern(100 * KIB, 5)
    );
    assert_eq!(std::fs::read(into.join("b.txt")).expect("b.txt"), pattern(10, 6));
    // Without the flag the token is looked up as a media, which it is not.
    let mut as_media = home.command();
    as_media
        .args([
            "--base-url",
            &server.url(),
            "--rps",
            "0",
            "download",
            tokens[0],
            "-o",
        ])
        .arg(home.path().join("nope.bin"));
    assert_eq!(run(as_media).code(), Some(3));
}

/// Plain mode (pipes, no `--json`), over the documented 20 MiB so the chunked flow runs with the
/// default threshold: the first finish's answer is lost, the media may now exist twice, and
/// the run must say so on stderr as it happens, print the token, and the media must read back
/// whole under the name it was uploaded with.
#[test]
fn a_lost_finish_answer_is_a_possible_duplicate_said_on_stderr_and_the_media_reads_back_whole() {
    use feishu_drive_server::{FaultKind, FaultRule, Faults, Operation};
    let faults =
        Faults::default().rule(FaultRule::new(FaultKind::LoseResponse, [Operation::UploadFinish]).first(1));
    let server = LocalServer::start(Config::default().block_size(1024 * KIB as u64).faults(faults));
    let home = Home::new();
    let len = 21 * 1024 * KIB + 3;
    let file = home.file("deck.bin", len, 2);
    let mut upload = home.command();
    upload
        .env("LARK_APP_ID", feishu_drive_server::DEFAULT_APP_ID)
        .env("LARK_APP_SECRET", feishu_drive_server::DEFAULT_APP_SECRET)
        .args(["--base-url", &server.url(), "--rps", "0", "upload"])
        .arg(&file)
        .args(["--parent-type", "docx_file", "--parent-node", "doxcnCli"]);
    let uploaded = run(upload);
    assert_eq!(uploaded.code(), Some(0), "{}", uploaded.stderr);
    let (token, _) = uploaded
        .stdout
        .trim()
        .split_once('\t')
        .unwrap_or_else(|| panic!("stdout is `<token>\\t<path>`: {:?}", uploaded.stdout));
    assert!(
        uploaded.stderr.contains("warning: possible duplicate media: "),
        "the lost finish answer was not reported: {}",
        uploaded.stderr
    );
    assert!(
        uploaded
            .stderr
            .lines()
            .any(|line| line.ends_with(&format!("finished, file_token {token}"))),
        "no finished line with this run's token: {}",
        uploaded.stderr
    );

    let into = home.path().join("out");
    std::fs::create_dir(&into).expect("a directory to download into");
    let mut download = home.command();
    download
        .env("LARK_APP_ID", feishu_drive_server::DEFAULT_APP_ID)
        .env("LARK_APP_SECRET", feishu_drive_server::DEFAULT_APP_SECRET)
        .args(["--base-url", &server.url(), "--rps", "0", "download", token, "-o"])
        .arg(&into);
    let downloaded = run(download);
    assert_eq!(downloaded.code(), Some(0), "{}", downloaded.stderr);
    assert_eq!(
        std::path::PathBuf::from(downloaded.stdout.trim()),
        into.join("deck.bin")
    );
    assert!(
        std::fs::read(into.join("deck.bin")).expect("downloaded") == pattern(len, 2),
        "the downloaded bytes differ"
    );
}
