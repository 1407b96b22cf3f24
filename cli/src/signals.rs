//! SIGINT and SIGTERM: the first stops the run cleanly, the second ends the process at once.
//!
//! The first signal cancels the run's token: no new request starts, the requests in flight are
//! dropped, journals write what the server confirmed (they do when dropped), and the command
//! prints what was kept and how to resume, then exits with [`INTERRUPTED`]. Should that clean
//! stop itself hang (stdout blocked by a consumer that stopped reading, a stuck disk), a second
//! signal, or [`CLEAN_STOP_BOUND`] after the first, exits at once.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::signal::unix::{SignalKind, signal};
use tokio_util::sync::CancellationToken;

use crate::exit::{CliError, INTERRUPTED};

/// The longest a clean stop may take before the process exits anyway.
pub const CLEAN_STOP_BOUND: Duration = Duration::from_secs(10);

/// The run's interruption state, cheap to clone.
#[derive(Debug, Clone)]
pub struct Interrupt {
    token: CancellationToken,
    signal: Arc<OnceLock<&'static str>>,
}

impl Interrupt {
    /// Installs the handlers (SIGINT and SIGTERM) on the current Tokio runtime.
    pub fn install() -> Result<Self, CliError> {
        let mut int = signal(SignalKind::interrupt()).map_err(CliError::Signals)?;
        let mut term = signal(SignalKind::terminate()).map_err(CliError::Signals)?;
        let interrupt = Self {
            token: CancellationToken::new(),
            signal: Arc::new(OnceLock::new()),
        };
        let state = interrupt.clone();
        tokio::spawn(async move {
            let name = tokio::select! {
                _ = int.recv() => "SIGINT",
                _ = term.recv() => "SIGTERM",
            };
            let _ = state.signal.set(name);
            eprintln!(
                "{name}: stopping; writing the journal (press Ctrl-C again to exit at once)"
            );
            state.token.cancel();
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
        });
        Ok(interrupt)
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
