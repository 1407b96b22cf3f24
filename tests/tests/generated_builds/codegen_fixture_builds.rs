//! The multipart fixture's generated client compiles, and its checks work.
//!
//! The real spec only exercises some of what the multipart generator writes (no optional binary
//! part, no inline string with length bounds, no exclusive maximum), so a snapshot alone could
//! accept code that does not build. `tests/fixtures/codegen/multipart.api.rs` is the fixture's
//! generated `api.rs`, committed and compiled into this test. `codegen_snapshots` keeps it equal to
//! a fresh generation (and rewrites it outside CI), from a test binary (`suite`) that does not include it, so
//! a stale copy that no longer compiles can still be regenerated with
//! `cargo test -p feishu-drive-tests --test suite codegen_snapshots::`.

#[rustfmt::skip]
#[allow(dead_code, unused_imports, clippy::all, clippy::unwrap_used, missing_debug_implementations)]
#[path = "../../fixtures/codegen/multipart.api.rs"]
mod fixture;

use crate::form_support;

use fixture::{Client, Error};
use form_support::{BOUND, one_shot, part, received};

/// A client whose requests would go nowhere: every case below must fail before sending.
fn client() -> Client {
    Client::new("http://127.0.0.1:9")
}

/// The `InvalidRequest` message of a result, or a panic naming what came instead.
fn invalid_request<T: std::fmt::Debug, E: std::fmt::Debug>(result: Result<T, Error<E>>) -> String {
    match result {
        Err(Error::InvalidRequest(message)) => message,
        other => panic!("expected Error::InvalidRequest, got {other:?}"),
    }
}

#[tokio::test]
async fn required_fields_are_checked_before_sending() {
    let message = invalid_request(client().upload_file().priority(1).file(vec![1u8]).send().await);
    assert_eq!(message, "`name` is required but was not set");
    let message = invalid_request(client().upload_file().name("a").file(vec![1u8]).send().await);
    assert_eq!(message, "`priority` is required but was not set");
    let message = invalid_request(client().upload_file().name("a").priority(1).send().await);
    assert_eq!(message, "`file` is required but was not set");
}

#[tokio::test]
async fn inline_string_bounds_count_characters() {
    let message = invalid_request(client().upload_file().name("").priority(1).send().await);
    assert_eq!(message, "`name` must be at least 1 characters, got 0");
    let message = invalid_request(
        client()
            .upload_file()
            .name("x".repeat(65))
            .priority(1)
            .send()
            .await,
    );
    assert_eq!(message, "`name` must be at most 64 characters, got 65");
    // 64 characters of two bytes each pass: the next check (no `file`) is what fails.
    let message = invalid_request(
        client()
            .upload_file()
            .name("é".repeat(64))
            .priority(1)
            .send()
            .await,
    );
    assert_eq!(message, "`file` is required but was not set");
    // An optional inline string is checked when set.
    let message = invalid_request(
        client()
            .upload_file()
            .name("a")
            .priority(1)
            .comment("c".repeat(141))
            .send()
            .await,
    );
    assert_eq!(message, "`comment` must be at most 140 characters, got 141");
}

#[tokio::test]
async fn integer_bounds_are_inclusive_and_the_exclusive_maximum_is_not() {
    for (priority, expected) in [
        (0, "`priority` must be at least 1, got 0"),
        (11, "`priority` must be at most 10, got 11"),
        (1, "`file` is required but was not set"),
        (10, "`file` is required but was not set"),
    ] {
        let message = invalid_request(client().upload_file().name("a").priority(priority).send().await);
        assert_eq!(message, expected, "priority {priority}");
    }
    // `maximum: 5, exclusiveMaximum: true`: 4 is the largest value allowed.
    for (retries, expected) in [
        (-1, "`retries` must be at least 0, got -1"),
        (5, "`retries` must be at most 4, got 5"),
        (4, "`file` is required but was not set"),
    ] {
        let message = invalid_request(
            client()
                .upload_file()
                .name("a")
                .priority(1)
                .retries(retries)
                .send()
                .await,
        );
        assert_eq!(message, expected, "retries {retries}");
    }
    // A value that does not fit an i64 fails at conversion, not with a wrapped-around number.
    let message = invalid_request(client().upload_file().name("a").priority(u64::MAX).send().await);
    assert!(
        message.starts_with("conversion to `i64` for priority failed: "),
        "{message}"
    );
}

