//! File parts that stream (`cargo xtask generate`'s `{field}_file` and `{field}_reader`): the
//! bytes a loopback listener receives are the file's, byte for byte, with its name and the
//! spec's content type, and the form still has a `Content-Length`; a reader gives exactly the
//! length promised; a file that does not open is an error before anything is sent.
//! (`examples/stream_part_memory.rs` measures the memory on a 1 GiB file.)

#[rustfmt::skip]
#[allow(dead_code, unused_imports, clippy::all, clippy::unwrap_used, missing_debug_implementations)]
#[path = "../../fixtures/codegen/corpus/peertube.api.rs"]
mod peertube;

use crate::form_support;

use form_support::{BOUND, one_shot, received};

const PLAYLIST: &str = r#"{"videoPlaylist": {"id": 7, "uuid": "9c9de5e8-0a1e-484a-b099-e80766180a6d"}}"#;

/// Bytes that no shift or truncation maps onto themselves: position-dependent, all 256 values.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
}

/// The raw body and headers of the part `name`, as bytes (binary-safe).
fn raw_part<'a>(request: &'a [u8], name: &str) -> (String, &'a [u8]) {
    let marker = format!("name=\"{name}\"");
    let start = find(request, marker.as_bytes()).unwrap_or_else(|| panic!("no part {name}"));
    let headers_end = start + find(&request[start..], b"\r\n\r\n").expect("part headers end");
    let headers = String::from_utf8_lossy(&request[start..headers_end]).to_ascii_lowercase();
    let body = &request[headers_end + 4..];
    // The part ends at the next boundary line.
    let end = find(body, b"\r\n--").expect("the part ends");
    (headers, &body[..end])
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[tokio::test]
async fn a_file_part_streams_from_a_path_with_its_name_and_length() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("holiday-thumb.jpg");
    // Several reads' worth (the reader reads in chunks of 4 KiB to 8 KiB).
    let contents = pattern(3 * 1024 * 1024 + 17);
    std::fs::write(&path, &contents).expect("write the file");

    let (base, server) = one_shot(200, PLAYLIST).await;
    let client = peertube::Client::new(&base);
    let builder = client
        .create_playlist()
        .display_name("Holidays")
        .thumbnailfile_file(&path);
    assert!(builder.try_clone().is_none(), "a streamed part is sent once");
    tokio::time::timeout(BOUND, builder.send())
        .await
        .expect("bounded")
        .expect("the request succeeds");
    let request = received(server).await;
    let (headers, body) = raw_part(&request, "thumbnailfile");
    assert_eq!(body.len(), contents.len());
    assert!(body == contents.as_slice(), "the part is the file, byte for byte");
    assert!(headers.contains("filename=\"holiday-thumb.jpg\""), "{headers}");
    // The spec's `encoding` gives the content type.
    assert!(headers.contains("content-type: image/jpeg"), "{headers}");
    // `one_shot` insists on a Content-Length: a chunked request would not have been read.
    let head = String::from_utf8_lossy(&request[..find(&request, b"\r\n\r\n").expect("a head")])
        .to_ascii_lowercase();
    assert!(head.contains("content-length:"), "{head}");
    assert!(!head.contains("transfer-encoding: chunked"), "{head}");
}

#[tokio::test]
async fn a_reader_part_sends_exactly_its_length_with_its_name_and_type() {
    let (base, server) = one_shot(200, PLAYLIST).await;
    let client = peertube::Client::new(&base);
    // An endless reader: only the promised length may go out.
    let endless = tokio::io::repeat(b'z');
    tokio::time::timeout(
        BOUND,
        client
            .create_playlist()
            .display_name("Holidays")
            .thumbnailfile_reader(
                endless,
                100_000,
                Some("z.png".to_owned()),
                Some("image/png".to_owned()),
            )
            .send(),
    )
    .await
    .expect("bounded")
    .expect("the request succeeds");
    let request = received(server).await;
    let (headers, body) = raw_part(&request, "thumbnailfile");
    assert_eq!(body.len(), 100_000);
    assert!(body.iter().all(|&b| b == b'z'));
    assert!(headers.contains("filename=\"z.png\""), "{headers}");
    assert!(headers.contains("content-type: image/png"), "{headers}");
}

#[tokio::test]
async fn the_in_memory_setter_after_a_stream_sends_bytes_without_a_file_name() {
    let (base, server) = one_shot(200, PLAYLIST).await;
    let client = peertube::Client::new(&base);
    let builder = client
        .create_playlist()
        .display_name("Holidays")
        .thumbnailfile_reader(tokio::io::repeat(b'z'), 10, Some("z.png".to_owned()), None)
        .thumbnailfile(b"JPEG-thumb".to_vec());
    // In memory again: the builder can be copied.
    assert!(builder.try_clone().is_some());
    tokio::time::timeout(BOUND, builder.send())
        .await
        .expect("bounded")
        .expect("the request succeeds");
    let request = received(server).await;
    let (headers, body) = raw_part(&request, "thumbnailfile");
    assert_eq!(body, b"JPEG-thumb");
    assert!(!headers.contains("filename="), "{headers}");
}

#[tokio::test]
async fn a_file_that_does_not_open_is_an_error_before_sending() {
    // Port 9 (discard) on loopback: nothing is listening, and nothing must be tried.
    let client = peertube::Client::new("http://127.0.0.1:9");
    let dir = tempfile::tempdir().expect("a temp dir");
    let missing = dir.path().join("missing.jpg");
    let refused = tokio::time::timeout(
        BOUND,
        client
            .create_playlist()
            .display_name("Holidays")
            .thumbnailfile_file(&missing)
            .send(),
    )
    .await
    .expect("bounded");
    match refused {
        Err(peertube::Error::InvalidRequest(message)) => {
            assert!(message.contains("thumbnailfile"), "{message}");
            assert!(message.contains("missing.jpg"), "{message}");
        }
        other => panic!("expected InvalidRequest, got {other:?}"),
    }
}
