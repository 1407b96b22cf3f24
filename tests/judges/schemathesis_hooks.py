"""schemathesis hooks for the judge in tests/tests/suite/e2e_judges.rs.

Schema-valid requests can still break the documented business rules: a part whose bytes differ
from its `size`, a finish before its blocks arrived, an upload id the server never issued. A
schema cannot say these, so schemathesis' own `positive_data_acceptance` check reports every such
refusal, and a baseline keyed on "status 400" would also accept a server that refused every valid
upload.

This module replaces that check with `positive_data_refused_for_a_documented_reason`: a valid
request may be refused only with a code that *this request* earns, worked out here from the
request itself and from what the server answered before (the upload ids it issued, the blocks it
stored, the uploads it finished), never from the server's own explanation. Any other refusal fails
the run. Every positive case is logged (JSON lines, to $FEISHU_ST_LOG) so the test can count the
cases that ran and the ones that succeeded.
"""

from __future__ import annotations

import json
import os
import re
import threading
import zlib

import schemathesis
from schemathesis.specs.openapi.checks import expand_status_codes

PREPARE = "POST /open-apis/drive/v1/medias/upload_prepare"
PART = "POST /open-apis/drive/v1/medias/upload_part"
FINISH = "POST /open-apis/drive/v1/medias/upload_finish"
ALL = "POST /open-apis/drive/v1/medias/upload_all"
FILE_PREPARE = "POST /open-apis/drive/v1/files/upload_prepare"
FILE_PART = "POST /open-apis/drive/v1/files/upload_part"
FILE_FINISH = "POST /open-apis/drive/v1/files/upload_finish"
FILE_ALL = "POST /open-apis/drive/v1/files/upload_all"
CREATE_FOLDER = "POST /open-apis/drive/v1/files/create_folder"
LIST_FILES = "GET /open-apis/drive/v1/files"

# The error codes, by name (spec/feishu-drive.yaml, x-feishu-error-codes).
PARAMS_ERROR = 1061002
NOT_FOUND = 1061003
UPLOAD_ID_EXPIRED = 1061021
FILE_SIZE_BEYOND_LIMIT = 1061043
PARENT_NODE_NOT_EXIST = 1061044
CHECKSUM_MISMATCH = 1062008
SIZE_MISMATCH = 1062009
BLOCK_MISSING = 1062010
BLOCK_NUM_OUT_OF_BOUNDS = 1062011
FIELD_VALIDATION_FAILED = 99992402

UPLOAD_ALL_REQUEST_SIZE_MAXIMUM = 20 * 1024 * 1024
# The local server takes any lower-case identifier as a parent_type (the enum is open) and
# answers anything else with 99992402; `slide_file` goes through upload_all only.
PARENT_TYPE = re.compile(r"[a-z][a-z0-9_]{0,63}\Z")
MISSING_PARENT_PREFIX = "missing"
# A Drive file goes into a folder (`explorer`; "" is the root folder) or a wiki node.
FILE_PARENT_TYPES = {"explorer", "wiki"}
FOLDER_NAME_MAX_BYTES = 256

DECLARED = {
    PART: {"upload_id", "seq", "size", "checksum", "file"},
    ALL: {"file_name", "parent_type", "parent_node", "size", "checksum", "extra", "file"},
    FILE_PART: {"upload_id", "seq", "size", "checksum", "file"},
    FILE_ALL: {"file_name", "parent_type", "parent_node", "size", "checksum", "file_token", "file"},
}

_lock = threading.Lock()
_issued: dict[str, dict] = {}  # upload id -> upload_prepare's answer and request
_stored: dict[str, set[int]] = {}  # upload id -> seqs the server accepted
_finished: set[str] = set()
_folders: set[str] = set()  # folder tokens create_folder answered
_drive_files: dict[str, tuple] = {}  # Drive file token -> (parent_type, parent node) it is in


def _log(entry: dict) -> None:
    path = os.environ.get("FEISHU_ST_LOG")
    if path:
        with _lock, open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps(entry) + "\n")


def _bytes(value) -> bytes:
    # schemathesis wraps generated binary values (format: binary) in `Binary`.
    value = getattr(value, "data", value)
    if isinstance(value, bytes):
        return value
    if value is None:
        return b""
    return str(value).encode("utf-8")


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _not_json(text) -> bool:
    try:
        json.loads(text)
    except (TypeError, ValueError):
        return True
    return False


def _target_reasons(body: dict, *, one_shot: bool) -> dict[int, str]:
    """Refusals upload_prepare and upload_all share (file name, parent, extra)."""
    reasons = {}
    parent_type = body.get("parent_type")
    if isinstance(parent_type, str) and not PARENT_TYPE.match(parent_type):
        reasons[FIELD_VALIDATION_FAILED] = f"parent_type {parent_type!r} is not a lower-case identifier"
    if parent_type == "slide_file" and not one_shot:
        reasons[FIELD_VALIDATION_FAILED] = "slide_file media go through upload_all only"
    parent_node = body.get("parent_node")
    if isinstance(parent_node, str) and parent_node.startswith(MISSING_PARENT_PREFIX):
        reasons[PARENT_NODE_NOT_EXIST] = "the parent node does not exist"
    if "extra" in body and _not_json(body["extra"]):
        reasons[PARAMS_ERROR] = "`extra` is not JSON text"
    return reasons


