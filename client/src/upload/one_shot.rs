//! The one-shot flow: a file up to the client's threshold in one `upload_all`, journaled (for a
//! file) as sent before it is sent, so a later run can tell that a media may already exist.

use std::collections::BTreeMap;
use std::path::Path;

use bytes::Bytes;

use super::family::{self, Uploaded};
use super::flow::{Tally, Upload};
use super::journal::{self, Journal, Loaded, Mode, Snapshot};
use super::request::{Input, Opened};
use super::source::{self, Layout};
use super::verify::{check_unchanged, identify};
use super::{ProgressEvent, UploadError, UploadOutcome};
use crate::ApiError;

impl Upload<'_> {
    /// `upload_all`: the whole file in one request.
    pub(super) async fn all(
        &self,
        input: Input,
        journal_path: Option<&Path>,
    ) -> Result<UploadOutcome, UploadError> {
        let size = input.size();
        let (bytes, adler, journaled) = self.read_whole(input, journal_path).await?;
        self.emit(ProgressEvent::Started {
            upload_id: None,
            total_bytes: size,
            total_blocks: 1,
            resumed_bytes: 0,
            resumed_blocks: 0,
        });
        let checksum = adler.to_string();
        let client = &self.uploader.client;
        let target = &self.target;
        let called = self
            .caller()
            .call_tracked(target.family.upload_all(), !self.refuse_duplicates, || {
                family::upload_all(client, target, bytes.clone(), &checksum)
            })
            .await;
        let earlier_sent = journaled.as_ref().is_some_and(|(_, earlier)| *earlier);
        let journal = journaled.map(|(journal, _)| journal);
        match called.result {
            Ok(data) => Ok(self.uploaded_all(data, size, called.ambiguous, earlier_sent, journal)),
            Err(e) => {
                // The journal stays when a media may exist, so the next run can say so.
                if let Some(journal) = journal
                    && called.ambiguous == 0
                    && !earlier_sent
                {
                    let _ = journal.remove();
                }
                if called.ambiguous > 0
                    && self.refuse_duplicates
                    && e.api_error().is_some_and(ApiError::is_ambiguous)
                {
                    return Err(UploadError::AmbiguousFinish {
                        operation: self.target.family.upload_all(),
                        upload_id: String::new(),
                    });
                }
                Err(e)
            }
        }
    }

    /// The whole input and its Adler-32; for a file with a journal, the journal that records the
    /// `upload_all` about to be sent, and whether an earlier run had sent one.
    async fn read_whole(
        &self,
        input: Input,
        journal_path: Option<&Path>,
    ) -> Result<(Bytes, u32, Option<(Journal, bool)>), UploadError> {
        match input {
            Input::File { path, opened } => {
                let size = opened.size;
                let (bytes, adler) = source::read_block(&path, &opened.file, 0, size, None).await?;
                check_unchanged(&path, &opened, "during the upload")?;
                let journaled = match journal_path {
                    Some(journal_path) => Some(self.journal_upload_all(journal_path, &path, &opened).await?),
                    None => None,
                };
                Ok((bytes, adler, journaled))
            }
            Input::Stream { mut reader, size } => {
                let bytes = source::read_exact(&mut *reader, size, size).await?;
                source::ensure_ended(&mut *reader, size).await?;
                let adler = crate::checksum::adler32(&bytes);
                Ok((bytes, adler, None))
            }
        }
    }

    /// `upload_all` succeeded: says whether a media may exist twice, and removes the journal.
    fn uploaded_all(
        &self,
        data: Uploaded,
        size: u64,
        ambiguous: u32,
        earlier_sent: bool,
        journal: Option<Journal>,
    ) -> UploadOutcome {
        if earlier_sent {
            self.report_duplicate(
                1,
                "an earlier run sent upload_all and never learned whether it succeeded".to_owned(),
            );
        }
        if ambiguous > 0 {
            self.report_duplicate(
                ambiguous,
                format!("{ambiguous} upload_all attempt(s) got no answer before the retry that succeeded"),
            );
        }
        self.emit(ProgressEvent::BlockConfirmed {
            seq: 0,
            bytes: size,
            confirmed_bytes: size,
            confirmed_blocks: 1,
        });
        self.finished(&data.file_token);
        if let Some(journal) = journal {
            self.cleanup(journal.remove());
        }
        self.outcome(data, size, false, &Tally::sent(1))
    }

    /// Records, durably, an `upload_all` about to be sent; returns the journal and whether an
    /// earlier run had sent one without learning its fate.
    async fn journal_upload_all(
        &self,
        journal_path: &Path,
        path: &Path,
        opened: &Opened,
    ) -> Result<(Journal, bool), UploadError> {
        let identity = identify(path, opened).await?;
        let earlier = match Journal::load(journal_path, Mode::UploadAll, &identity, &self.target)? {
            Loaded::None => false,
            Loaded::Resume(resumed) => resumed.1.finish_sent_at.is_some(),
            Loaded::Discard { finish_sent, .. } => finish_sent,
        };
        let size = opened.size;
        let block_size = size.max(1);
        let layout = Layout::new(size, block_size, size.div_ceil(block_size))?;
        // One request, no upload id: the journal's only snapshot says it was sent.
        let sent = Snapshot {
            upload_id: "",
            layout,
            confirmed: &BTreeMap::new(),
            finish_sent_at: Some(journal::now_secs()),
        };
        let journal = Journal::create(
            journal_path,
            Mode::UploadAll,
            identity,
            self.target.clone(),
            &sent,
        )?;
        Ok((journal, earlier))
    }
}
