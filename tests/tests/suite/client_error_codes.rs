//! `ErrorCode` against the spec's `x-feishu-error-codes` table, read straight from the YAML (not
//! through the code generator), and secrets kept out of `Debug` output.

use std::collections::HashSet;
use std::path::Path;

use feishu_drive::auth::{AccessToken, StaticToken};
use feishu_drive::{Client, ErrorCode};
use serde_json::Value;

/// The rows of the error table, as the spec writes them.
fn spec_rows() -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/feishu-drive.yaml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let spec: Value = serde_yaml_ng::from_str(&text).expect("the spec is YAML");
    spec["x-feishu-error-codes"]
        .as_array()
        .expect("x-feishu-error-codes is a list")
        .clone()
}

fn field<'a>(row: &'a Value, name: &str) -> &'a Value {
    row.get(name)
        .unwrap_or_else(|| panic!("row {row} has no `{name}`"))
}

#[test]
fn there_are_58_known_codes() {
    // 35 rows of the upload_part documentation, 7 from neighbouring official tables (the folder
    // listing's 1064001, create_shortcut's 1064510 and 1064511), 4 gateway
    // codes, 10 the official SDKs or CLI handle, 2 with third-party evidence only (one of them the
    // call-quota code the local server answers past its daily quota).
    assert_eq!(ErrorCode::ALL.len(), 58);
    let rows = spec_rows();
    assert_eq!(rows.len(), 58);
    let provenances: Vec<&str> = rows
        .iter()
        .map(|r| field(r, "provenance").as_str().expect("text"))
        .collect();
    assert_eq!(provenances.iter().filter(|s| **s == "table").count(), 35);
    assert_eq!(provenances.iter().filter(|s| **s == "related").count(), 7);
    assert_eq!(provenances.iter().filter(|s| **s == "gateway").count(), 4);
    assert_eq!(provenances.iter().filter(|s| **s == "sdk").count(), 10);
    assert_eq!(provenances.iter().filter(|s| **s == "third-party").count(), 2);
    // All distinct, all known.
    let distinct: HashSet<i64> = ErrorCode::ALL.iter().map(|c| c.code()).collect();
    assert_eq!(distinct.len(), 58);
    assert!(ErrorCode::ALL.iter().all(|c| c.is_known()));
}

#[test]
fn every_row_of_the_spec_round_trips_with_its_values() {
    let rows = spec_rows();
    assert_eq!(rows.len(), ErrorCode::ALL.len());
    for (index, (row, listed)) in rows.iter().zip(ErrorCode::ALL).enumerate() {
        let code = field(row, "code").as_i64().expect("an integer code");
        let name = field(row, "name").as_str().expect("a text name");
        let variant = ErrorCode::from(code);
        let context = format!("row {index} ({code} {name})");

        // code → variant → code, and the variant is the one the row names, in the spec's order.
        assert_eq!(variant, *listed, "{context}: ALL is not in the spec's order");
        assert_eq!(ErrorCode::from_code(code), variant, "{context}");
        assert_eq!(format!("{variant:?}"), name, "{context}");
        assert_eq!(variant.code(), code, "{context}");
        assert_eq!(i64::from(variant), code, "{context}");
        assert!(variant.is_known(), "{context}");

        let status = field(row, "http_status").as_u64().expect("an integer status");
        assert_eq!(variant.http_status().map(u64::from), Some(status), "{context}");
        assert_eq!(variant.message(), field(row, "message").as_str(), "{context}");
        assert_eq!(variant.hint(), field(row, "hint").as_str(), "{context}");
        assert_eq!(
            variant.is_retryable(),
            field(row, "retryable").as_bool().expect("a boolean"),
            "{context}"
        );
    }
}

