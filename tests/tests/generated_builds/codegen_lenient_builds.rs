//! The lenient fixture's generated client (`tests/fixtures/codegen/lenient.yaml`: shapes of real
//! specs that only a non-strict generation expresses) compiles, and each operation's request and
//! responses behave as its docs say, against a loopback listener. `codegen_snapshots` keeps the
//! committed `lenient.api.rs` equal to a fresh generation.

#[rustfmt::skip]
#[allow(dead_code, unused_imports, clippy::all, clippy::unwrap_used, missing_debug_implementations)]
#[path = "../../fixtures/codegen/lenient.api.rs"]
mod lenient;

use crate::form_support::{BOUND, one_shot, part, part_headers, received};
use futures::TryStreamExt;
use lenient::{Client, Error};

/// The body of a raw request, after its headers.
fn body_of(request: &[u8]) -> String {
    let text = String::from_utf8_lossy(request);
    text.split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_referenced_all_of_form_sends_its_fields_and_reads_its_component_response() {
    let (base, server) = one_shot(201, r#"{"id": "a1"}"#).await;
    let client = Client::new(&base);
    let send = client.attach().title("March").file(vec![7u8, 8]).send();
    let stored = tokio::time::timeout(BOUND, send)
        .await
        .expect("bounded")
        .expect("a 201 is the success");
    assert_eq!(stored.id, "a1");
    let request = received(server).await;
    assert_eq!(part(&request, "title", 0), "March");
    assert_eq!(part(&request, "file", 0).as_bytes(), [7u8, 8]);
    // `name`, listed as required by the spec but no field, asks for nothing.
    assert!(!String::from_utf8_lossy(&request).contains("name=\"name\""));
}

#[tokio::test]
async fn identical_inline_errors_share_one_type() {
    for status in [400, 403] {
        let (base, _server) = one_shot(status, r#"{"message": "no"}"#).await;
        let client = Client::new(&base);
        let send = client.attach().title("t").file(vec![1u8]).send();
        match tokio::time::timeout(BOUND, send).await.expect("bounded") {
            Err(Error::ErrorResponse(error)) => {
                assert_eq!(error.status(), status);
                assert_eq!(error.message.as_deref(), Some("no"));
            }
            other => panic!("expected an ErrorResponse, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn successes_of_different_schemas_are_bytes_and_errors_of_different_schemas_keep_theirs() {
    let import = |status, body| async move {
        let (base, _server) = one_shot(status, body).await;
        let client = Client::new(&base);
        let send = client.import().file(vec![1u8]).send();
        tokio::time::timeout(BOUND, send).await.expect("bounded")
    };
    let bytes = |stream: progenitor_client::ByteStream| async move {
        let chunks: Vec<bytes::Bytes> = stream.into_inner().try_collect().await.expect("the body");
        chunks.concat()
    };
    let now = import(200, r#"{"count": 2}"#).await.expect("a 200 is a success");
    assert_eq!(now.status(), 200);
    assert_eq!(bytes(now.into_inner()).await, br#"{"count": 2}"#);
    let later = import(202, "").await.expect("a 202 is a success");
    assert_eq!(later.status(), 202);
    assert!(bytes(later.into_inner()).await.is_empty());
    match import(409, r#"{"existing": "x"}"#).await {
        Err(Error::UnexpectedResponse(response)) => {
            assert_eq!(response.status(), 409);
            assert_eq!(response.text().await.expect("the body"), r#"{"existing": "x"}"#);
        }
        Err(other) => panic!("expected an UnexpectedResponse, got {other:?}"),
        Ok(value) => panic!("expected an error, got a {} success", value.status()),
    }
}

#[tokio::test]
async fn a_default_only_response_is_the_success() {
    let (base, _server) = one_shot(200, r#"{"count": 3}"#).await;
    let client = Client::new(&base);
    let send = client.feed().file(vec![1u8]).send();
    let imported = tokio::time::timeout(BOUND, send)
        .await
        .expect("bounded")
        .expect("a 2xx is the success");
    assert_eq!(imported.count, 3);
}

#[tokio::test]
async fn an_array_multipart_body_is_sent_as_the_json_it_also_offers() {
    let (base, server) = one_shot(204, "").await;
    let client = Client::new(&base);
    let send = client.delete_images().body(vec![4i64, 5]).send();
    tokio::time::timeout(BOUND, send)
        .await
        .expect("bounded")
        .expect("a 204 is the success");
    let request = received(server).await;
    let head = String::from_utf8_lossy(&request).to_ascii_lowercase();
    assert!(head.contains("content-type: application/json"), "{head}");
    assert_eq!(body_of(&request), "[4,5]");
}

#[tokio::test]
async fn renamed_setters_send_the_spec_names_and_a_listed_part_type_sends_its_first() {
    let (base, server) = one_shot(200, r#"{"id": "in-form"}"#).await;
    let client = Client::new(&base);
    let send = client
        .update_thing()
        .id("in-path")
        .id_field("in-form")
        .body_field("text")
        .picture(vec![9u8])
        .send();
    let thing = tokio::time::timeout(BOUND, send)
        .await
        .expect("bounded")
        .expect("a 200 is the success");
    assert_eq!(thing.id.as_deref(), Some("in-form"));
    let request = received(server).await;
    assert!(
        request.starts_with(b"POST /things/in-path "),
        "{}",
        String::from_utf8_lossy(&request)
    );
    assert_eq!(part(&request, "id", 0), "in-form");
    assert_eq!(part(&request, "body", 0), "text");
    assert!(part_headers(&request, "picture").contains("content-type: image/png"));
}

#[tokio::test]
async fn a_json_error_without_a_schema_is_any_json_value() {
    let (base, _server) = one_shot(400, r#"{"anything": [1]}"#).await;
    let client = Client::new(&base);
    let send = client.update_thing().id("x").send();
    match tokio::time::timeout(BOUND, send).await.expect("bounded") {
        Err(Error::ErrorResponse(error)) => {
            assert_eq!(error.status(), 400);
            assert_eq!(error.into_inner().0, serde_json::json!({"anything": [1]}));
        }
        other => panic!("expected an ErrorResponse, got {other:?}"),
    }
}

#[tokio::test]
async fn a_pattern_with_braces_is_checked_before_sending() {
    let client = Client::new("http://127.0.0.1:9");
    let send = client.update_thing().id("x").body_field("not-lower-case").send();
    match tokio::time::timeout(BOUND, send).await.expect("bounded") {
        Err(Error::InvalidRequest(message)) => {
            assert!(message.contains("the pattern `^[a-z]{1,8}$`"), "{message}");
        }
        other => panic!("expected an InvalidRequest, got {other:?}"),
    }
}

#[tokio::test]
async fn colliding_names_are_set_and_read_apart_under_their_wire_names() {
    let body = r#"{"@id": "/records/1", "id": "1", "Name": "N", "name": "n",
        "x-axis": true, "xAxis": {"label": "t"}, "kind": "open", "meta": {"k": 1},
        "owner": {"role": 1}, "copy_kind": "closed"}"#;
    let (base, server) = one_shot(200, body).await;
    let client = Client::new(&base);
    let send = client
        .get_record()
        .status("a")
        .status_2(vec!["b".to_owned(), "c".to_owned()])
        .send();
    let record = tokio::time::timeout(BOUND, send)
        .await
        .expect("bounded")
        .expect("a 200 is the success")
        .into_inner();
    assert_eq!(record.id, "1");
    assert_eq!(record.id_2.as_deref(), Some("/records/1"));
    assert_eq!(record.name.as_deref(), Some("n"));
    assert_eq!(record.name_2, serde_json::json!("N"));
    assert_eq!(record.x_axis, Some(true));
    assert_eq!(record.x_axis_2.and_then(|a| a.label).as_deref(), Some("t"));
    assert_eq!(record.kind, Some(lenient::types::RecordKind::Open));
    assert_eq!(record.meta.map(|m| m.0.len()), Some(1));
    assert_eq!(record.owner.and_then(|o| o.role).map(|r| *r), Some(1));
    assert_eq!(record.copy_kind, Some(lenient::types::RecordKind::Closed));
    let request = received(server).await;
    let line = String::from_utf8_lossy(&request)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(
        line,
        "GET /records?status=a&status%5B%5D=b&status%5B%5D=c HTTP/1.1"
    );
}

#[tokio::test]
async fn array_parameters_are_joined_or_repeated_as_their_style_says() {
    let (base, server) = one_shot(204, "").await;
    let client = Client::new(&base);
    let send = client
        .tag_files()
        .keys(["a b", "c"])
        .ids([1i64, 2, 3])
        .tag(["x", "y&z"])
        .sizes([4i32, 5])
        .x_flags([true, false])
        .file(vec![1u8])
        .send();
    tokio::time::timeout(BOUND, send)
        .await
        .expect("bounded")
        .expect("a 204 is the success");
    let request = received(server).await;
    let text = String::from_utf8_lossy(&request);
    let line = text.lines().next().unwrap_or_default();
    assert_eq!(
        line,
        "POST /batches/a%20b,c?ids=1%2C2%2C3&tag=x&tag=y%26z&sizes=4%7C5 HTTP/1.1"
    );
    assert!(
        text.to_ascii_lowercase().contains("x-flags: true,false\r\n"),
        "{text}"
    );
}

#[tokio::test]
async fn a_required_array_parameter_needs_its_items() {
    let client = Client::new("http://127.0.0.1:9");
    let send = client.tag_files().keys(["k"]).ids(Vec::<i64>::new()).send();
    match tokio::time::timeout(BOUND, send).await.expect("bounded") {
        Err(Error::InvalidRequest(message)) => assert!(message.contains("`ids`"), "{message}"),
        other => panic!("expected an InvalidRequest, got {other:?}"),
    }
}
