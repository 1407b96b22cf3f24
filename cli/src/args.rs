//! The command line, as clap reads it; completions and the man page are generated from it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use feishu_drive::limits::{REQUESTS_PER_SECOND, UPLOAD_ALL_REQUEST_SIZE_MAXIMUM};
use feishu_drive::upload::DEFAULT_CONCURRENCY;
pub use feishu_drive_server::cli::ServeArgs;

use crate::exit::EXIT_CODES_HELP;

/// Feishu's API host, the default with credentials.
pub const FEISHU: &str = "https://open.feishu.cn";
/// Lark's (Feishu outside China) API host.
pub const LARK: &str = "https://open.larksuite.com";

/// Upload files to Feishu / Lark drive and download them: resumable, within the rate limit and
/// the daily quota, scriptable (`--json`), and with a local server to try it all (`serve`).
#[derive(Debug, Parser)]
#[command(name = "feishu-drive", version, after_help = EXIT_CODES_HELP, propagate_version = true)]
pub struct Cli {
    /// Print one JSON object per event on stdout (NDJSON), then a summary object.
    #[arg(long, global = true)]
    pub json: bool,
    /// The API: `feishu` (`https://open.feishu.cn`, the default), `lark`
    /// (`https://open.larksuite.com`), or a URL such as a local server's `http://127.0.0.1:8787`.
    #[arg(long, global = true, value_name = "URL", env = "FEISHU_BASE_URL", value_parser = parse_base_url)]
    pub base_url: Option<String>,
    /// The config file (app_id, app_secret or access_token, base_url, redis). Default:
    /// $XDG_CONFIG_HOME/feishu-drive/config.toml; it must not be readable by group or others.
    #[arg(long, global = true, value_name = "PATH", env = "FEISHU_DRIVE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Share the rate limit and daily quota with every run for the same app through this Redis
    /// server, e.g. `redis://127.0.0.1:6379`.
    #[arg(long, global = true, value_name = "URL", env = "FEISHU_REDIS_URL")]
    pub redis: Option<String>,
    /// Requests per second per operation (Feishu allows 5); 0 for no client-side limit (a local
    /// server).
    #[arg(long, global = true, default_value_t = REQUESTS_PER_SECOND)]
    pub rps: u32,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Upload files or directory trees: one batch, several files at once (`--files`), one token
    /// cache and budget; resumable from its batch journal.
    Upload(UploadArgs),
    /// Download media by file token, ranged and resumable.
    Download(DownloadArgs),
    /// Show what an upload would cost (requests, time at the rate, share of the daily quota)
    /// without sending anything.
    Plan(PlanArgs),
    /// Run the local Feishu-compatible server, to try everything without an account: the
    /// flags of `feishu-drive-server`, from the same definition.
    Serve(ServeArgs),
    /// Upload files to a local server started in this process, read them back and compare:
    /// the whole round trip, with no account.
    Demo(DemoArgs),
    /// Print a shell completion script.
    Completions(CompletionsArgs),
    /// Print the man page (roff).
    Man,
}

/// `upload`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["folder", "parent_type"])))]
pub struct UploadArgs {
    /// Files or directories. With `--folder` a directory is mirrored (its sub-directories become
    /// sub-folders, made as needed); otherwise its files are walked, in name order.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// A Drive folder token: upload as Drive files (the `files` family) into it.
    #[arg(long, value_name = "TOKEN")]
    pub folder: Option<String>,
    /// Attach as media of this type: docx_image, docx_file, sheet_file, bitable_file, …
    #[arg(long, value_name = "T")]
    pub parent_type: Option<String>,
    /// The doc, sheet or base the media belongs to (none for ccm_import_open).
    #[arg(long, value_name = "N", requires = "parent_type")]
    pub parent_node: Option<String>,
    /// Keep the batch journal (files done, folders made) and the resume journals of chunked
    /// files in this directory (default: $XDG_STATE_HOME/feishu-drive/journals); running the
    /// same command again skips what is done and continues what was half sent.
    #[arg(long, value_name = "DIR", conflicts_with = "no_journal")]
    pub journal: Option<PathBuf>,
    /// Keep no journal: an interrupted run starts over.
    #[arg(long)]
    pub no_journal: bool,
    /// Blocks in flight at once, per file.
    #[arg(long, default_value_t = DEFAULT_CONCURRENCY as u64, value_parser = clap::value_parser!(u64).range(1..=64))]
    pub concurrency: u64,
    /// Files uploaded at once (each chunked one with --concurrency blocks in flight).
    #[arg(long, default_value_t = feishu_drive::batch::DEFAULT_FILES_IN_FLIGHT as u64, value_parser = clap::value_parser!(u64).range(1..=64))]
    pub files: u64,
    /// Stop at the first failed file (the files in flight stop, their journals kept); without
    /// it the batch goes on and reports each failure.
    #[arg(long)]
    pub fail_fast: bool,
    /// When the folder already holds a file of that name (with --folder): decided from the
    /// folder's listing; files this batch uploaded itself are known from its journal.
    #[arg(long, value_enum, value_name = "WHAT")]
    pub if_exists: Option<IfExists>,
    /// Files larger than this go through the chunked flow (resumable, block by block); smaller
    /// ones in one upload_all request. At most the documented 20 MiB.
    #[arg(long, value_name = "BYTES", default_value_t = UPLOAD_ALL_REQUEST_SIZE_MAXIMUM, value_parser = clap::value_parser!(u64).range(1..=UPLOAD_ALL_REQUEST_SIZE_MAXIMUM))]
    pub chunked_over: u64,
    /// Never risk a second media: when a finish may have succeeded without its answer, fail
    /// instead of uploading again.
    #[arg(long)]
    pub refuse_duplicates: bool,
}