#[test]
fn the_codes_the_client_relies_on_are_classified_as_documented() {
    // Spot checks that do not depend on reading the spec right.
    assert_eq!(ErrorCode::from(1061045), ErrorCode::CanRetry);
    assert!(ErrorCode::CanRetry.is_retryable());
    assert_eq!(ErrorCode::CanRetry.http_status(), Some(200));
    assert_eq!(ErrorCode::from(99991400), ErrorCode::RateLimited);
    assert_eq!(ErrorCode::RateLimited.http_status(), Some(429));
    assert!(ErrorCode::RateLimited.is_retryable());
    assert_eq!(ErrorCode::from(1061002), ErrorCode::ParamsError);
    assert!(!ErrorCode::ParamsError.is_retryable());
    assert_eq!(ErrorCode::ParamsError.message(), Some("params error."));
    assert_eq!(ErrorCode::from(1062008), ErrorCode::ChecksumInvalid);
    assert_eq!(ErrorCode::from(99991668), ErrorCode::UserAccessTokenInvalid);
}

#[test]
fn unknown_codes_round_trip_losslessly() {
    let known: HashSet<i64> = spec_rows()
        .iter()
        .map(|r| field(r, "code").as_i64().expect("an integer code"))
        .collect();
    for code in [
        0,
        1,
        -1,
        1061000,
        1061009,
        1064231,
        1234567,
        99991399,
        i64::MAX,
        i64::MIN,
    ] {
        assert!(!known.contains(&code), "{code} is in the spec");
        let variant = ErrorCode::from(code);
        assert!(
            matches!(variant, ErrorCode::Unknown(u) if u.get() == code),
            "{variant:?}"
        );
        assert!(!variant.is_known());
        assert_eq!(variant.code(), code);
        assert_eq!(i64::from(variant), code);
        assert_eq!(ErrorCode::from(variant.code()), variant);
        assert_eq!(variant.http_status(), None);
        assert_eq!(variant.message(), None);
        assert_eq!(variant.hint(), None);
        assert!(!variant.is_retryable());
        assert_eq!(variant.to_string(), format!("{code} (unknown code)"));
    }
}

#[test]
fn serde_uses_the_integer() {
    assert_eq!(
        serde_json::to_string(&ErrorCode::CanRetry).expect("serialises"),
        "1061045"
    );
    assert_eq!(
        serde_json::to_string(&ErrorCode::from(1234567)).expect("serialises"),
        "1234567"
    );
    for code in ErrorCode::ALL
        .iter()
        .copied()
        .chain([ErrorCode::from(1234567), ErrorCode::from(-3)])
    {
        let text = serde_json::to_string(&code).expect("serialises");
        assert_eq!(text, code.code().to_string());
        let back: ErrorCode = serde_json::from_str(&text).expect("deserialises");
        assert_eq!(back, code);
    }
    // In an envelope-shaped struct the field is a plain number.
    #[derive(serde::Serialize, serde::Deserialize)]
    struct Envelope {
        code: ErrorCode,
    }
    let envelope: Envelope = serde_json::from_str(r#"{"code": 1061002}"#).expect("deserialises");
    assert_eq!(envelope.code, ErrorCode::ParamsError);
    assert_eq!(
        serde_json::to_string(&envelope).expect("serialises"),
        r#"{"code":1061002}"#
    );
    assert!(
        serde_json::from_str::<ErrorCode>("\"1061002\"").is_err(),
        "a string is not a code"
    );
}

#[test]
fn display_shows_the_code_and_message() {
    assert_eq!(ErrorCode::CanRetry.to_string(), "1061045 (can retry)");
    assert_eq!(
        ErrorCode::UserAccessTokenInvalid.to_string(),
        "99991668 (user_access_token invalid or expired)"
    );
}

#[test]
fn debug_output_never_shows_the_token() {
    let secret = "t-secret";
    let client = Client::builder("http://127.0.0.1:9")
        .access_token(secret)
        .build()
        .expect("a client");
    let context = client.context();
    let token = AccessToken::new(secret);
    let outputs = [
        format!("{context:?}"),
        format!("{context:#?}"),
        format!("{token:?}"),
        format!("{token:#?}"),
        format!("{:?}", StaticToken::new(secret)),
        format!("{client:?}"),
    ];
    for output in &outputs {
        assert!(!output.contains("secret"), "the token leaks: {output}");
    }
    assert_eq!(format!("{token:?}"), "AccessToken(<redacted>)");
    // The token is still there for the Authorization header.
    assert_eq!(token.expose(), secret);
    assert!(context.token_source().is_some());
}
