"""Judge: the official Python SDK (lark-oapi, pinned in tools/requirements.txt) against the
local server.

It does what a Feishu user of the SDK does: fetch a tenant token with the app's credentials,
upload a multi-block file with upload_prepare -> upload_part (every block with its Adler-32) ->
upload_finish, upload a small file with upload_all (with its checksum), and read both back with
download. The SDK's wire format is the reference: whatever it sends, the server must accept.

Prints one JSON line with what it checked; exits 1 on any failure.

    python tests/judges/lark_sdk_upload.py --base-url http://127.0.0.1:PORT \
        --app-id cli_local --app-secret local-secret --block-size 65536
"""

import argparse
import hashlib
import importlib.metadata
import io
import json
import os
import sys
import time
import zlib

import lark_oapi as lark
from lark_oapi.api.drive.v1 import (
    CreateFolderFileRequest,
    CreateFolderFileRequestBody,
    DownloadFileRequest,
    DownloadMediaRequest,
    FileUploadInfo,
    ListFileRequest,
    UploadAllFileRequest,
    UploadAllFileRequestBody,
    UploadFinishFileRequest,
    UploadFinishFileRequestBody,
    UploadPartFileRequest,
    UploadPartFileRequestBody,
    UploadPrepareFileRequest,
    MediaUploadInfo,
    UploadAllMediaRequest,
    UploadAllMediaRequestBody,
    UploadFinishMediaRequest,
    UploadFinishMediaRequestBody,
    UploadPartMediaRequest,
    UploadPartMediaRequestBody,
    UploadPrepareMediaRequest,
)

PARENT = "doxcnLarkSdkJudgeParent00001"


class JudgeFailure(Exception):
    pass


def check(response, what):
    """Every SDK response carries the envelope; anything but code 0 fails the judge."""
    if not response.success():
        raise JudgeFailure(f"{what}: code {response.code}, msg {response.msg!r}")
    return response


def adler32(data: bytes) -> str:
    return str(zlib.adler32(data) & 0xFFFFFFFF)


