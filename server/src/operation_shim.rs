//! Stand-in for the generated operation table until it lands (replaced by
//! `feishu_drive::operations::OperationId`).

/// An operation of the API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Operation {
    /// tenant_access_token_internal
    TenantAccessTokenInternal,
    /// upload_prepare
    UploadPrepare,
    /// upload_part
    UploadPart,
    /// upload_finish
    UploadFinish,
    /// upload_all
    UploadAll,
    /// download
    Download,
    /// file_upload_prepare
    FileUploadPrepare,
    /// file_upload_part
    FileUploadPart,
    /// file_upload_finish
    FileUploadFinish,
    /// file_upload_all
    FileUploadAll,
    /// file_download
    FileDownload,
    /// create_folder
    CreateFolder,
    /// list_files
    ListFiles,
}

impl Operation {
    /// Every operation.
    pub const ALL: &'static [Operation] = &[
        Operation::TenantAccessTokenInternal,
        Operation::UploadPrepare,
        Operation::UploadPart,
        Operation::UploadFinish,
        Operation::UploadAll,
        Operation::Download,
        Operation::FileUploadPrepare,
        Operation::FileUploadPart,
        Operation::FileUploadFinish,
        Operation::FileUploadAll,
        Operation::FileDownload,
        Operation::CreateFolder,
        Operation::ListFiles,
    ];

    /// The operation id.
    pub fn as_str(self) -> &'static str {
        self.row().0
    }

    /// The HTTP method.
    pub fn method(self) -> &'static str {
        self.row().1
    }

    /// The path template.
    pub fn path(self) -> &'static str {
        self.row().2
    }

    fn row(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Operation::TenantAccessTokenInternal => (
                "tenant_access_token_internal",
                "POST",
                "/open-apis/auth/v3/tenant_access_token/internal",
            ),
            Operation::UploadPrepare => (
                "upload_prepare",
                "POST",
                "/open-apis/drive/v1/medias/upload_prepare",
            ),
            Operation::UploadPart => ("upload_part", "POST", "/open-apis/drive/v1/medias/upload_part"),
            Operation::UploadFinish => (
                "upload_finish",
                "POST",
                "/open-apis/drive/v1/medias/upload_finish",
            ),
            Operation::UploadAll => ("upload_all", "POST", "/open-apis/drive/v1/medias/upload_all"),
            Operation::Download => (
                "download",
                "GET",
                "/open-apis/drive/v1/medias/{file_token}/download",
            ),
            Operation::FileUploadPrepare => (
                "file_upload_prepare",
                "POST",
                "/open-apis/drive/v1/files/upload_prepare",
            ),
            Operation::FileUploadPart => (
                "file_upload_part",
                "POST",
                "/open-apis/drive/v1/files/upload_part",
            ),
            Operation::FileUploadFinish => (
                "file_upload_finish",
                "POST",
                "/open-apis/drive/v1/files/upload_finish",
            ),
            Operation::FileUploadAll => ("file_upload_all", "POST", "/open-apis/drive/v1/files/upload_all"),
            Operation::FileDownload => (
                "file_download",
                "GET",
                "/open-apis/drive/v1/files/{file_token}/download",
            ),
            Operation::CreateFolder => ("create_folder", "POST", "/open-apis/drive/v1/files/create_folder"),
            Operation::ListFiles => ("list_files", "GET", "/open-apis/drive/v1/files"),
        }
    }

    /// The operation a request is for, with its path parameters (raw).
    pub fn match_path(method: &str, path: &str) -> Option<(Operation, Vec<(&'static str, String)>)> {
        Self::ALL.iter().find_map(|&op| {
            if op.method() != method {
                return None;
            }
            let template: Vec<&str> = op.path().split('/').collect();
            let actual: Vec<&str> = path.split('/').collect();
            if template.len() != actual.len() {
                return None;
            }
            let mut params = Vec::new();
            for (t, a) in template.iter().zip(&actual) {
                match t.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
                    Some(name) if !a.is_empty() => params.push((name, (*a).to_owned())),
                    Some(_) => return None,
                    None if t == a => {}
                    None => return None,
                }
            }
            Some((op, params))
        })
    }
}
