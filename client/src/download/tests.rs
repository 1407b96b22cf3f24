//! Unit tests of the download module's parsing and envelope checks.
use super::media::parse_content_range;
use super::*;
use crate::ErrorCode;

#[test]
fn content_ranges_parse_per_rfc_9110() {
    assert_eq!(parse_content_range("bytes 0-499/1234"), Ok((0, 499, Some(1234))));
    assert_eq!(parse_content_range("bytes 500-999/*"), Ok((500, 999, None)));
    assert_eq!(
        parse_content_range("bytes 1233-1233/1234"),
        Ok((1233, 1233, Some(1234)))
    );
    for bad in [
        "",
        "bytes */1234",
        "items 0-1/2",
        "bytes 5-4/10",
        "bytes 0-10/10",
        "bytes a-b/c",
        "bytes 0-1",
    ] {
        assert!(parse_content_range(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn media_types_compare_by_essence() {
    assert_eq!(essence("Image/PNG; charset=binary"), "image/png");
    assert!(is_json("application/json; charset=utf-8"));
    assert!(!is_json("application/octet-stream"));
}

#[test]
fn an_envelope_with_a_code_is_an_error_and_a_json_media_is_not() {
    let headers = HeaderMap::new();
    let error = envelope_error(
        br#"{"code":1061045,"msg":"can retry.","data":{}}"#,
        StatusCode::OK,
        &headers,
    )
    .expect("an envelope with a non-zero code is an error");
    assert_eq!(error.code(), Some(ErrorCode::CanRetry));
    assert!(error.is_retryable());
    assert!(envelope_error(br#"{"code":0,"msg":"ok"}"#, StatusCode::OK, &headers).is_none());
    assert!(envelope_error(br#"{"name":"a media that is JSON"}"#, StatusCode::OK, &headers).is_none());
    assert!(envelope_error(b"[1,2,3]", StatusCode::OK, &headers).is_none());
}

#[test]
fn a_bare_file_name_goes_into_the_current_directory() {
    let (dir, name) = destination(&DownloadRequest::to_file("boxcn1", "copy.bin")).expect("usable");
    assert_eq!((dir, name.as_deref()), (PathBuf::from("."), Some("copy.bin")));
    let into = tempfile::tempdir().expect("temp dir");
    let (dir, name) = destination(&DownloadRequest::into_dir("boxcn1", into.path())).expect("usable");
    assert_eq!((dir.as_path(), name), (into.path(), None));
    // A file path names its directory, which must be there.
    let missing = into.path().join("no-such-dir/copy.bin");
    assert!(matches!(
        destination(&DownloadRequest::to_file("boxcn1", &missing)),
        Err(DownloadError::Destination { .. })
    ));
}
