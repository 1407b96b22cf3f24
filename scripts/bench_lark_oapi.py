#!/usr/bin/env python3
"""Upload a file with the official lark-oapi SDK, the sequential loop its docs show.

upload_prepare, then for each block (read from the file) upload_part with its Adler-32
checksum, then upload_finish; prints the MiB/s of each run and the median.

    tools/.venv/bin/python scripts/bench_lark_oapi.py --base-url http://127.0.0.1:8787 FILE
"""

import argparse
import io
import statistics
import sys
import time
import zlib

import lark_oapi as lark
from lark_oapi.api.drive.v1 import (
    UploadFinishMediaRequest,
    UploadFinishMediaRequestBody,
    UploadPartMediaRequest,
    UploadPartMediaRequestBody,
    UploadPrepareMediaRequest,
    MediaUploadInfo,
)

MIB = 1024 * 1024


def upload(client, path, size, name):
    prepare = client.drive.v1.media.upload_prepare(
        UploadPrepareMediaRequest.builder()
        .request_body(
            MediaUploadInfo.builder()
            .file_name(name)
            .parent_type("docx_file")
            .parent_node("doxcnBenchUpload")
            .size(size)
            .build()
        )
        .build()
    )
    if not prepare.success():
        raise RuntimeError(f"upload_prepare: {prepare.code} {prepare.msg}")
    upload_id = prepare.data.upload_id
    block_size = prepare.data.block_size
    block_num = prepare.data.block_num
    with open(path, "rb") as f:
        for seq in range(block_num):
            block = f.read(block_size)
            part = client.drive.v1.media.upload_part(
                UploadPartMediaRequest.builder()
                .request_body(
                    UploadPartMediaRequestBody.builder()
                    .upload_id(upload_id)
                    .seq(seq)
                    .size(len(block))
                    .checksum(str(zlib.adler32(block)))
                    .file(io.BytesIO(block))
                    .build()
                )
                .build()
            )
            if not part.success():
                raise RuntimeError(f"upload_part {seq}: {part.code} {part.msg}")
    finish = client.drive.v1.media.upload_finish(
        UploadFinishMediaRequest.builder()
        .request_body(
            UploadFinishMediaRequestBody.builder()
            .upload_id(upload_id)
            .block_num(block_num)
            .build()
        )
        .build()
    )
    if not finish.success():
        raise RuntimeError(f"upload_finish: {finish.code} {finish.msg}")
    return finish.data.file_token


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file")
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--app-id", default="cli_local")
    parser.add_argument("--app-secret", default="local-secret")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    import os

    size = os.path.getsize(args.file)
    client = (
        lark.Client.builder()
        .app_id(args.app_id)
        .app_secret(args.app_secret)
        .domain(args.base_url.rstrip("/"))
        .log_level(lark.LogLevel.WARNING)
        .build()
    )
    rates = []
    print(f"lark-oapi {lark.__version__ if hasattr(lark, '__version__') else ''}: "
          f"{size / MIB:.0f} MiB to {args.base_url}, {args.runs} runs")
    for run in range(1, args.runs + 1):
        started = time.perf_counter()
        upload(client, args.file, size, os.path.basename(args.file))
        secs = time.perf_counter() - started
        rate = size / MIB / secs
        rates.append(rate)
        print(f"  run {run} lark-oapi (sequential): {secs:6.2} s {rate:8.1f} MiB/s", flush=True)
    print(f"summary: lark-oapi median {statistics.median(rates):.1f} MiB/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