def _form_reasons(operation: str, body: dict) -> dict[int, str]:
    """A multipart body with undeclared fields may repeat a name or carry odd bytes in one."""
    undeclared = set(body) - DECLARED[operation]
    if undeclared:
        return {PARAMS_ERROR: f"undeclared form fields {sorted(undeclared)!r}"}
    return {}


def _checksum_reasons(body: dict, data: bytes) -> dict[int, str]:
    checksum = body.get("checksum")
    if checksum is not None and _int(checksum) != zlib.adler32(data):
        return {CHECKSUM_MISMATCH: "checksum is not the Adler-32 of the bytes"}
    return {}


def _prepare_reasons(body: dict) -> dict[int, str]:
    return _target_reasons(body, one_shot=False)


def _place(body: dict) -> tuple:
    """Where a Drive file goes: (parent_type, parent node), the root folder as ("explorer", "")."""
    return (body.get("parent_type"), body.get("parent_node"))


def _file_target_reasons(body: dict) -> dict[int, str]:
    """Refusals file_upload_prepare and file_upload_all share (the place, a version's file)."""
    reasons = {}
    parent_type, parent_node = _place(body)
    if parent_type not in FILE_PARENT_TYPES:
        reasons[FIELD_VALIDATION_FAILED] = f"parent_type {parent_type!r} is neither explorer nor wiki"
    elif parent_type == "explorer" and parent_node != "":
        with _lock:
            known = parent_node in _folders
        if not known:
            reasons[PARENT_NODE_NOT_EXIST] = "no folder with this token (only \"\" and made ones exist)"
    elif parent_type == "wiki":
        if parent_node == "":
            reasons[PARAMS_ERROR] = "a wiki file needs its node"
        elif isinstance(parent_node, str) and parent_node.startswith(MISSING_PARENT_PREFIX):
            reasons[PARENT_NODE_NOT_EXIST] = "the wiki node does not exist"
    file_token = body.get("file_token")
    if file_token:
        with _lock:
            place = _drive_files.get(file_token)
        if place is None:
            reasons[NOT_FOUND] = "no Drive file with this token to make a version of"
        elif place != _place(body):
            reasons[PARAMS_ERROR] = "a version names another place than its file's"
    return reasons


def _file_prepare_reasons(body: dict) -> dict[int, str]:
    return _file_target_reasons(body)


def _file_all_reasons(body: dict) -> dict[int, str]:
    reasons = _form_reasons(FILE_ALL, body) | _file_target_reasons(body)
    data = _bytes(body.get("file"))
    size = _int(body.get("size"))
    if size is not None and size > UPLOAD_ALL_REQUEST_SIZE_MAXIMUM:
        reasons[FILE_SIZE_BEYOND_LIMIT] = "size over 20 MiB"
    if size != len(data):
        reasons[SIZE_MISMATCH] = f"size {size} but {len(data)} bytes"
    return reasons | _checksum_reasons(body, data)


def _create_folder_reasons(body: dict) -> dict[int, str]:
    reasons = {}
    parent = body.get("folder_token")
    with _lock:
        known = parent in _folders
    if parent != "" and not known:
        reasons[NOT_FOUND] = "no folder with this token"
    name = body.get("name")
    if isinstance(name, str) and len(name.encode()) > FOLDER_NAME_MAX_BYTES:
        reasons[PARAMS_ERROR] = f"the name has {len(name.encode())} bytes, over {FOLDER_NAME_MAX_BYTES}"
    return reasons


def _list_reasons(query: dict) -> dict[int, str]:
    reasons = {}
    folder = query.get("folder_token")
    with _lock:
        known = folder in _folders
    if folder not in (None, "") and not known:
        reasons[NOT_FOUND] = "no folder with this token"
    page_token = query.get("page_token")
    if page_token not in (None, "") and not str(page_token).isdigit():
        reasons[PARAMS_ERROR] = "a page token this server never gave"
    return reasons


def _all_reasons(body: dict) -> dict[int, str]:
    reasons = _form_reasons(ALL, body) | _target_reasons(body, one_shot=True)
    data = _bytes(body.get("file"))
    size = _int(body.get("size"))
    if size is not None and size > UPLOAD_ALL_REQUEST_SIZE_MAXIMUM:
        reasons[FILE_SIZE_BEYOND_LIMIT] = "size over 20 MiB"
    if size != len(data):
        reasons[SIZE_MISMATCH] = f"size {size} but {len(data)} bytes"
    return reasons | _checksum_reasons(body, data)


