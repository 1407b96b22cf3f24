//! The fault model: every fault rule fires where and when it is told to, and the server's stats
//! say what it did. Each test would fail if its fault did not fire (the request would succeed,
//! or be answered with JSON, or arrive fast).

use crate::support;

use std::time::{Duration, Instant};

use feishu_drive_server::{Config, FaultKind, FaultRule, Faults, Operation, RateLimitStyle};
use serde_json::json;
use support::{PARENT, data, json_of, start};

fn prepare_body(name: &str, size: u64) -> serde_json::Value {
    json!({"file_name": name, "parent_type": "docx_file", "parent_node": PARENT, "size": size})
}

#[tokio::test]
async fn a_lost_finish_answer_still_finished_the_upload() {
    let h = start(Config::default().block_size(4)).await;
    h.server
        .add_fault(FaultRule::new(FaultKind::LoseResponse, [Operation::UploadFinish]).first(1));
    let (_, _, prepared) = json_of(
        h.prepare_as(&h.token, prepare_body("a.bin", 4))
            .await
            .expect("prepare"),
    )
    .await;
    let upload_id = prepared["data"]["upload_id"]
        .as_str()
        .expect("upload id")
        .to_owned();
    let form = reqwest::multipart::Form::new()
        .text("upload_id", upload_id.clone())
        .text("seq", "0")
        .text("size", "4")
        .part("file", reqwest::multipart::Part::bytes(&b"abcd"[..]));
    let (status, _, part) = json_of(
        h.http
            .post(h.url("upload_part"))
            .bearer_auth(&h.token)
            .multipart(form)
            .send()
            .await
            .expect("part"),
    )
    .await;
    assert_eq!((status, &part["code"]), (200, &json!(0)), "{part}");
    let finish = || {
        h.http
            .post(h.url("upload_finish"))
            .bearer_auth(&h.token)
            .json(&json!({"upload_id": upload_id, "block_num": 1}))
            .send()
    };
    let lost = finish().await;
    assert!(lost.is_err(), "the first finish's answer is lost: {lost:?}");
    let stats = h.server.stats();
    assert_eq!((stats.files_finished, stats.lost_responses), (1, 1), "{stats:?}");
    // The retry finds the upload finished: the protocol cannot give the token again.
    let (_, _, again) = json_of(finish().await.expect("second finish")).await;
    assert_eq!(again["code"], json!(1061021), "{again}");
    assert_eq!(h.server.stats().files_finished, 1);
    let hits: Vec<(FaultKind, u64)> = h
        .server
        .fault_hits()
        .into_iter()
        .map(|(rule, hits)| (rule.kind, hits))
        .collect();
    assert_eq!(
        hits,
        [(FaultKind::LoseResponse, 1)],
        "the rule counts what it hit"
    );
}

#[tokio::test]
async fn a_lost_upload_all_answer_stored_the_file_by_count_and_by_rate() {
    let faults =
        Faults::default().rule(FaultRule::new(FaultKind::LoseResponse, [Operation::UploadAll]).first(2));
    let h = start(Config::default().faults(faults)).await;
    for _ in 0..2 {
        let lost = h
            .upload_all_as(
                &h.token,
                "x.txt",
                b"hello",
                &[("parent_type", "docx_file"), ("parent_node", PARENT)],
            )
            .await;
        assert!(lost.is_err(), "{lost:?}");
    }
    h.stored(&h.token, "x.txt", b"hello").await;
    let stats = h.server.stats();
    assert_eq!((stats.files_finished, stats.lost_responses), (3, 2), "{stats:?}");

    // By rate: every upload_prepare (rate 1.0) is answered by nobody, yet each made an upload.
    h.server
        .add_fault(FaultRule::new(FaultKind::LoseResponse, [Operation::UploadPrepare]).rate(1.0));
    for _ in 0..3 {
        assert!(h.prepare_as(&h.token, prepare_body("p", 1)).await.is_err());
    }
    assert_eq!(h.server.stats().lost_responses, 5);
}

