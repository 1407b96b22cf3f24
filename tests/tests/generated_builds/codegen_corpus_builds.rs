//! The corpus' generated clients compile (each is a committed copy that `codegen_corpus` keeps
//! equal to a fresh generation), and their multipart operations put every field on the wire:
//! each setter of each operation is called, the request goes to a loopback listener, and the
//! received form is checked part by part.
//!
//! Why this file is long: each committed corpus client gets one test that calls every setter of its multipart operations; the loopback listener and wire checks they share live here.

#[rustfmt::skip]
#[allow(dead_code, unused_imports, clippy::all, clippy::unwrap_used, missing_debug_implementations)]
#[path = "../../fixtures/codegen/corpus/openai.api.rs"]
mod openai;

#[rustfmt::skip]
#[allow(dead_code, unused_imports, clippy::all, clippy::unwrap_used, missing_debug_implementations)]
#[path = "../../fixtures/codegen/corpus/immich.api.rs"]
mod immich;

#[rustfmt::skip]
#[allow(dead_code, unused_imports, clippy::all, clippy::unwrap_used, missing_debug_implementations)]
#[path = "../../fixtures/codegen/corpus/peertube.api.rs"]
mod peertube;

#[rustfmt::skip]
#[allow(dead_code, unused_imports, clippy::all, clippy::unwrap_used, missing_debug_implementations)]
#[path = "../../fixtures/codegen/corpus/immich_assets.api.rs"]
mod immich_assets;

#[rustfmt::skip]
#[allow(dead_code, unused_imports, clippy::all, clippy::unwrap_used, missing_debug_implementations)]
#[path = "../../fixtures/codegen/corpus/peertube_live.api.rs"]
mod peertube_live;

use crate::form_support;

use form_support::{BOUND, one_shot, part, part_headers, received};

