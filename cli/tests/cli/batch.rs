//! Trees into a Drive folder through the library's batch scheduler: killed at random points and
//! run again until done, every file ends up in its folder exactly once; `--if-exists skip` on a
//! folder that has them sends nothing; a tree of empty folders is mirrored.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use feishu_drive_server::{Config, FaultKind, FaultRule, Faults, Operation};

use crate::support::{Home, LocalServer, Running, named, run};

const KIB: usize = 1024;

/// A tree of `small` one-shot files in two folders and two chunked ones.
fn tree(home: &Home, small: usize) -> usize {
    for i in 0..small {
        let folder = ["tree", "tree/子目录", "tree/子目录/deep"][i % 3];
        home.file(&format!("{folder}/文件-{i:02}.txt"), 100 + i * 37, i as u32);
    }
    home.file("tree/big-1.bin", 200 * KIB, 90);
    home.file("tree/子目录/big-2.bin", 150 * KIB + 1, 91);
    small + 2
}

fn upload_args(url: &str, folder: &str, journal: &std::path::Path) -> Vec<String> {
    let mut args: Vec<String> = [
        "--json",
        "--base-url",
        url,
        "--rps",
        "0",
        "upload",
        "tree",
        "--folder",
        folder,
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    args.extend([
        "--chunked-over".to_owned(),
        "16384".to_owned(),
        "--journal".to_owned(),
    ]);
    args.push(journal.display().to_string());
    args
}

/// Every file of the folder tree under `root`, by path: tokens (more than one when a name is
/// there twice).
fn drive_tree(server: &LocalServer, root: &str) -> BTreeMap<String, Vec<String>> {
    let mut files: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut folders = vec![(String::new(), root.to_owned())];
    while let Some((prefix, token)) = folders.pop() {
        for (name, kind, child) in server.children(&token) {
            let path = format!("{prefix}{name}");
            match kind.as_str() {
                "folder" => folders.push((format!("{path}/"), child)),
                _ => files.entry(path).or_default().push(child),
            }
        }
    }
    files
}

#[test]
fn a_tree_killed_at_random_points_lands_every_file_exactly_once() {
    // Slow answers, so a kill lands mid-batch: mid-part, mid-upload_all, between files.
    let slow = FaultRule::new(
        FaultKind::Delay(Duration::from_millis(250)),
        [
            Operation::FileUploadAll,
            Operation::FileUploadPart,
            Operation::FileUploadFinish,
        ],
    )
    .rate(1.0);
    let server = LocalServer::start(
        Config::default()
            .block_size(16 * KIB as u64)
            .faults(Faults::default().rule(slow)),
    );
    let root = server.root_folder();
    let home = Home::new();
    let files = tree(&home, 30);
    let journal = home.path().join("journals");
    let args = upload_args(&server.url(), &root, &journal);
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(7, |d| d.subsec_nanos());
    eprintln!("kill points from seed {seed}");
    let mut kills = 0;
    for round in 0..3_u32 {
        let running = Running::spawn(home.command().args(&args), true);
        // The kill follows progress, not the clock (a fast machine finished a timed round before
        // its kill): after 1–5 confirmed blocks or finished files, then 0–149 ms more, so it
        // lands mid-part, mid-upload_all or between files. Every answer takes 250 ms, so the
        // extra wait lets at most one wave of in-flight answers land; a whole run is 55 such
        // events (32 files, 23 blocks), and three rounds cannot finish it.
        let mix = seed.wrapping_mul(2_654_435_761).rotate_left(round * 7);
        let progress = 1 + (mix % 5) as usize;
        let jitter = u64::from((mix >> 8) % 150);
        let reached = running.saw_events(progress, Duration::from_secs(60), |event| {
            matches!(event["event"].as_str(), Some("block" | "finished"))
        });
        std::thread::sleep(Duration::from_millis(jitter));
        running.signal("KILL");
        let killed = running.wait(Duration::from_secs(30));
        kills += u32::from(reached && killed.code().is_none());
        eprintln!(
            "round {round}: killed {jitter} ms after {progress} events: {:?}",
            killed.code()
        );
    }
    assert_eq!(
        kills, 3,
        "every kill must land mid-batch to test anything ({kills} did)"
    );
    let done = run({
        let mut command = home.command();
        command.args(&args);
        command
    });
    assert_eq!(done.code(), Some(0), "{}", done.stderr);
    let summary = done.events().last().cloned().expect("a summary");
    assert_eq!(summary["total"].as_u64(), Some(files as u64), "{summary}");
    assert_eq!(summary["failed"].as_u64(), Some(0), "{summary}");
    // Every file once in its folder, and the server made no file twice.
    let landed = drive_tree(&server, &root);
    assert_eq!(landed.len(), files, "{landed:#?}");
    assert!(landed.values().all(|tokens| tokens.len() == 1), "{landed:#?}");
    assert!(landed.contains_key("子目录/deep/文件-02.txt"), "{landed:#?}");
    assert_eq!(
        server.stats().files_finished,
        files as u64,
        "no file made twice ({kills} kills)"
    );
}

#[test]
fn if_exists_skip_sends_no_file_the_folder_already_holds() {
    let server = LocalServer::start(Config::default().block_size(16 * KIB as u64));
    let root = server.root_folder();
    let home = Home::new();
    let files = tree(&home, 6);
    // No journal: only the folder's listing can tell what is there.
    let upload = |extra: &[&str]| {
        let mut command = home.command();
        command.args([
            "--json",
            "--base-url",
            &server.url(),
            "--rps",
            "0",
            "upload",
            "tree",
        ]);
        command.args(["--folder", &root, "--no-journal"]).args(extra);
        run(command)
    };
    let first = upload(&[]);
    assert_eq!(first.code(), Some(0), "{}", first.stderr);
    assert_eq!(
        named(&first.events(), "folder").len(),
        2,
        "子目录 and 子目录/deep"
    );
    let made = server.stats().files_finished;
    let again = upload(&["--if-exists", "skip"]);
    assert_eq!(again.code(), Some(0), "{}", again.stderr);
    let events = again.events();
    assert_eq!(named(&events, "skipped").len(), files, "{}", again.stdout);
    assert!(
        named(&events, "folder").iter().all(|f| f["created"] == false),
        "folders found, not made"
    );
    assert_eq!(server.stats().files_finished, made, "nothing uploaded");
}

#[test]
fn a_tree_of_empty_folders_is_mirrored_and_a_tree_with_nothing_is_a_usage_error() {
    let server = LocalServer::start(Config::default());
    let root = server.root_folder();
    let home = Home::new();
    std::fs::create_dir_all(home.path().join("tree/a/b")).expect("folders");
    let upload = || {
        let mut command = home.command();
        command
            .args(["--json", "--base-url", &server.url(), "--rps", "0", "upload"])
            .arg(home.path().join("tree"))
            .args(["--folder", &root, "--no-journal"]);
        run(command)
    };
    let made = upload();
    assert_eq!(made.code(), Some(0), "{}", made.stderr);
    let events = made.events();
    let folders = named(&events, "folder");
    assert_eq!(folders.len(), 2, "a and a/b: {}", made.stdout);
    assert!(folders.iter().all(|f| f["created"] == true), "{}", made.stdout);
    std::fs::remove_dir_all(home.path().join("tree/a")).expect("emptied");
    let nothing = upload();
    assert_eq!(nothing.code(), Some(2), "{}", nothing.stderr);
    assert!(nothing.stderr.contains("nothing to upload"), "{}", nothing.stderr);
}