def chunked_upload(client, name: str, data: bytes, expected_block_size: int) -> str:
    prepare = check(
        client.drive.v1.media.upload_prepare(
            UploadPrepareMediaRequest.builder()
            .request_body(
                MediaUploadInfo.builder()
                .file_name(name)
                .parent_type("docx_file")
                .parent_node(PARENT)
                .size(len(data))
                .build()
            )
            .build()
        ),
        "upload_prepare",
    )
    block_size, block_num = prepare.data.block_size, prepare.data.block_num
    if block_size != expected_block_size:
        raise JudgeFailure(f"block_size {block_size}, expected {expected_block_size}")
    if block_num != -(-len(data) // block_size):
        raise JudgeFailure(f"block_num {block_num} is not ceil({len(data)} / {block_size})")
    # Last block first: the docs allow any order.
    for seq in reversed(range(block_num)):
        block = data[seq * block_size : (seq + 1) * block_size]
        check(
            client.drive.v1.media.upload_part(
                UploadPartMediaRequest.builder()
                .request_body(
                    UploadPartMediaRequestBody.builder()
                    .upload_id(prepare.data.upload_id)
                    .seq(seq)
                    .size(len(block))
                    .checksum(adler32(block))
                    .file(io.BytesIO(block))
                    .build()
                )
                .build()
            ),
            f"upload_part {seq}",
        )
    finish = check(
        client.drive.v1.media.upload_finish(
            UploadFinishMediaRequest.builder()
            .request_body(
                UploadFinishMediaRequestBody.builder()
                .upload_id(prepare.data.upload_id)
                .block_num(block_num)
                .build()
            )
            .build()
        ),
        "upload_finish",
    )
    return finish.data.file_token, block_num


def upload_all(client, name: str, data: bytes) -> str:
    response = check(
        client.drive.v1.media.upload_all(
            UploadAllMediaRequest.builder()
            .request_body(
                UploadAllMediaRequestBody.builder()
                .file_name(name)
                .parent_type("docx_image")
                .parent_node(PARENT)
                .size(len(data))
                .checksum(adler32(data))
                .file(io.BytesIO(data))
                .build()
            )
            .build()
        ),
        "upload_all",
    )
    return response.data.file_token


def wrong_checksum_is_refused(client) -> None:
    """The SDK's own samples pass the placeholder checksum "12345678"; the server verifies the
    Adler-32 when one is given, and the SDK must read the typed refusal."""
    data = b"not what 12345678 sums"
    response = client.drive.v1.media.upload_all(
        UploadAllMediaRequest.builder()
        .request_body(
            UploadAllMediaRequestBody.builder()
            .file_name("wrong-checksum.bin")
            .parent_type("docx_file")
            .parent_node(PARENT)
            .size(len(data))
            .checksum("12345678")
            .file(io.BytesIO(data))
            .build()
        )
        .build()
    )
    if response.code != 1062008:
        raise JudgeFailure(f"a wrong checksum got code {response.code} ({response.msg!r}), expected 1062008")


def download_matches(client, token: str, name: str, data: bytes) -> None:
    response = check(
        client.drive.v1.media.download(DownloadMediaRequest.builder().file_token(token).build()),
        f"download {token}",
    )
    back = response.file.read()
    if hashlib.sha256(back).digest() != hashlib.sha256(data).digest():
        raise JudgeFailure(f"download of {name}: {len(back)} bytes differ from the {len(data)} uploaded")
    if response.file_name != name:
        raise JudgeFailure(f"download file name {response.file_name!r}, uploaded as {name!r}")


def upload_without_parent_node(client, data: bytes) -> str:
    """The official CLI's import flow: parent_type ccm_import_open and no parent_node, through
    upload_prepare (the SDK leaves the unset field out of the JSON) and upload_all (the SDK sends
    it as an empty multipart part)."""
    prepare = check(
        client.drive.v1.media.upload_prepare(
            UploadPrepareMediaRequest.builder()
            .request_body(
                MediaUploadInfo.builder()
                .file_name("import-without-parent.bin")
                .parent_type("ccm_import_open")
                .size(len(data))
                .build()
            )
            .build()
        ),
        "upload_prepare without parent_node",
    )
    if not prepare.data.upload_id:
        raise JudgeFailure("upload_prepare without parent_node gave no upload id")
    response = check(
        client.drive.v1.media.upload_all(
            UploadAllMediaRequest.builder()
            .request_body(
                UploadAllMediaRequestBody.builder()
                .file_name("import-without-parent.bin")
                .parent_type("ccm_import_open")
                .size(len(data))
                .file(io.BytesIO(data))
                .build()
            )
            .build()
        ),
        "upload_all without parent_node",
    )
    return response.data.file_token


def ranged_download(client, token: str, data: bytes) -> dict:
    """The SDK's download with a Range header (through RequestOption): a 206 with exactly the
    bytes asked for and a Content-Range that states the whole size."""
    first, last = 10, min(len(data), 5000) - 1
    option = lark.RequestOption.builder().headers({"Range": f"bytes={first}-{last}"}).build()
    response = check(
        client.drive.v1.media.download(DownloadMediaRequest.builder().file_token(token).build(), option),
        f"ranged download {token}",
    )
    if response.raw.status_code != 206:
        raise JudgeFailure(f"ranged download: HTTP {response.raw.status_code}, expected 206")
    content_range = response.raw.headers.get("Content-Range")
    if content_range != f"bytes {first}-{last}/{len(data)}":
        raise JudgeFailure(f"ranged download: Content-Range {content_range!r}")
    if response.file.read() != data[first : last + 1]:
        raise JudgeFailure("ranged download: not the bytes asked for")
    return {"status": 206, "bytes": last - first + 1, "content_range": content_range}


def file_download_matches(client, token: str, name: str, data: bytes, version=None) -> None:
    builder = DownloadFileRequest.builder().file_token(token)
    if version is not None:
        builder = builder.version(version)
    response = check(client.drive.v1.file.download(builder.build()), f"file download {token}")
    back = response.file.read()
    if hashlib.sha256(back).digest() != hashlib.sha256(data).digest():
        raise JudgeFailure(f"file download of {name}: {len(back)} bytes differ from the {len(data)} uploaded")
    if response.file_name != name:
        raise JudgeFailure(f"file download name {response.file_name!r}, uploaded as {name!r}")


def file_upload_all(client, folder: str, name: str, data: bytes, file_token=None):
    body = (
        UploadAllFileRequestBody.builder()
        .file_name(name)
        .parent_type("explorer")
        .parent_node(folder)
        .size(len(data))
        .checksum(adler32(data))
        .file(io.BytesIO(data))
    )
    if file_token is not None:
        body = body.file_token(file_token)
    response = check(
        client.drive.v1.file.upload_all(UploadAllFileRequest.builder().request_body(body.build()).build()),
        "file upload_all",
    )
    return response.data.file_token, response.data.version


def file_chunked_upload(client, folder: str, name: str, data: bytes) -> tuple:
    prepare = check(
        client.drive.v1.file.upload_prepare(
            UploadPrepareFileRequest.builder()
            .request_body(
                FileUploadInfo.builder().file_name(name).parent_type("explorer").parent_node(folder).size(len(data)).build()
            )
            .build()
        ),
        "file upload_prepare",
    )
    block_size, block_num = prepare.data.block_size, prepare.data.block_num
    for seq in reversed(range(block_num)):
        block = data[seq * block_size : (seq + 1) * block_size]
        check(
            client.drive.v1.file.upload_part(
                UploadPartFileRequest.builder()
                .request_body(
                    UploadPartFileRequestBody.builder()
                    .upload_id(prepare.data.upload_id)
                    .seq(seq)
                    .size(len(block))
                    .checksum(adler32(block))
                    .file(io.BytesIO(block))
                    .build()
                )
                .build()
            ),
            f"file upload_part {seq}",
        )
    finish = check(
        client.drive.v1.file.upload_finish(
            UploadFinishFileRequest.builder()
            .request_body(UploadFinishFileRequestBody.builder().upload_id(prepare.data.upload_id).block_num(block_num).build())
            .build()
        ),
        "file upload_finish",
    )
    if not finish.data.version or not finish.data.url:
        raise JudgeFailure(f"file upload_finish answered no version or url: {finish.raw.content!r}")
    return finish.data.file_token, block_num


def files_family(client, block_size: int) -> dict:
    """The files family through the SDK's drive.v1.file: a folder in the root, a one-shot and a
    chunked upload into it, a new version of the first, the folder's listing, and every file
    (and the first version) read back."""
    folder = check(
        client.drive.v1.file.create_folder(
            CreateFolderFileRequest.builder()
            .request_body(CreateFolderFileRequestBody.builder().name("SDK 判定").folder_token("").build())
            .build()
        ),
        "create_folder",
    ).data.token
    first, second = os.urandom(50_000), os.urandom(60_000)
    token, v1 = file_upload_all(client, folder, "one.txt", first)
    same, v2 = file_upload_all(client, folder, "one v2.txt", second, file_token=token)
    if same != token or v1 == v2:
        raise JudgeFailure(f"a version: token {same} (was {token}), version {v2} (was {v1})")
    big = os.urandom(block_size + 7)
    big_token, blocks = file_chunked_upload(client, folder, "大.bin", big)
    listing = check(client.drive.v1.file.list(ListFileRequest.builder().folder_token(folder).build()), "list")
    names = sorted(f.name for f in listing.data.files)
    if names != sorted(["one v2.txt", "大.bin"]):
        raise JudgeFailure(f"the folder lists {names}")
    file_download_matches(client, token, "one v2.txt", second)
    file_download_matches(client, token, "one.txt", first, version=v1)
    file_download_matches(client, big_token, "大.bin", big)
    return {"folder": True, "versions": 2, "chunked_blocks": blocks, "listed": len(names), "downloads_match_sha256": 3}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--app-id", default="cli_local")
    parser.add_argument("--app-secret", default="local-secret")
    parser.add_argument("--block-size", type=int, default=4 * 1024 * 1024)
    parser.add_argument(
        "--official-sources",
        action="store_true",
        help="also upload without parent_node and download a range (issue 8)",
    )
    parser.add_argument(
        "--files-family",
        action="store_true",
        help="also upload into a Drive folder, make a version, list and read back (issue 17)",
    )
    args = parser.parse_args()

    client = (
        lark.Client.builder()
        .app_id(args.app_id)
        .app_secret(args.app_secret)
        .domain(args.base_url)
        .log_level(lark.LogLevel.WARNING)
        .build()
    )
    started = time.monotonic()
    # 3 blocks and 7 bytes: full blocks and a short last one.
    big = os.urandom(3 * args.block_size + 7)
    big_name = "lark sdk 分片.bin"
    small = os.urandom(100_000)
    small_name = "lark-sdk-all.png"
    try:
        token, blocks = chunked_upload(client, big_name, big, args.block_size)
        download_matches(client, token, big_name, big)
        small_token = upload_all(client, small_name, small)
        download_matches(client, small_token, small_name, small)
        wrong_checksum_is_refused(client)
        extra = {}
        if args.official_sources:
            import_token = upload_without_parent_node(client, small)
            download_matches(client, import_token, "import-without-parent.bin", small)
            extra["upload_without_parent_node"] = True
            extra["ranged_download"] = ranged_download(client, small_token, small)
        if args.files_family:
            extra["files_family"] = files_family(client, args.block_size)
    except JudgeFailure as failure:
        print(json.dumps({"ok": False, "failure": str(failure)}))
        return 1
    print(
        json.dumps(
            {
                "ok": True,
                "sdk": "lark-oapi " + importlib.metadata.version("lark-oapi"),
                "chunked": {"bytes": len(big), "blocks": blocks, "order": "last to first", "checksums": True},
                "upload_all": {"bytes": len(small), "checksum": True},
                "downloads_match_sha256": 2,
                "wrong_checksum_refused": 1062008,
                "seconds": round(time.monotonic() - started, 3),
                **extra,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