def _upload_id_reasons(upload_id, family: str) -> tuple[dict | None, dict[int, str]]:
    with _lock:
        issued = _issued.get(upload_id)
        finished = upload_id in _finished
    if issued is None or finished or issued["family"] != family:
        return None, {UPLOAD_ID_EXPIRED: f"the upload id was never issued ({family}), or is finished"}
    return issued, {}


def _part_reasons(body: dict, family: str = "media") -> dict[int, str]:
    reasons = _form_reasons(PART if family == "media" else FILE_PART, body)
    issued, unknown = _upload_id_reasons(body.get("upload_id"), family)
    reasons |= unknown
    data = _bytes(body.get("file"))
    seq, size = _int(body.get("seq")), _int(body.get("size"))
    if size != len(data):
        reasons[SIZE_MISMATCH] = f"size {size} but {len(data)} bytes"
    if issued is not None and seq is not None:
        block_num, block_size, total = issued["block_num"], issued["block_size"], issued["size"]
        if seq >= block_num:
            reasons[BLOCK_NUM_OUT_OF_BOUNDS] = f"seq {seq} >= block_num {block_num}"
        elif len(data) != min(block_size, total - seq * block_size):
            reasons[SIZE_MISMATCH] = f"block {seq} of the prepared size is not {len(data)} bytes"
    return reasons | _checksum_reasons(body, data)


def _finish_reasons(body: dict, family: str = "media") -> dict[int, str]:
    upload_id = body.get("upload_id")
    issued, reasons = _upload_id_reasons(upload_id, family)
    if issued is not None:
        if _int(body.get("block_num")) != issued["block_num"]:
            reasons[PARAMS_ERROR] = f"block_num is not the prepared {issued['block_num']}"
        with _lock:
            stored = len(_stored.get(upload_id, ()))
        if stored < issued["block_num"]:
            reasons[BLOCK_MISSING] = f"{stored} of {issued['block_num']} blocks stored"
    return reasons


REASONS = {
    PREPARE: _prepare_reasons,
    PART: _part_reasons,
    FINISH: _finish_reasons,
    ALL: _all_reasons,
    FILE_PREPARE: _file_prepare_reasons,
    FILE_PART: lambda body: _part_reasons(body, "file"),
    FILE_FINISH: lambda body: _finish_reasons(body, "file"),
    FILE_ALL: _file_all_reasons,
    CREATE_FOLDER: _create_folder_reasons,
    LIST_FILES: _list_reasons,
}


def _remember_success(operation: str, body: dict, answer: dict) -> None:
    data = answer.get("data") or {}
    with _lock:
        if operation in (PREPARE, FILE_PREPARE) and "upload_id" in data:
            _issued[data["upload_id"]] = {
                "block_num": data["block_num"],
                "block_size": data["block_size"],
                "size": _int(body.get("size")),
                "family": "media" if operation == PREPARE else "file",
                "place": _place(body),
            }
        elif operation in (PART, FILE_PART):
            _stored.setdefault(body.get("upload_id"), set()).add(_int(body.get("seq")))
        elif operation in (FINISH, FILE_FINISH):
            upload_id = body.get("upload_id")
            _finished.add(upload_id)
            issued = _issued.get(upload_id)
            if operation == FILE_FINISH and issued and "file_token" in data:
                _drive_files[data["file_token"]] = issued["place"]
        elif operation == FILE_ALL and "file_token" in data:
            _drive_files[data["file_token"]] = _place(body)
        elif operation == CREATE_FOLDER and "token" in data:
            _folders.add(data["token"])


@schemathesis.check
def positive_data_refused_for_a_documented_reason(ctx, response, case):
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return None
    operation = case.operation.label
    body = case.body if isinstance(case.body, dict) else {}
    try:
        answer = response.json()
    except ValueError:
        answer = None
    code = answer.get("code") if isinstance(answer, dict) else None
    entry = {"operation": operation, "status": response.status_code, "code": code}
    if 200 <= response.status_code < 300 and code == 0:
        _remember_success(operation, body, answer)
        _log(entry | {"outcome": "accepted"})
        return None
    allowed = expand_status_codes(ctx.config.positive_data_acceptance.expected_statuses or [])
    if operation not in REASONS:
        # Token and download: schemathesis' own rules (404 for a token nobody uploaded, 401
        # for credentials that do not exist).
        _log(entry | {"outcome": "other"})
        if response.status_code not in allowed:
            raise AssertionError(f"valid data refused with HTTP {response.status_code}, code {code}")
        return None
    reasons = REASONS[operation](dict(case.query or {}) if operation == LIST_FILES else body)
    if code in reasons:
        _log(entry | {"outcome": "refused", "reason": reasons[code]})
        return None
    _log(entry | {"outcome": "unexplained"})
    explained = ", ".join(f"{c} ({r})" for c, r in reasons.items()) or "none: the request breaks no rule"
    raise AssertionError(
        f"valid data refused with HTTP {response.status_code}, code {code}; "
        f"the refusals this request earns: {explained}"
    )