#[tokio::test]
async fn a_referenced_string_component_validates_itself() {
    let message = invalid_request(
        client()
            .upload_file()
            .name("a")
            .priority(1)
            .label("UPPER")
            .send()
            .await,
    );
    assert!(
        message.starts_with("conversion to `Label` for label failed: "),
        "{message}"
    );
    assert!(message.contains("^[a-z]+$"), "{message}");
    let label = fixture::types::Label::try_from("ok").expect("a valid label");
    let message = invalid_request(
        client()
            .upload_file()
            .name("a")
            .priority(1)
            .label(label)
            .send()
            .await,
    );
    assert_eq!(message, "`file` is required but was not set");
}

#[tokio::test]
async fn uuid_and_date_time_components_take_text_and_check_it() {
    let client = client();
    let base = || client.upload_file().name("a").priority(1).file(vec![1u8]);
    let message = invalid_request(base().batch("not-a-uuid").send().await);
    assert!(
        message.starts_with("conversion to `BatchId` for batch failed: "),
        "{message}"
    );
    let message = invalid_request(base().taken_at("yesterday").send().await);
    assert!(
        message.starts_with("conversion to `TakenAt` for taken_at failed: "),
        "{message}"
    );
    // Valid text, and the typed values, pass every check: the request is then sent (and finds
    // nobody listening).
    let batch = "9c9de5e8-0a1e-484a-b099-e80766180a6d";
    let taken = "2026-11-26T01:02:03Z";
    for builder in [
        base().batch(batch).taken_at(taken),
        base()
            .batch(fixture::types::BatchId(batch.parse().expect("a uuid")))
            .taken_at(fixture::types::TakenAt(taken.parse().expect("a date-time"))),
    ] {
        let result = builder.send().await;
        assert!(matches!(result, Err(Error::CommunicationError(_))), "{result:?}");
    }
}

/// A head line of the raw request (`POST /path?query HTTP/1.1`, or a header, lower-cased).
fn head_line(request: &[u8], starts_with: &str) -> String {
    String::from_utf8_lossy(request)
        .lines()
        .map(str::to_owned)
        .find(|l| l.to_ascii_lowercase().starts_with(starts_with))
        .unwrap_or_else(|| panic!("no line starting {starts_with:?}"))
}

#[tokio::test]
async fn parameters_go_into_the_path_query_and_headers() {
    let (base, server) = one_shot(204, "").await;
    let client = Client::new(&base);
    let album = "summer 2026/best";
    let sent = tokio::time::timeout(
        BOUND,
        client
            .add_photo()
            .album_id(album)
            .position(3)
            .x_request_id("req 1")
            .photo(b"JPEG".to_vec())
            .caption("at the sea")
            .send(),
    )
    .await
    .expect("bounded")
    .expect("a 204 is a success");
    assert_eq!(sent.status(), 204);
    let request = received(server).await;
    // The path value is percent-encoded: its `/` does not split the path.
    assert_eq!(
        head_line(&request, "post "),
        "POST /albums/summer%202026%2Fbest/photos?position=3 HTTP/1.1"
    );
    assert_eq!(
        head_line(&request, "x-request-id:").to_ascii_lowercase(),
        "x-request-id: req 1"
    );
    assert_eq!(part(&request, "photo", 0), "JPEG");
    assert_eq!(part(&request, "caption", 0), "at the sea");
    // Parameters are not parts of the form.
    assert!(!String::from_utf8_lossy(&request).contains("name=\"position\""));
}

