//! SIGINT and SIGTERM: the first stops the run cleanly, the second ends the process at once.
//!
//! The first signal cancels the run's token: no new request starts, the requests in flight are
//! dropped, journals write what the server confirmed (they do when dropped), and the command
//! prints what was kept and how to resume, then exits with [`INTERRUPTED`]. Should that clean
//! stop itself hang (stdout blocked by a consumer that stopped reading, a stuck disk), a second
//! signal, or [`CLEAN_STOP_BOUND`] after the first, exits at once.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio_util::sync::CancellationToken;

use crate::exit::{CliError, INTERRUPTED};

/// The longest a clean stop may take before the process exits anyway.
pub const CLEAN_STOP_BOUND: Duration = Duration::from_secs(5);

/// The run's interruption state, cheap to clone.
#[derive(Debug, Clone)]
pub struct Interrupt {
    token: CancellationToken,
    signal: Arc<OnceLock<&'static str>>,
}

impl Interrupt {
    /// Installs the handlers (SIGINT and SIGTERM). They run on a thread and runtime of their
    /// own, so a run whose workers are all blocked (in a write to a full pipe) still gets its
    /// second signal.
    pub fn install() -> Result<Self, CliError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(CliError::Signals)?;
        // Registered before this returns, so a signal right after is not missed.
        let (int, term) = runtime
            .block_on(async {
                Ok::<_, std::io::Error>((signal(SignalKind::interrupt())?, signal(SignalKind::terminate())?))
            })
            .map_err(CliError::Signals)?;
        let interrupt = Self {
            token: CancellationToken::new(),
            signal: Arc::new(OnceLock::new()),
        };
        let state = interrupt.clone();
        std::thread::Builder::new()
            .name("signals".to_owned())
            .spawn(move || runtime.block_on(state.watch(int, term)))
            .map_err(CliError::Signals)?;
        Ok(interrupt)
    }

    /// The first signal stops the run; the second (or the bound) ends the process.
    async fn watch(self, mut int: Signal, mut term: Signal) {
        let name = tokio::select! {
            _ = int.recv() => "SIGINT",
            _ = term.recv() => "SIGTERM",
        };
        let _ = self.signal.set(name);
        eprintln!("{name}: stopping; writing the journal (press Ctrl-C again to exit at once)");
        self.token.cancel();
        let second = tokio::select! {
            _ = int.recv() => Some("SIGINT"),
            _ = term.recv() => Some("SIGTERM"),
            () = tokio::time::sleep(CLEAN_STOP_BOUND) => None,
        };
        // Only stderr here: stdout may be what is blocked.
        match second {
            Some(again) => eprintln!("{again} again: exiting at once"),
            None => eprintln!(
                "the clean stop took over {} s: exiting",
                CLEAN_STOP_BOUND.as_secs()
            ),
        }
        std::process::exit(i32::from(INTERRUPTED));
    }

    /// The token that stops the run's transfers.
    pub fn token(&self) -> &CancellationToken {
        &self.token
    }

    /// The signal received, if one was.
    pub fn received(&self) -> Option<&'static str> {
        self.signal.get().copied()
    }
}
