//! A local Feishu-compatible drive media-upload server (work in progress).