#[tokio::test]
async fn failures_that_are_not_feishu_json() {
    let cases = [
        (FaultKind::Html(502), 502, Some("text/html")),
        (FaultKind::Html(503), 503, Some("text/html")),
        (FaultKind::Html(500), 500, Some("text/html")),
        (FaultKind::PlainText(500), 500, Some("text/plain")),
        (FaultKind::PlainText(504), 504, Some("text/plain")),
        (FaultKind::Empty429, 429, None),
    ];
    for (kind, status, content_type) in cases {
        let faults = Faults::default().rule(FaultRule::new(kind, [Operation::UploadAll]).first(1));
        let h = start(Config::default().faults(faults)).await;
        let response = h
            .upload_all_as(
                &h.token,
                "x.txt",
                b"hello",
                &[("parent_type", "docx_file"), ("parent_node", PARENT)],
            )
            .await
            .expect("an answer");
        assert_eq!(response.status().as_u16(), status, "{kind:?}");
        let headers = response.headers().clone();
        assert_eq!(
            headers
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .map(|v| v.split(';').next().unwrap_or(v)),
            content_type,
            "{kind:?}"
        );
        assert!(headers.get("x-ogw-ratelimit-reset").is_none(), "{kind:?}");
        let body = response.text().await.expect("body");
        assert!(
            serde_json::from_str::<serde_json::Value>(&body).is_err(),
            "{kind:?}: {body}"
        );
        if kind == FaultKind::Empty429 {
            assert!(body.is_empty(), "{body:?}");
        } else {
            assert!(body.contains(&status.to_string()), "{kind:?}: {body}");
        }
        let stats = h.server.stats();
        assert_eq!(
            (stats.files_finished, stats.foreign_failures),
            (0, 1),
            "{kind:?}: not handled"
        );
        // Only the first request was hit.
        h.stored(&h.token, "x.txt", b"hello").await;
    }
}

#[tokio::test]
async fn download_answers_202_and_200_envelopes() {
    let h = start(Config::default()).await;
    let file = h.stored(&h.token, "a.bin", b"bytes").await;
    h.server
        .add_fault(FaultRule::new(FaultKind::Accepted202, [Operation::Download]).first(3));
    for _ in 0..3 {
        let (status, headers, body) = json_of(h.download_as(&h.token, &file, None).await).await;
        assert_eq!(status, 202, "{body}");
        assert!(
            (1062004..=1062006).contains(&body["code"].as_i64().expect("code")),
            "{body}"
        );
        assert!(
            headers["content-type"]
                .to_str()
                .expect("ascii")
                .starts_with("application/json")
        );
    }
    h.server
        .add_fault(FaultRule::new(FaultKind::Envelope200, [Operation::Download]).first(3));
    for _ in 0..3 {
        let (status, _, body) = json_of(h.download_as(&h.token, &file, None).await).await;
        assert_eq!(status, 200, "{body}");
        assert!(
            [1061001, 1061006, 1061045].contains(&body["code"].as_i64().expect("code")),
            "{body}"
        );
    }
    assert_eq!(h.server.stats().injected_envelopes, 6);
    let ok = h.download_as(&h.token, &file, None).await;
    assert_eq!(ok.bytes().await.expect("bytes").as_ref(), b"bytes");
}

#[tokio::test]
async fn token_endpoint_faults() {
    let faults = Faults::default()
        .rule(FaultRule::new(FaultKind::Html(503), [Operation::TenantAccessTokenInternal]).first(1))
        .rule(FaultRule::new(FaultKind::Envelope200, [Operation::TenantAccessTokenInternal]).first(1))
        .rule(
            FaultRule::new(
                FaultKind::RefuseCredentials,
                [Operation::TenantAccessTokenInternal],
            )
            .first(2),
        )
        .rule(
            FaultRule::new(
                FaultKind::Delay(Duration::from_millis(600)),
                [Operation::TenantAccessTokenInternal],
            )
            .first(1),
        );
    let server = feishu_drive_server::Server::start(Config::default().faults(faults))
        .await
        .expect("starts");
    let http = reqwest::Client::new();
    let ask = || {
        http.post(format!(
            "{}/open-apis/auth/v3/tenant_access_token/internal",
            server.base_url()
        ))
        .json(&json!({"app_id": "cli_local", "app_secret": "local-secret"}))
        .send()
    };
    let html = ask().await.expect("answer");
    assert_eq!(html.status().as_u16(), 503);
    assert!(html.text().await.expect("body").contains("<html>"));
    let (status, _, body) = json_of(ask().await.expect("answer")).await;
    assert_eq!(status, 200);
    assert!(
        [1061001, 1061006, 1061045].contains(&body["code"].as_i64().expect("code")),
        "{body}"
    );
    for _ in 0..2 {
        let (status, _, body) = json_of(ask().await.expect("answer")).await;
        assert_eq!(status, 400, "{body}");
        assert!(
            [10014, 99991543].contains(&body["code"].as_i64().expect("code")),
            "{body}"
        );
        assert!(body.get("tenant_access_token").is_none());
    }
    // The slow answer: late, but a token. (A lower bound only: a loaded machine is never early.)
    let started = Instant::now();
    let (status, _, body) = json_of(ask().await.expect("answer")).await;
    assert!(started.elapsed() >= Duration::from_millis(600));
    assert_eq!((status, body["code"].as_i64()), (200, Some(0)), "{body}");
    assert!(body["tenant_access_token"].is_string());
    let stats = server.stats();
    assert_eq!(
        (
            stats.foreign_failures,
            stats.injected_envelopes,
            stats.delayed_requests
        ),
        (1, 3, 1),
        "{stats:?}"
    );
}

