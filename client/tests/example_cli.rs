//! The example CLI (`client/examples/upload.rs`), run as a user runs it: a real process, real
//! files, a real server over loopback. `cargo test` builds the example before the tests run.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use feishu_drive_server::{Config, FaultKind, FaultRule, Faults, Operation, Server};

/// The example binary beside this test's own (`target/<profile>/examples/upload`).
fn example() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary has a path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test binary lives in target/<profile>/deps");
    let path = profile_dir
        .join("examples")
        .join(format!("upload{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} is missing: `cargo test` builds examples; run the tests with cargo",
        path.display()
    );
    path
}

/// Runs the example with no credentials in its environment, bounded in time.
fn run(args: &[&std::ffi::OsStr], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(example());
    command
        .args(args)
        .env_remove("LARK_APP_ID")
        .env_remove("LARK_APP_SECRET")
        .env_remove("LARK_ACCESS_TOKEN")
        .env_remove("RUST_LOG");
    for (key, value) in env {
        command.env(key, value);
    }
    let child = command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the example starts");
    let (done, wait) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(child.wait_with_output());
    });
    wait.recv_timeout(Duration::from_secs(240))
        .expect("the example finished within 240 s")
        .expect("the example's output was read")
}

/// Bytes that differ block to block, so a block sent in the wrong place changes the file.
fn pattern(len: usize, seed: u32) -> Vec<u8> {
    let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state.to_le_bytes()[0]
        })
        .collect()
}

fn stdout_value(output: &Output, key: &str) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout
        .lines()
        .last()
        .and_then(|line| line.strip_prefix(key))
        .unwrap_or_else(|| panic!("the last stdout line starts with {key:?}: {stdout}"))
        .trim()
        .to_owned()
}

#[test]
fn with_no_credentials_it_uploads_to_a_local_server_and_verifies_the_bytes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("report.bin");
    std::fs::write(&file, pattern(6 * 1024 * 1024 + 17, 1)).expect("write the file");

    let output = run(&[file.as_os_str(), "--rps".as_ref(), "0".as_ref()], &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "exit {:?}: {stderr}", output.status);
    assert!(stderr.contains("verified"), "{stderr}");
    assert!(!stdout_value(&output, "file_token:").is_empty());
}

#[test]
fn a_lost_finish_answer_is_reported_as_a_possible_duplicate_and_the_media_reads_back_whole() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    // The server finishes the first upload, then loses its answer: the client cannot tell
    // whether a media exists, so whatever it does next must be said out loud.
    let faults =
        Faults::default().rule(FaultRule::new(FaultKind::LoseResponse, [Operation::UploadFinish]).first(1));
    let server = runtime
        .block_on(Server::start(
            Config::default().block_size(1024 * 1024).faults(faults),
        ))
        .expect("server starts");
    let base_url = server.base_url();
    let env = [
        ("LARK_APP_ID", feishu_drive_server::DEFAULT_APP_ID),
        ("LARK_APP_SECRET", feishu_drive_server::DEFAULT_APP_SECRET),
    ];

    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("deck.bin");
    let bytes = pattern(21 * 1024 * 1024 + 3, 2);
    std::fs::write(&file, &bytes).expect("write the file");
    let upload = run(
        &[
            file.as_os_str(),
            "--base-url".as_ref(),
            base_url.as_ref(),
            "--parent-node".as_ref(),
            "doxcnCli".as_ref(),
            "--rps".as_ref(),
            "0".as_ref(),
        ],
        &env,
    );
    let stderr = String::from_utf8_lossy(&upload.stderr);
    let stdout = String::from_utf8_lossy(&upload.stdout);
    assert!(upload.status.success(), "exit {:?}: {stderr}", upload.status);
    assert!(
        format!("{stdout}{stderr}").contains("duplicate"),
        "a lost finish answer must be reported: {stdout}{stderr}"
    );
    let token = stdout_value(&upload, "file_token:");
    // The progress events' lines reach stderr although it is a pipe here, not a terminal (where
    // the progress bar's own println would print nothing): the warning as it happens, and the
    // token the moment the media exists, before the journal is removed.
    assert!(
        stderr.contains("warning: possible duplicate media: "),
        "the PossibleDuplicate event's line is missing: {stderr}"
    );
    assert!(
        stderr
            .lines()
            .any(|line| line == format!("finished: file_token {token}")),
        "the Finished event's line with this run's token is missing: {stderr}"
    );

    let out_dir = dir.path().join("out");
    std::fs::create_dir(&out_dir).expect("out dir");
    let download = run(
        &[
            out_dir.as_os_str(),
            "--download".as_ref(),
            token.as_ref(),
            "--base-url".as_ref(),
            base_url.as_ref(),
            "--rps".as_ref(),
            "0".as_ref(),
        ],
        &env,
    );
    let stderr = String::from_utf8_lossy(&download.stderr);
    assert!(download.status.success(), "exit {:?}: {stderr}", download.status);
    let path = PathBuf::from(stdout_value(&download, "path:"));
    assert_eq!(path.file_name().and_then(|n| n.to_str()), Some("deck.bin"));
    assert!(
        std::fs::read(&path).expect("the downloaded file") == bytes,
        "downloaded bytes differ"
    );
    runtime.block_on(server.shutdown()).expect("server stops");
}
