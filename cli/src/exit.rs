//! The documented exit codes, and the errors that end a run before any transfer.

use std::path::PathBuf;
use std::process::ExitCode;

/// How a run ends, as its exit code. The table is in `feishu-drive --help` and the README.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    /// 0: everything asked for was done.
    Done,
    /// 1: the run could not start its work (the local server did not start, a file could not
    /// be read or written outside a transfer).
    Failed,
    /// 2: the command line or the configuration is wrong (clap's own code for usage errors).
    Usage,
    /// 3: one or more uploads or downloads failed; the others were done.
    TransfersFailed,
    /// 4: the credentials were refused (wrong app id or secret, a rejected access token).
    CredentialsRefused,
    /// 130: interrupted by SIGINT or SIGTERM; the journal was written and the run can resume.
    Interrupted,
}

impl Exit {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Exit::Done => 0,
            Exit::Failed => 1,
            Exit::Usage => 2,
            Exit::TransfersFailed => 3,
            Exit::CredentialsRefused => 4,
            Exit::Interrupted => INTERRUPTED,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit.code())
    }
}

/// The interrupted code: 128 + SIGINT, what shells report for a process ended by Ctrl-C.
pub const INTERRUPTED: u8 = 130;

/// The exit-code table, as `--help` shows it.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0    done
  1    could not start (local server, file system)
  2    usage or configuration error
  3    one or more uploads or downloads failed (each is reported)
  4    credentials refused
  130  interrupted (SIGINT/SIGTERM): the journal was written; the same command resumes";

/// Why a run stopped before (or outside) its transfers.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// No credentials and no base URL.
    #[error(
        "no credentials: set LARK_APP_ID and LARK_APP_SECRET (or LARK_ACCESS_TOKEN), or put app_id and app_secret in {config} (chmod 600)\n\
         to try without an account, run `feishu-drive serve` in another terminal, then:\n  \
         feishu-drive --base-url http://127.0.0.1:8787 upload FILE --parent-type docx_file --parent-node doxcnLocal"
    )]
    NoCredentials {
        /// Where the config file is looked for.
        config: String,
    },
    /// The config file can be read by others.
    #[error(
        "config file {path}: readable by group or others (mode {mode:o}); it holds a secret: run `chmod 600 {path}`",
        path = path.display()
    )]
    InsecureConfig {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The config file cannot be read or parsed.
    #[error("config file {path}: {reason}", path = path.display())]
    Config {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A flag combination the command cannot honour.
    #[error("{0}")]
    Usage(String),
    /// A path given on the command line cannot be used.
    #[error("{path}: {reason}", path = path.display())]
    BadPath {
        /// The path.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The Redis budget could not be set up.
    #[error("--redis: {0}")]
    Redis(#[from] feishu_drive::budget::StoreError),
    /// The client could not be built.
    #[error("{0}")]
    Build(String),
    /// The local server failed.
    #[error("the local server: {0}")]
    Server(#[from] feishu_drive_server::ServerError),
    /// Reading or writing a file of the CLI's own (journal directory, batch state) failed.
    #[error("{path}: {source}", path = path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The failure.
        #[source]
        source: std::io::Error,
    },
    /// The batch could not start: a path, the batch journal, a name clash, the target folder.
    #[error(transparent)]
    Batch(feishu_drive::batch::BatchError),
    /// Signal handlers could not be installed.
    #[error("installing the signal handlers failed: {0}")]
    Signals(#[source] std::io::Error),
}

impl CliError {
    /// The exit code this error ends the run with.
    pub fn exit(&self) -> Exit {
        match self {
            CliError::NoCredentials { .. }
            | CliError::InsecureConfig { .. }
            | CliError::Config { .. }
            | CliError::Usage(_)
            | CliError::BadPath { .. }
            | CliError::Redis(_)
            | CliError::Build(_) => Exit::Usage,
            CliError::Server(_) | CliError::Io { .. } | CliError::Signals(_) => Exit::Failed,
            CliError::Batch(error) => batch_exit(error),
        }
    }
}

/// A batch that could not start: the request's fault (usage), refused credentials, or a
/// target folder that could not be listed.
fn batch_exit(error: &feishu_drive::batch::BatchError) -> Exit {
    use feishu_drive::batch::BatchError;
    match error {
        BatchError::Listing(api)
            if api.is_token_rejected() || api.code().is_some_and(|c| c.is_credentials_refused()) =>
        {
            Exit::CredentialsRefused
        }
        BatchError::Listing(feishu_drive::ApiError::Auth(feishu_drive::auth::AuthError::Refused {
            ..
        })) => Exit::CredentialsRefused,
        BatchError::Listing(_) => Exit::Failed,
        _ => Exit::Usage,
    }
}
