//! A batch's plan: the requests it sends per operation, the least time the budget's rate allows,
//! and the share of the day's quota — counted from the request alone, without sending anything.

use std::time::Duration;

use super::request::{BatchRequest, Target};
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

impl Client {
    /// The plan of `request` on this client: its `upload_all` threshold and its budget's rate
    /// and quota. Sends nothing.
    pub fn plan_batch(&self, request: &BatchRequest) -> Plan {
        let config = self.inner.budget.config();
        request.plan(
            self.inner.transfer.upload_all_max,
            config.spacing(),
            config.quota(),
        )
    }
}

impl BatchRequest {
    /// The plan of this batch for files up to `upload_all_max` through `upload_all`, requests
    /// of one operation `spacing` apart (see [`BudgetConfig::spacing`]) and `daily_quota` calls
    /// a day per operation.
    ///
    /// [`BudgetConfig::spacing`]: crate::budget::BudgetConfig::spacing
    pub fn plan(&self, upload_all_max: u64, spacing: Duration, daily_quota: Option<u64>) -> Plan {
        let family = self.target.family();
        let mut counts: Vec<(OperationId, u64)> = Vec::new();
        let mut count =
            |operation: OperationId, n: u64| match counts.iter_mut().find(|(o, _)| *o == operation) {
                Some((_, total)) => *total += n,
                None => counts.push((operation, n)),
            };
        if let Target::Folder(_) = self.target {
            if self.lists_target() {
                count(OperationId::ListFiles, 1);
            }
            let folders = self.all_folders().len() as u64;
            if folders > 0 {
                count(OperationId::CreateFolder, folders);
            }
        }
        for entry in &self.entries {
            if entry.size <= upload_all_max {
                count(family.upload_all(), 1);
            } else {
                count(family.upload_prepare(), 1);
                count(family.upload_part(), entry.size.div_ceil(BLOCK_SIZE));
                count(family.upload_finish(), 1);
            }
        }
        counts.sort_by_key(|(operation, _)| OperationId::ALL.iter().position(|o| o == operation));
        let operations: Vec<OperationPlan> = counts
            .into_iter()
            .map(|(operation, requests)| {
                let paced = operation.rate_group().is_some();
                OperationPlan {
                    operation,
                    requests,
                    seconds_at_rate: if paced {
                        spacing.as_secs_f64() * requests as f64
                    } else {
                        0.0
                    },
                    quota_share: match daily_quota {
                        Some(quota) if paced && quota > 0 => requests as f64 / quota as f64,
                        _ => 0.0,
                    },
                }
            })
            .collect();
        Plan {
            files: self.entries.len() as u64,
            bytes: self.entries.iter().map(|e| e.size).sum(),
            upload_all_max,
            block_size: BLOCK_SIZE,
            seconds_at_rate: operations.iter().map(|o| o.seconds_at_rate).fold(0.0, f64::max),
            fits: operations.iter().all(|o| o.quota_share <= 1.0),
            daily_quota,
            operations,
        }
    }
}

fn operation_id<S: serde::Serializer>(operation: &OperationId, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(operation.as_str())
}
