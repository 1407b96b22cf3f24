//! The retry policy on its own, below the generated client: the client's context holds one,
//! while the retry loop (`retry.rs`) is a method of the client.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};

/// How often, and how patiently, a failed request is sent again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: usize,
    /// The first backoff delay; each retry doubles it, with jitter.
    pub min_delay: Duration,
    /// The longest backoff delay.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// 8 retries from 200 ms up to 20 s: rides out a minute of trouble.
    fn default() -> Self {
        Self {
            max_retries: 8,
            min_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(20),
        }
    }
}

impl RetryPolicy {
    /// The delays of one request's retries: exponential with jitter (`backon`).
    pub(crate) fn backoff(&self) -> impl Iterator<Item = Duration> + use<> {
        ExponentialBuilder::default()
            .with_min_delay(self.min_delay)
            .with_max_delay(self.max_delay)
            .with_max_times(self.max_retries)
            .with_jitter()
            .build()
    }
}