/// `--if-exists`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum IfExists {
    /// Keep the existing file; do not upload.
    Skip,
    /// Refused with an explanation: Drive has no in-place overwrite; use `version`.
    Overwrite,
    /// Upload as a new version of the existing file (its token, links and history stay).
    Version,
}

/// `download`.
#[derive(Debug, Args)]
pub struct DownloadArgs {
    /// File tokens of the media.
    #[arg(required = true, value_name = "TOKEN")]
    pub tokens: Vec<String>,
    /// A directory (files keep the name the server gives), or with one token a file path.
    #[arg(short, long, value_name = "PATH", default_value = ".")]
    pub output: PathBuf,
    /// The tokens are files in Drive folders (what `upload --folder` made), read through the
    /// files family; without it, media attached to a doc, sheet or base.
    #[arg(long)]
    pub drive_file: bool,
    /// Replace a file already at the destination; without it, such a download fails and the
    /// file is kept.
    #[arg(long)]
    pub overwrite: bool,
}

/// `plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Files or directories, walked as `upload` walks them.
    #[arg(value_name = "PATH", required_unless_present = "size")]
    pub paths: Vec<PathBuf>,
    /// A file of this many bytes, instead of (or besides) paths; repeatable.
    #[arg(long, value_name = "BYTES")]
    pub size: Vec<u64>,
    /// As `upload --chunked-over`.
    #[arg(long, value_name = "BYTES", default_value_t = UPLOAD_ALL_REQUEST_SIZE_MAXIMUM, value_parser = clap::value_parser!(u64).range(1..=UPLOAD_ALL_REQUEST_SIZE_MAXIMUM))]
    pub chunked_over: u64,
    /// Plan an upload into this Drive folder (directories become sub-folders; the folder's
    /// listing and the folders made are counted); without it, media of a doc, sheet or base.
    #[arg(long, value_name = "TOKEN")]
    pub folder: Option<String>,
}

/// `demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Files or directories.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// As `upload --chunked-over`.
    #[arg(long, value_name = "BYTES", default_value_t = UPLOAD_ALL_REQUEST_SIZE_MAXIMUM, value_parser = clap::value_parser!(u64).range(1..=UPLOAD_ALL_REQUEST_SIZE_MAXIMUM))]
    pub chunked_over: u64,
}

/// `completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `feishu`, `lark`, or an http(s) URL (a trailing `/` dropped), as the flag and the config
/// file take it.
pub fn parse_base_url(text: &str) -> Result<String, String> {
    match text {
        "feishu" => Ok(FEISHU.to_owned()),
        "lark" => Ok(LARK.to_owned()),
        url if url.starts_with("http://") || url.starts_with("https://") => {
            Ok(url.trim_end_matches('/').to_owned())
        }
        other => Err(format!(
            "{other:?}: give `feishu`, `lark` or a URL starting with http:// or https://"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_definition_is_consistent() {
        <Cli as clap::CommandFactory>::command().debug_assert();
    }

    /// Every flag of a built command: its id and its long name.
    fn flags(command: &clap::Command) -> std::collections::BTreeSet<(String, Option<String>)> {
        command
            .get_arguments()
            .map(|arg| (arg.get_id().to_string(), arg.get_long().map(str::to_owned)))
            .collect()
    }

    /// `feishu-drive serve` and `feishu-drive-server` take the same flags: the serve subcommand,
    /// built with everything clap adds, has the server's flags and the CLI's global ones, no
    /// other. The server binary's own test checks that it takes `ServeArgs` alone.
    #[test]
    fn serve_takes_exactly_the_flags_of_feishu_drive_server() {
        let mut cli = <Cli as clap::CommandFactory>::command();
        cli.build();
        let globals: Vec<String> = cli
            .get_arguments()
            .filter(|arg| arg.is_global_set())
            .map(|arg| arg.get_id().to_string())
            .collect();
        let serve = cli.find_subcommand("serve").expect("a serve subcommand");
        let mut server =
            <ServeArgs as Args>::augment_args(clap::Command::new("feishu-drive-server").version("0"));
        server.build();
        let serve_flags: std::collections::BTreeSet<_> = flags(serve)
            .into_iter()
            .filter(|(id, _)| !globals.contains(id))
            .collect();
        assert_eq!(serve_flags, flags(&server));
        for flag in [
            "addr",
            "fault",
            "rate-limit",
            "daily-quota",
            "data-dir",
            "help",
            "version",
        ] {
            assert!(
                serve_flags.iter().any(|(_, long)| long.as_deref() == Some(flag)),
                "serve lacks --{flag}: {serve_flags:?}"
            );
        }
    }

    #[test]
    fn base_url_names_and_urls() {
        assert_eq!(parse_base_url("lark").as_deref(), Ok(LARK));
        assert_eq!(
            parse_base_url("http://127.0.0.1:8787/").as_deref(),
            Ok("http://127.0.0.1:8787")
        );
        assert!(parse_base_url("open.feishu.cn").is_err());
    }
}
