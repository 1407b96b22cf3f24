//! What every file of one batch shares: the client, the request's choices, what the journal said
//! when the batch started and the journal itself, the stop signal, the bounds on files in
//! flight and on memory.

use std::collections::HashSet;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use super::outcome::{BatchError, BatchEvent, BatchEventFn, FileError, Stopped};
use super::record::{Record, State};
use super::request::{BatchRequest, IfExists, OnFailure, Target};
use crate::Client;

/// What every file of one batch shares.
pub(super) struct Run {
    pub(super) client: Client,
    pub(super) target: Target,
    pub(super) if_exists: Option<IfExists>,
    pub(super) on_failure: OnFailure,
    pub(super) refuse_duplicates: bool,
    pub(super) lists: bool,
    pub(super) events: Option<BatchEventFn>,
    /// What the journal said when the batch started.
    pub(super) earlier: State,
    /// Tokens the journal already gives to a file of this batch (never adopted by another).
    pub(super) owned: HashSet<String>,
    pub(super) record: Option<Arc<Mutex<Record>>>,
    pub(super) stop: CancellationToken,
    pub(super) stopped: Mutex<Option<Stopped>>,
    pub(super) slots: Semaphore,
    pub(super) memory: Semaphore,
    pub(super) memory_units: u32,
    pub(super) upload_all_max: u64,
    pub(super) concurrency: usize,
    pub(super) folders_created: AtomicU64,
    pub(super) warnings: Arc<Mutex<Vec<String>>>,
}

impl Run {
    pub(super) fn new(
        client: &Client,
        request: &BatchRequest,
        record: Option<Arc<Mutex<Record>>>,
        earlier: State,
    ) -> Self {
        let memory_units = units(request.memory_limit);
        Run {
            client: client.clone(),
            target: request.target.clone(),
            if_exists: request.if_exists,
            on_failure: request.on_failure,
            refuse_duplicates: request.refuse_duplicates,
            lists: request.lists_target(),
            events: request.events.clone(),
            owned: earlier.done.values().map(|d| d.token.clone()).collect(),
            earlier,
            record,
            stop: request
                .cancel
                .as_ref()
                .map_or_else(CancellationToken::new, CancellationToken::child_token),
            stopped: Mutex::new(None),
            slots: Semaphore::new(request.files_in_flight),
            memory: Semaphore::new(memory_units as usize),
            memory_units,
            upload_all_max: client.inner.transfer.upload_all_max,
            concurrency: client.inner.transfer.concurrency,
            folders_created: AtomicU64::new(0),
            warnings: Arc::new(Mutex::new(Vec::new())),
        }
    }

    pub(super) fn emit(&self, event: &BatchEvent<'_>) {
        if let Some(events) = &self.events {
            events(event);
        }
    }

    /// A poisoned lock only means a callback panicked; the data is still whole.
    pub(super) fn lock<'a, T>(&self, mutex: &'a Mutex<T>) -> MutexGuard<'a, T> {
        mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Writes to the journal, if the batch keeps one.
    pub(super) fn journal(
        &self,
        write: impl FnOnce(&mut Record) -> Result<(), BatchError>,
    ) -> Result<(), BatchError> {
        match &self.record {
            Some(record) => write(&mut self.lock(record)),
            None => Ok(()),
        }
    }

    /// Stops the batch (the first reason is kept): no file starts after this, and the uploads
    /// in flight stop with their journals kept.
    pub(super) fn halt(&self, why: Stopped) {
        self.lock(&self.stopped).get_or_insert(why);
        self.stop.cancel();
    }
}

pub(super) fn journal_failed(error: BatchError) -> Arc<FileError> {
    Arc::new(FileError::Journal(error))
}

/// `bytes` in KiB, at least 1, at most what a semaphore counts.
pub(super) fn units(bytes: u64) -> u32 {
    u32::try_from(bytes.div_ceil(1024).max(1)).unwrap_or(u32::MAX >> 4)
}