#[tokio::test]
async fn parameters_are_checked_and_optional_ones_left_out() {
    let client = client();
    let message = invalid_request(
        client
            .add_photo()
            .album_id("")
            .x_request_id("r")
            .photo(vec![1u8])
            .send()
            .await,
    );
    assert_eq!(message, "`album_id` must be at least 1 characters, got 0");
    let message = invalid_request(client.add_photo().x_request_id("r").photo(vec![1u8]).send().await);
    assert_eq!(message, "`album_id` is required but was not set");
    let album = "9c9de5e8-0a1e-484a-b099-e80766180a6d";
    let message = invalid_request(
        client
            .add_photo()
            .album_id(album)
            .x_request_id("x".repeat(65))
            .photo(vec![1u8])
            .send()
            .await,
    );
    assert_eq!(message, "`X-Request-Id` must be at most 64 characters, got 65");
    let message = invalid_request(
        client
            .add_photo()
            .album_id(album)
            .x_request_id("line\nbreak")
            .photo(vec![1u8])
            .send()
            .await,
    );
    assert!(
        message.starts_with("`X-Request-Id` cannot be sent as a header"),
        "{message}"
    );
    let message = invalid_request(
        client
            .add_photo()
            .album_id(album)
            .x_request_id("r")
            .position(-1)
            .photo(vec![1u8])
            .send()
            .await,
    );
    assert_eq!(message, "`position` must be at least 0, got -1");

    // Without the optional query parameter there is no query string.
    let (base, server) = one_shot(204, "").await;
    let client = Client::new(&base);
    tokio::time::timeout(
        BOUND,
        client
            .add_photo()
            .album_id(album)
            .x_request_id("r")
            .photo(vec![1u8])
            .send(),
    )
    .await
    .expect("bounded")
    .expect("a 204 is a success");
    let request = received(server).await;
    assert_eq!(
        head_line(&request, "post "),
        format!("POST /albums/{album}/photos HTTP/1.1")
    );
}

#[tokio::test]
async fn error_responses_with_and_without_a_body() {
    // The same request each time, to a server that answers once with `status` and `body`.
    let add_photo = |status, body| async move {
        let (base, _server) = one_shot(status, body).await;
        let client = Client::new(&base);
        let send = client
            .add_photo()
            .album_id("9c9de5e8-0a1e-484a-b099-e80766180a6d")
            .x_request_id("r")
            .photo(vec![1u8])
            .send();
        tokio::time::timeout(BOUND, send).await.expect("bounded")
    };
    // The documented 400 has a JSON body: an ErrorResponse of the error type.
    match add_photo(400, r#"{"code": 1061002, "msg": "params error."}"#).await {
        Err(Error::ErrorResponse(error)) => {
            assert_eq!(error.status(), 400);
            assert_eq!(error.code, 1061002);
        }
        other => panic!("expected an ErrorResponse, got {other:?}"),
    }
    // The documented 403 has no body: its status is kept, as an UnexpectedResponse.
    let result = add_photo(403, "").await;
    match result {
        Err(Error::UnexpectedResponse(response)) => assert_eq!(response.status(), 403),
        other => panic!("expected an UnexpectedResponse, got {other:?}"),
    }
}

/// Every setter of upload_file, on the wire: text in spec order, the thumbnail with its
/// `encoding` content type, the component, uuid and date-time values in their text forms.
#[tokio::test]
async fn upload_file_sends_every_field() {
    let (base, server) = one_shot(
        200,
        r#"{"code": 0, "msg": "success", "data": {"file_id": "f-1"}}"#,
    )
    .await;
    let client = Client::new(&base);
    let sent = tokio::time::timeout(
        BOUND,
        client
            .upload_file()
            .name("photo.png")
            .priority(7)
            .label("holiday")
            .comment("the sea")
            .retries(2)
            .file(b"PNG-file".to_vec())
            .thumbnail(b"PNG-thumb".to_vec())
            .batch("9c9de5e8-0a1e-484a-b099-e80766180a6d")
            .taken_at("2026-11-26T01:02:03Z")
            .send(),
    )
    .await
    .expect("bounded")
    .expect("the request succeeds");
    assert_eq!(sent.data.as_ref().map(|d| d.file_id.as_str()), Some("f-1"));
    let request = received(server).await;
    for (name, value) in [
        ("name", "photo.png"),
        ("priority", "7"),
        ("label", "holiday"),
        ("comment", "the sea"),
        ("retries", "2"),
        ("file", "PNG-file"),
        ("thumbnail", "PNG-thumb"),
        ("batch", "9c9de5e8-0a1e-484a-b099-e80766180a6d"),
        ("taken_at", "2026-11-26T01:02:03Z"),
    ] {
        assert_eq!(part(&request, name, 0), value, "part {name}");
    }
    assert!(form_support::part_headers(&request, "thumbnail").contains("content-type: image/png"));
    assert!(form_support::part_headers(&request, "file").contains("content-type: application/octet-stream"));
}