#[tokio::test]
async fn openai_image_edit_sends_every_field() {
    let (base, server) = one_shot(200, r#"{"created": 1, "data": []}"#).await;
    let client = openai::Client::new(&base);
    let sent = tokio::time::timeout(
        BOUND,
        client
            .create_image_edit()
            .image(b"PNG-image".to_vec())
            .prompt("a sea otter")
            .mask(b"PNG-mask".to_vec())
            .model("dall-e-2")
            .n(2)
            .size("512x512")
            .response_format("b64_json")
            .user("user-1234")
            .send(),
    )
    .await
    .expect("bounded")
    .expect("the request succeeds");
    assert_eq!(sent.created, 1);
    let request = received(server).await;
    for (name, value) in [
        ("image", "PNG-image"),
        ("prompt", "a sea otter"),
        ("mask", "PNG-mask"),
        ("model", "dall-e-2"),
        ("n", "2"),
        ("size", "512x512"),
        ("response_format", "b64_json"),
        ("user", "user-1234"),
    ] {
        assert_eq!(part(&request, name, 0), value, "part {name}");
    }
}

/// The request-body type sets every field at once, is `Clone`, and goes on the wire as the
/// setters do; its values are checked like the setters' (n ≤ 10).
#[tokio::test]
async fn openai_image_edit_body_type_sends_what_the_setters_send() {
    let form = openai::types::CreateImageEditForm {
        image: bytes::Bytes::from_static(b"PNG-image"),
        prompt: "a sea otter".to_owned(),
        mask: Some(bytes::Bytes::from_static(b"PNG-mask")),
        model: Some("dall-e-2".to_owned()),
        n: Some(2),
        size: Some("512x512".to_owned()),
        response_format: Some("b64_json".to_owned()),
        user: None,
    };
    let (base, server) = one_shot(200, r#"{"created": 1, "data": []}"#).await;
    let client = openai::Client::new(&base);
    // A later setter changes one field of the body.
    let request = client.create_image_edit().body(form.clone()).user("user-1234");
    tokio::time::timeout(BOUND, request.send())
        .await
        .expect("bounded")
        .expect("the request succeeds");
    let request = received(server).await;
    for (name, value) in [
        ("image", "PNG-image"),
        ("prompt", "a sea otter"),
        ("mask", "PNG-mask"),
        ("model", "dall-e-2"),
        ("n", "2"),
        ("size", "512x512"),
        ("response_format", "b64_json"),
        ("user", "user-1234"),
    ] {
        assert_eq!(part(&request, name, 0), value, "part {name}");
    }
    // The clone is still whole, and its values are checked before sending.
    let unreachable = openai::Client::new("http://127.0.0.1:9");
    let too_many = openai::types::CreateImageEditForm { n: Some(11), ..form };
    match unreachable.create_image_edit().body(too_many).send().await {
        Err(openai::Error::InvalidRequest(message)) => assert_eq!(message, "`n` must be at most 10, got 11"),
        other => panic!("expected InvalidRequest, got {other:?}"),
    }
}

#[tokio::test]
async fn openai_transcription_sends_enums_numbers_and_repeated_fields() {
    let (base, server) = one_shot(200, r#"{"text": "hello"}"#).await;
    let client = openai::Client::new(&base);
    let sent = tokio::time::timeout(
        BOUND,
        client
            .create_transcription()
            .file(bytes::Bytes::from_static(b"RIFF-audio"))
            .model("whisper-1")
            .language("en")
            .prompt("greetings")
            .response_format(openai::types::AudioResponseFormat::VerboseJson)
            .temperature(0.5)
            .timestamp_granularities(["word", "segment"])
            .send(),
    )
    .await
    .expect("bounded")
    .expect("the request succeeds");
    assert!(matches!(
        sent.into_inner(),
        openai::types::CreateTranscriptionResponse::Json(_)
    ));
    let request = received(server).await;
    assert_eq!(part(&request, "file", 0), "RIFF-audio");
    assert_eq!(
        part(&request, "response_format", 0),
        "verbose_json",
        "the enum's wire value"
    );
    assert_eq!(part(&request, "temperature", 0), "0.5");
    // The spec's field is `timestamp_granularities[]`: one part per item, under that name.
    assert_eq!(part(&request, "timestamp_granularities[]", 0), "word");
    assert_eq!(part(&request, "timestamp_granularities[]", 1), "segment");
}

#[tokio::test]
async fn openai_checks_run_before_sending() {
    // Nothing listens on this port: every case must fail before a request is made.
    let client = openai::Client::new("http://127.0.0.1:9");
    let invalid = |r: Result<_, openai::Error<()>>| match r {
        Err(openai::Error::InvalidRequest(message)) => message,
        Err(other) => panic!("expected InvalidRequest, got {other:?}"),
        Ok(_) => panic!("expected InvalidRequest, got a response"),
    };
    let message = invalid(
        client
            .create_image_edit()
            .image(vec![1u8])
            .prompt("p")
            .n(11)
            .send()
            .await
            .map(drop),
    );
    assert_eq!(message, "`n` must be at most 10, got 11");
    let message = invalid(
        client
            .create_image_edit()
            .image(vec![1u8])
            .prompt("p")
            .size("300x300")
            .send()
            .await
            .map(drop),
    );
    assert!(
        message.starts_with("`size` must be one of 256x256, 512x512, 1024x1024"),
        "{message}"
    );
    let message = invalid(
        client
            .create_transcription()
            .file(vec![1u8])
            .model("whisper-1")
            .response_format("mp3")
            .send()
            .await
            .map(drop),
    );
    assert!(message.contains("response_format"), "{message}");
    let message = invalid(client.create_file().purpose("batch").send().await.map(drop));
    assert_eq!(message, "`file` is required but was not set");
}

/// Immich: two binary parts (one optional), an enum by `$ref`, booleans, optional text.
#[tokio::test]
async fn immich_upload_file_sends_every_field() {
    let (base, server) = one_shot(201, r#"{"id": "asset-1", "duplicate": false}"#).await;
    let client = immich::Client::new(&base);
    let sent = tokio::time::timeout(
        BOUND,
        client
            .upload_file()
            .asset_type(immich::types::AssetTypeEnum::Video)
            .asset_data(b"MP4-video".to_vec())
            .live_photo_data(bytes::Bytes::from_static(b"MOV-live"))
            .device_asset_id("IMG_0001")
            .device_id("phone-1")
            .file_created_at("2023-02-23T10:00:00.000Z")
            .file_modified_at("2023-02-23T10:00:01.000Z")
            .is_favorite(true)
            .is_visible(false)
            .file_extension(".mp4")
            .duration("0:00:12.000000")
            .send(),
    )
    .await
    .expect("bounded")
    .expect("the request succeeds");
    assert_eq!(sent.id, "asset-1");
    let request = received(server).await;
    for (name, value) in [
        ("assetType", "VIDEO"),
        ("assetData", "MP4-video"),
        ("livePhotoData", "MOV-live"),
        ("deviceAssetId", "IMG_0001"),
        ("deviceId", "phone-1"),
        ("fileCreatedAt", "2023-02-23T10:00:00.000Z"),
        ("fileModifiedAt", "2023-02-23T10:00:01.000Z"),
        ("isFavorite", "true"),
        ("isVisible", "false"),
        ("fileExtension", ".mp4"),
        ("duration", "0:00:12.000000"),
    ] {
        assert_eq!(part(&request, name, 0), value, "part {name}");
    }
}

/// The optional binary part is left out when unset, and the request-body type does the same.
#[tokio::test]
async fn immich_upload_file_body_type_leaves_out_unset_parts() {
    let form = immich::types::UploadFileForm {
        asset_type: immich::types::AssetTypeEnum::Image,
        asset_data: bytes::Bytes::from_static(b"JPEG"),
        live_photo_data: None,
        device_asset_id: "IMG_0002".to_owned(),
        device_id: "phone-1".to_owned(),
        file_created_at: "2023-02-23T10:00:00.000Z".to_owned(),
        file_modified_at: "2023-02-23T10:00:00.000Z".to_owned(),
        is_favorite: false,
        is_visible: None,
        file_extension: ".jpg".to_owned(),
        duration: None,
    };
    let (base, server) = one_shot(201, r#"{"id": "asset-2", "duplicate": false}"#).await;
    let client = immich::Client::new(&base);
    tokio::time::timeout(BOUND, client.upload_file().body(form).send())
        .await
        .expect("bounded")
        .expect("the request succeeds");
    let request = received(server).await;
    let text = String::from_utf8_lossy(&request);
    assert_eq!(part(&request, "assetType", 0), "IMAGE");
    assert_eq!(part(&request, "assetData", 0), "JPEG");
    for absent in ["livePhotoData", "isVisible", "duration"] {
        assert!(
            !text.contains(&format!("name=\"{absent}\"")),
            "{absent} was sent:\n{text}"
        );
    }
    // Its one other operation: a single required binary part.
    let (base, server) = one_shot(201, r#"{"userId": "u1", "profileImagePath": "p"}"#).await;
    let client = immich::Client::new(&base);
    tokio::time::timeout(BOUND, client.create_profile_image().file(b"PNG".to_vec()).send())
        .await
        .expect("bounded")
        .expect("the request succeeds");
    let request = received(server).await;
    assert_eq!(part(&request, "file", 0), "PNG");
}

/// PeerTube: an `encoding` content type on the thumbnail part, an integer enum by `$ref`, a
/// bounded inline string.
#[tokio::test]
async fn peertube_create_playlist_sends_every_field_with_its_encoding() {
    let (base, server) = one_shot(
        200,
        r#"{"videoPlaylist": {"id": 7, "uuid": "9c9de5e8-0a1e-484a-b099-e80766180a6d"}}"#,
    )
    .await;
    let client = peertube::Client::new(&base);
    let sent = tokio::time::timeout(
        BOUND,
        client
            .create_playlist()
            .display_name("Holidays")
            .thumbnailfile(b"JPEG-thumb".to_vec())
            .privacy(peertube::types::VideoPlaylistPrivacySet::try_from(2).expect("a documented value"))
            .description("summer 2021")
            .video_channel_id(42)
            .send(),
    )
    .await
    .expect("bounded")
    .expect("the request succeeds");
    let playlist = sent.into_inner().video_playlist.expect("a playlist");
    assert_eq!(
        playlist.uuid.map(|u| u.to_string()).as_deref(),
        Some("9c9de5e8-0a1e-484a-b099-e80766180a6d")
    );
    let request = received(server).await;
    for (name, value) in [
        ("displayName", "Holidays"),
        ("thumbnailfile", "JPEG-thumb"),
        ("privacy", "2"),
        ("description", "summer 2021"),
        ("videoChannelId", "42"),
    ] {
        assert_eq!(part(&request, name, 0), value, "part {name}");
    }
    // The spec's `encoding` sets the thumbnail's content type.
    assert!(
        part_headers(&request, "thumbnailfile").contains("content-type: image/jpeg"),
        "{}",
        part_headers(&request, "thumbnailfile")
    );
    // The enum and the length bounds are checked before sending.
    let unreachable = peertube::Client::new("http://127.0.0.1:9");
    let refused = unreachable
        .create_playlist()
        .display_name("")
        .privacy(4)
        .send()
        .await;
    assert!(
        matches!(refused, Err(peertube::Error::InvalidRequest(_))),
        "{refused:?}"
    );
}

/// A builder with in-memory parts copies; one with a streamed part cannot (it is sent once).
#[tokio::test]
async fn builders_with_binary_parts_try_clone() {
    let (base, server) = one_shot(200, r#"{"created": 1, "data": []}"#).await;
    let client = openai::Client::new(&base);
    let original = client
        .create_image_edit()
        .image(b"PNG-image".to_vec())
        .prompt("a sea otter")
        .mask(bytes::Bytes::from_static(b"PNG-mask"));
    let copy = original.try_clone().expect("in-memory parts copy");
    drop(original);
    tokio::time::timeout(BOUND, copy.send())
        .await
        .expect("bounded")
        .expect("the copy is a whole request");
    let request = received(server).await;
    assert_eq!(part(&request, "image", 0), "PNG-image");
    assert_eq!(part(&request, "mask", 0), "PNG-mask");
    assert_eq!(part(&request, "prompt", 0), "a sea otter");

    let chunks = futures::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from_static(b"PNG"))]);
    let streamed = client
        .create_image_edit()
        .image(reqwest::Body::wrap_stream(chunks))
        .prompt("p");
    assert!(streamed.try_clone().is_none(), "a streamed part cannot be copied");
}

/// The request line and headers of a raw request, lower-cased.
fn head(request: &[u8]) -> String {
    let text = String::from_utf8_lossy(request);
    text[..text.find("\r\n\r\n").expect("headers end")].to_ascii_lowercase()
}

/// Immich 1.132: a query and a header parameter beside the form; date-time and uuid fields.
#[tokio::test]
async fn immich_upload_asset_sends_parameters_and_every_field() {
    let (base, server) = one_shot(201, r#"{"id": "asset-3", "status": "created"}"#).await;
    let client = immich_assets::Client::new(&base);
    let sent = tokio::time::timeout(
        BOUND,
        client
            .upload_asset()
            .key("shared link/key")
            .x_immich_checksum("sha1:2fd4e1c6")
            .asset_data(b"HEIC".to_vec())
            .sidecar_data(b"XMP".to_vec())
            .device_asset_id("IMG_0003")
            .device_id("phone-2")
            .duration("0:00:00.000000")
            .file_created_at("2025-04-25T08:00:00.000Z")
            .file_modified_at("2025-04-25T08:00:01.000Z")
            .is_archived(false)
            .is_favorite(true)
            .is_visible(true)
            .live_photo_video_id("9c9de5e8-0a1e-484a-b099-e80766180a6d")
            .send(),
    )
    .await
    .expect("bounded")
    .expect("the request succeeds");
    assert_eq!(sent.id, "asset-3");
    let request = received(server).await;
    let head = head(&request);
    assert!(
        head.starts_with("post /assets?key=shared+link%2fkey http/1.1"),
        "{head}"
    );
    assert!(head.contains("\r\nx-immich-checksum: sha1:2fd4e1c6"), "{head}");
    for (name, value) in [
        ("assetData", "HEIC"),
        ("sidecarData", "XMP"),
        ("deviceAssetId", "IMG_0003"),
        ("deviceId", "phone-2"),
        ("duration", "0:00:00.000000"),
        // Inline `format: date-time` fields are typed: the text was parsed and is sent back in
        // RFC 3339 (chrono drops a zero fraction).
        ("fileCreatedAt", "2025-04-25T08:00:00Z"),
        ("fileModifiedAt", "2025-04-25T08:00:01Z"),
        ("isArchived", "false"),
        ("isFavorite", "true"),
        ("isVisible", "true"),
        ("livePhotoVideoId", "9c9de5e8-0a1e-484a-b099-e80766180a6d"),
    ] {
        assert_eq!(part(&request, name, 0), value, "part {name}");
    }
}

/// The uuid path parameter goes into the template, with PUT.
#[tokio::test]
async fn immich_replace_asset_puts_to_its_path() {
    let (base, server) = one_shot(200, r#"{"id": "asset-4", "status": "replaced"}"#).await;
    let client = immich_assets::Client::new(&base);
    let form = immich_assets::types::ReplaceAssetForm {
        asset_data: bytes::Bytes::from_static(b"JPEG"),
        device_asset_id: "IMG_0004".to_owned(),
        device_id: "phone-2".to_owned(),
        duration: None,
        file_created_at: "2025-04-25T08:00:00Z".parse().expect("a date-time"),
        file_modified_at: "2025-04-25T08:00:00Z".parse().expect("a date-time"),
    };
    tokio::time::timeout(
        BOUND,
        client
            .replace_asset()
            .id("9c9de5e8-0a1e-484a-b099-e80766180a6d")
            .body(form)
            .send(),
    )
    .await
    .expect("bounded")
    .expect("the request succeeds");
    let request = received(server).await;
    let head = head(&request);
    assert!(
        head.starts_with("put /assets/9c9de5e8-0a1e-484a-b099-e80766180a6d/original http/1.1"),
        "{head}"
    );
    assert_eq!(part(&request, "assetData", 0), "JPEG");
}

/// PeerTube 5.1: a tags array with item-count bounds, two optional image parts, integer enums by
/// `$ref`, a response whose fields point inside another component, body-less error responses.
#[tokio::test]
async fn peertube_add_live_sends_arrays_images_and_enums() {
    let (base, server) = one_shot(
        200,
        r#"{"video": {"id": 12, "uuid": "9c9de5e8-0a1e-484a-b099-e80766180a6d", "shortUUID": "2y84q2MQUMWPbiEcxNXMgC"}}"#,
    )
    .await;
    let client = peertube_live::Client::new(&base);
    let sent = tokio::time::timeout(
        BOUND,
        client
            .add_live()
            .channel_id(3)
            .name("Morning stream")
            .tags(["news", "live"])
            .thumbnailfile(b"JPEG-thumb".to_vec())
            .previewfile(b"JPEG-preview".to_vec())
            .latency_mode(2)
            .privacy(1)
            .save_replay(true)
            .permanent_live(false)
            .category(15)
            .licence(1)
            .language("en")
            .description("Every morning")
            .support("Thanks")
            .nsfw(false)
            .comments_enabled(true)
            .download_enabled(false)
            .send(),
    )
    .await
    .expect("bounded")
    .expect("the request succeeds");
    let video = sent.into_inner().video.expect("a video");
    assert_eq!(
        video.uuid.map(|u| u.to_string()).as_deref(),
        Some("9c9de5e8-0a1e-484a-b099-e80766180a6d")
    );
    let request = received(server).await;
    for (name, index, value) in [
        ("channelId", 0, "3"),
        ("name", 0, "Morning stream"),
        ("tags", 0, "news"),
        ("tags", 1, "live"),
        ("thumbnailfile", 0, "JPEG-thumb"),
        ("previewfile", 0, "JPEG-preview"),
        ("latencyMode", 0, "2"),
        ("privacy", 0, "1"),
        ("saveReplay", 0, "true"),
        ("permanentLive", 0, "false"),
        ("category", 0, "15"),
        ("licence", 0, "1"),
        ("language", 0, "en"),
        ("description", 0, "Every morning"),
        ("support", 0, "Thanks"),
        ("nsfw", 0, "false"),
        ("commentsEnabled", 0, "true"),
        ("downloadEnabled", 0, "false"),
    ] {
        assert_eq!(part(&request, name, index), value, "part {name} #{index}");
    }
    for image in ["thumbnailfile", "previewfile"] {
        assert!(
            part_headers(&request, image).contains("content-type: image/jpeg"),
            "{image}"
        );
    }

    // The checks: 1 to 5 tags of 2 to 30 characters are the spec's; 4 is no latency mode.
    let unreachable = peertube_live::Client::new("http://127.0.0.1:9");
    for builder in [
        unreachable
            .add_live()
            .channel_id(3)
            .name("ok name")
            .tags(["a", "b", "c", "d", "e", "f"]),
        unreachable
            .add_live()
            .channel_id(3)
            .name("ok name")
            .latency_mode(4),
        unreachable.add_live().channel_id(3).name("no"),
    ] {
        let result = builder.send().await;
        assert!(
            matches!(result, Err(peertube_live::Error::InvalidRequest(_))),
            "{result:?}"
        );
    }

    // The documented 403 has no body, nor has any error: an ErrorResponse of `()`.
    let (base, _server) = one_shot(403, "").await;
    let client = peertube_live::Client::new(&base);
    let result = tokio::time::timeout(
        BOUND,
        client.add_live().channel_id(3).name("Morning stream").send(),
    )
    .await
    .expect("bounded");
    match result {
        Err(peertube_live::Error::ErrorResponse(response)) => assert_eq!(response.status(), 403),
        other => panic!("expected an ErrorResponse, got {other:?}"),
    }
}

/// Every setter of replace_asset (the request-body type is checked above with upload's form).
#[tokio::test]
async fn immich_replace_asset_setters() {
    let (base, server) = one_shot(200, r#"{"id": "asset-5", "status": "replaced"}"#).await;
    let client = immich_assets::Client::new(&base);
    tokio::time::timeout(
        BOUND,
        client
            .replace_asset()
            .id("9c9de5e8-0a1e-484a-b099-e80766180a6d")
            .key("k")
            .asset_data(b"PNG".to_vec())
            .device_asset_id("IMG_0005")
            .device_id("phone-3")
            .duration("0:00:01.000000")
            .file_created_at("2025-04-25T08:00:00Z")
            .file_modified_at("2025-04-25T08:00:02Z")
            .send(),
    )
    .await
    .expect("bounded")
    .expect("the request succeeds");
    let request = received(server).await;
    assert!(
        head(&request)
            .starts_with("put /assets/9c9de5e8-0a1e-484a-b099-e80766180a6d/original?key=k http/1.1"),
        "{}",
        head(&request)
    );
    for (name, value) in [
        ("assetData", "PNG"),
        ("deviceAssetId", "IMG_0005"),
        ("deviceId", "phone-3"),
        ("duration", "0:00:01.000000"),
        ("fileCreatedAt", "2025-04-25T08:00:00Z"),
        ("fileModifiedAt", "2025-04-25T08:00:02Z"),
    ] {
        assert_eq!(part(&request, name, 0), value, "part {name}");
    }
}

/// The setters of the three OpenAI operations the other tests do not cover field by field.
#[tokio::test]
async fn openai_file_variation_and_translation_setters() {
    let file = r#"{"id": "file-1", "object": "file", "bytes": 5, "created_at": 1, "filename": "a.jsonl",
        "purpose": "batch", "status": "uploaded"}"#;
    let (base, server) = one_shot(200, file).await;
    let client = openai::Client::new(&base);
    let sent = tokio::time::timeout(
        BOUND,
        client
            .create_file()
            .file(b"{}\n".to_vec())
            .purpose("batch")
            .send(),
    )
    .await
    .expect("bounded")
    .expect("the request succeeds");
    assert_eq!(sent.id, "file-1");
    let request = received(server).await;
    assert_eq!(part(&request, "file", 0), "{}\n");
    assert_eq!(part(&request, "purpose", 0), "batch");

    let (base, server) = one_shot(200, r#"{"created": 2, "data": []}"#).await;
    let client = openai::Client::new(&base);
    tokio::time::timeout(
        BOUND,
        client
            .create_image_variation()
            .image(b"PNG".to_vec())
            .model("dall-e-2")
            .n(3)
            .response_format("url")
            .size("256x256")
            .user("user-9")
            .send(),
    )
    .await
    .expect("bounded")
    .expect("the request succeeds");
    let request = received(server).await;
    for (name, value) in [
        ("image", "PNG"),
        ("model", "dall-e-2"),
        ("n", "3"),
        ("response_format", "url"),
        ("size", "256x256"),
        ("user", "user-9"),
    ] {
        assert_eq!(part(&request, name, 0), value, "part {name}");
    }

    let (base, server) = one_shot(200, r#"{"text": "bonjour"}"#).await;
    let client = openai::Client::new(&base);
    tokio::time::timeout(
        BOUND,
        client
            .create_translation()
            .file(b"RIFF".to_vec())
            .model("whisper-1")
            .prompt("French")
            .response_format(openai::types::AudioResponseFormat::Text)
            .temperature(0.25)
            .send(),
    )
    .await
    .expect("bounded")
    .expect("the request succeeds");
    let request = received(server).await;
    for (name, value) in [
        ("file", "RIFF"),
        ("model", "whisper-1"),
        ("prompt", "French"),
        ("response_format", "text"),
        ("temperature", "0.25"),
    ] {
        assert_eq!(part(&request, name, 0), value, "part {name}");
    }
}

/// A value that does not convert into the request-body type is reported by `send`, also for a
/// form of binary parts only, which has no text field to carry the error.
#[tokio::test]
async fn a_failed_body_conversion_is_reported() {
    struct NoImage;
    impl TryFrom<NoImage> for immich::types::CreateProfileImageForm {
        type Error = &'static str;
        fn try_from(_: NoImage) -> Result<Self, Self::Error> {
            Err("no image at hand")
        }
    }
    let client = immich::Client::new("http://127.0.0.1:9");
    let result = client.create_profile_image().body(NoImage).send().await;
    match result {
        Err(immich::Error::InvalidRequest(message)) => assert_eq!(
            message,
            "conversion to `CreateProfileImageForm` for body failed: no image at hand"
        ),
        other => panic!("expected InvalidRequest, got {other:?}"),
    }
    // A later successful `body` replaces the failure.
    let form = immich::types::CreateProfileImageForm {
        file: bytes::Bytes::from_static(b"PNG"),
    };
    let (base, server) = one_shot(201, r#"{"userId": "u1", "profileImagePath": "p"}"#).await;
    let client = immich::Client::new(&base);
    tokio::time::timeout(
        BOUND,
        client.create_profile_image().body(NoImage).body(form).send(),
    )
    .await
    .expect("bounded")
    .expect("the request succeeds");
    assert_eq!(part(&received(server).await, "file", 0), "PNG");
}
