//! What a handler may do to its connection: drop it (fault injection), or pace what it sends
//! over a slow link. Shared by the routes and the connection loop, which owns the sockets.

use std::time::Duration;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use tokio_util::sync::CancellationToken;

/// Lets a handler drop its own connection (fault injection): the connection task closes the
/// socket when this is triggered.
#[derive(Clone, Debug)]
pub(crate) struct ConnControl {
    pub(crate) kill: CancellationToken,
}

impl ConnControl {
    pub(crate) fn drop_connection(&self) {
        self.kill.cancel();
    }
}

/// Passes `stream` on at about `bytes_per_second`: each chunk waits until the bytes before it
/// would have crossed a link of that speed.
pub(crate) fn throttled<S, E>(stream: S, bytes_per_second: u64) -> impl Stream<Item = Result<Bytes, E>> + Send
where
    S: Stream<Item = Result<Bytes, E>> + Send,
    E: Send,
{
    let start = tokio::time::Instant::now();
    let mut sent = 0u64;
    stream.then(move |item| {
        let due = match &item {
            Ok(chunk) => {
                sent = sent.saturating_add(chunk.len() as u64);
                // The chunk is through once all bytes up to its end had their time on the link.
                let elapsed = Duration::try_from_secs_f64(sent as f64 / bytes_per_second.max(1) as f64)
                    .unwrap_or(Duration::MAX);
                start.checked_add(elapsed)
            }
            Err(_) => None,
        };
        async move {
            if let Some(due) = due {
                tokio::time::sleep_until(due).await;
            }
            item
        }
    })
}
