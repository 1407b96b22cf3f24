//! What the suite's modules share: a real `redis-server` (`budget`, also compiled into the CLI's
//! tests), the end-to-end steps through the generated client (`e2e`), a local server and
//! uploaders pointed at it (`upload`), and the recording proxy (`wire`).

pub mod budget;
pub mod e2e;
pub mod upload;
pub mod wire;
