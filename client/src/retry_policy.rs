//! The retry policy shared by the token cache, uploads and downloads.

use std::time::Duration;

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
