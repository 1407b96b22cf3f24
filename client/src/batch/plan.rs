//! A batch's plan: the requests it sends per operation, the least time the budget's rate allows,
//! and the share of the day's quota — counted from the request alone, without sending anything.

use std::time::Duration;

use super::request::BatchRequest;
use crate::Client;
use crate::limits::BLOCK_SIZE;
use crate::operations::OperationId;

/// What a batch will send.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct Plan {
    /// Files.
    pub files: u64,
    /// Bytes in all.
    pub bytes: u64,
    /// Files up to this size go through `upload_all`; larger ones block by block.
    pub upload_all_max: u64,
    /// The block size assumed (`upload_prepare` gives the real one: the platform's is 4 MiB).
    pub block_size: u64,
    /// Per operation, in the spec's order; operations the batch does not use are left out.
    pub operations: Vec<OperationPlan>,
    /// The least time the budget allows: each operation is paced on its own, so the busiest
    /// one sets it. Bandwidth is not counted.
    pub seconds_at_rate: f64,
    /// Each operation's calls per day (`None`: the budget counts none).
    pub daily_quota: Option<u64>,
    /// Whether every operation fits in one day's quota.
    pub fits: bool,
}

/// One operation's part of a plan.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct OperationPlan {
    /// The operation (serialised as its id, e.g. `file_upload_part`).
    #[serde(serialize_with = "operation_id")]
    pub operation: OperationId,
    /// Requests it takes, without retries. For `create_folder` and `list_files` this is the
    /// count of a first run into a folder: every folder of the trees made, the target listed
    /// once (a folder holding more than 200 children takes a page more per 200).
    pub requests: u64,
    /// Seconds its requests take at the budget's rate (0 for an operation the budget does not
    /// pace).
    pub seconds_at_rate: f64,
    /// Its share of the day's quota (1.0: all of it; 0 when not counted).
    pub quota_share: f64,
}

/// What a plan assumes of the client that will run it.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct PlanSettings {
    /// Files up to this size go through `upload_all`.
    pub upload_all_max: u64,
    /// The least time between two requests of one operation (zero: not paced).
    pub spacing: Duration,
    /// Each operation's calls per day (`None`: not counted).
    pub daily_quota: Option<u64>,
}

impl PlanSettings {
    /// A client with the documented limits: `upload_all` up to its maximum, the budget's
    /// default rate and spacing, the documented daily quota.
    pub fn documented() -> Self {
        let config = crate::budget::BudgetConfig::new("plan");
        PlanSettings {
            upload_all_max: crate::limits::UPLOAD_ALL_REQUEST_SIZE_MAXIMUM,
            spacing: config.spacing(),
            daily_quota: config.quota(),
        }
    }

    /// These settings with files up to `bytes` through `upload_all`.
    pub fn upload_all_max(mut self, bytes: u64) -> Self {
        self.upload_all_max = bytes;
        self
    }

    /// These settings with requests of one operation `spacing` apart.
    pub fn spacing(mut self, spacing: Duration) -> Self {
        self.spacing = spacing;
        self
    }
}

impl Client {
    /// The plan of `request` on this client: its `upload_all` threshold and its budget's rate
    /// and quota. Sends nothing.
    pub fn plan_batch(&self, request: &BatchRequest) -> Plan {
        let config = self.inner.budget.config();
        request.plan(PlanSettings {
            upload_all_max: self.inner.transfer.upload_all_max,
            spacing: config.spacing(),
            daily_quota: config.quota(),
        })
    }
}

impl BatchRequest {
    /// The plan of this batch under `settings`. Sends nothing.
    pub fn plan(&self, settings: PlanSettings) -> Plan {
        self.plan_adding(&[], settings)
    }

    /// The plan of this batch plus files of `extra_sizes` bytes that are not on disk (what a
    /// batch of those sizes would cost), under `settings`. Sends nothing.
    pub fn plan_adding(&self, extra_sizes: &[u64], settings: PlanSettings) -> Plan {
        let family = self.target.family();
        let mut counts: Vec<(OperationId, u64)> = Vec::new();
        let mut count =
            |operation: OperationId, n: u64| match counts.iter_mut().find(|(o, _)| *o == operation) {
                Some((_, total)) => *total += n,
                None => counts.push((operation, n)),
            };
        if self.lists_target() {
            count(OperationId::ListFiles, 1);
        }
        let folders = self.all_folders().len() as u64;
        if folders > 0 {
            count(OperationId::CreateFolder, folders);
        }
        let sizes: Vec<u64> = self
            .entries
            .iter()
            .map(|e| e.size)
            .chain(extra_sizes.iter().copied())
            .collect();
        for &size in &sizes {
            if size <= settings.upload_all_max {
                count(family.upload_all(), 1);
            } else {
                count(family.upload_prepare(), 1);
                count(family.upload_part(), size.div_ceil(BLOCK_SIZE));
                count(family.upload_finish(), 1);
            }
        }
        counts.sort_by_key(|(operation, _)| OperationId::ALL.iter().position(|o| o == operation));
        let operations: Vec<OperationPlan> = counts
            .into_iter()
            .map(|(operation, requests)| operation_plan(operation, requests, settings))
            .collect();
        Plan {
            files: sizes.len() as u64,
            bytes: sizes.iter().sum(),
            upload_all_max: settings.upload_all_max,
            block_size: BLOCK_SIZE,
            seconds_at_rate: operations.iter().map(|o| o.seconds_at_rate).fold(0.0, f64::max),
            fits: operations.iter().all(|o| o.quota_share <= 1.0),
            daily_quota: settings.daily_quota,
            operations,
        }
    }
}

fn operation_plan(operation: OperationId, requests: u64, settings: PlanSettings) -> OperationPlan {
    let paced = operation.rate_group().is_some();
    OperationPlan {
        operation,
        requests,
        seconds_at_rate: match paced {
            true => settings.spacing.as_secs_f64() * requests as f64,
            false => 0.0,
        },
        quota_share: match settings.daily_quota {
            Some(quota) if paced && quota > 0 => requests as f64 / quota as f64,
            _ => 0.0,
        },
    }
}

fn operation_id<S: serde::Serializer>(operation: &OperationId, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(operation.as_str())
}