#[tokio::test]
async fn a_slow_link_reads_bodies_and_sends_downloads_at_its_rate() {
    // 96 KiB at 64 KiB/s: at least 1.5 s each way, whatever the machine's load.
    let bytes = data(96 * 1024, 3);
    let h = start(Config::default().faults(Faults::default().slow_link(64 * 1024))).await;
    let started = Instant::now();
    let file = h.stored(&h.token, "slow.bin", &bytes).await;
    let up = started.elapsed();
    assert!(up >= Duration::from_millis(1400), "uploaded 96 KiB in {up:?}");
    let started = Instant::now();
    let got = h
        .download_as(&h.token, &file, None)
        .await
        .bytes()
        .await
        .expect("bytes");
    let down = started.elapsed();
    assert_eq!(got.as_ref(), bytes.as_slice());
    assert!(
        down >= Duration::from_millis(1400),
        "downloaded 96 KiB in {down:?}"
    );
}

#[tokio::test]
async fn rate_limits_count_per_app_not_per_user_name() {
    let h = start(Config::default().faults(Faults::default().rate_limit(5, RateLimitStyle::Gateway))).await;
    let started = Instant::now();
    let answers = futures::future::join_all((0..50).map(|n| {
        let token = format!("u-user{}", n % 10);
        let h = &h;
        async move { json_of(h.prepare_as(&token, prepare_body("r", 1)).await.expect("answer")).await }
    }))
    .await;
    let elapsed = started.elapsed();
    let allowed = answers
        .iter()
        .filter(|(_, _, body)| body["code"] == json!(0))
        .count();
    let refused = answers
        .iter()
        .filter(|(status, _, body)| *status == 429 && body["code"] == json!(99991400))
        .count();
    assert_eq!(allowed + refused, 50);
    // The app's 5 per one-second window, over however many windows the burst took. Limits per
    // user name would let all 50 through.
    let windows = elapsed.as_secs() + 2;
    assert!(allowed as u64 <= 5 * windows, "{allowed} allowed in {elapsed:?}");
    assert!(allowed < 50, "{allowed} allowed");
    assert_eq!(h.server.stats().rate_limited, refused as u64);
}

#[tokio::test]
async fn a_daily_quota_per_app_and_endpoint() {
    let h = start(
        Config::default()
            .add_app("cli_two", "two-secret")
            .faults(Faults::default().daily_quota(3)),
    )
    .await;
    for token in [h.token.as_str(), "u-alice", "u-bob"] {
        let (_, _, body) = json_of(h.prepare_as(token, prepare_body("q", 1)).await.expect("answer")).await;
        assert_eq!(body["code"], json!(0), "{body}");
    }
    let (status, headers, body) = json_of(
        h.prepare_as(&h.token, prepare_body("q", 1))
            .await
            .expect("answer"),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_i64()),
        // The quota answer users report (third-party evidence): 99991403, HTTP 429.
        (429, Some(99991403)),
        "{body}"
    );
    assert_eq!(headers["x-ogw-ratelimit-limit"], "3");
    let reset: u64 = headers["x-ogw-ratelimit-reset"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=86_400).contains(&reset), "{reset}");
    // Another endpoint, and another app, have their own quota.
    h.stored(&h.token, "q.txt", b"q").await;
    let two = support::tenant_token(&h.http, &h.server.base_url(), "cli_two", "two-secret")
        .await
        .expect("token");
    let (_, _, body) = json_of(h.prepare_as(&two, prepare_body("q", 1)).await.expect("answer")).await;
    assert_eq!(body["code"], json!(0), "{body}");
    assert_eq!(h.server.stats().quota_exceeded, 1);
}

#[tokio::test]
async fn dropped_requests_by_rule_are_not_handled() {
    let faults =
        Faults::default().rule(FaultRule::new(FaultKind::DropRequest, [Operation::UploadAll]).first(1));
    let h = start(Config::default().faults(faults)).await;
    let dropped = h
        .upload_all_as(
            &h.token,
            "d.txt",
            b"hello",
            &[("parent_type", "docx_file"), ("parent_node", PARENT)],
        )
        .await;
    assert!(dropped.is_err(), "{dropped:?}");
    let stats = h.server.stats();
    assert_eq!(
        (stats.dropped_connections, stats.files_finished),
        (1, 0),
        "{stats:?}"
    );
}
