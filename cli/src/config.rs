//! Where credentials and defaults come from: the environment, then the config file.
//!
//! The config file (TOML, `$XDG_CONFIG_HOME/feishu-drive/config.toml` or
//! `~/.config/feishu-drive/config.toml`, or `--config`) holds a secret, so one that its group or
//! others can read is refused, as ssh refuses such a key. Secrets are never printed: the types
//! holding them redact their `Debug`.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::args::FEISHU;
use crate::exit::CliError;

/// How to authenticate.
pub enum Credentials {
    /// A custom app: tenant tokens are fetched and refreshed.
    App {
        /// The app id (not a secret: it names the budget).
        id: String,
        /// The app secret.
        secret: String,
    },
    /// A fixed access token (tenant or user).
    Token(String),
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::App { id, .. } => write!(f, "App {{ id: {id:?}, secret: <redacted> }}"),
            Credentials::Token(_) => f.write_str("Token(<redacted>)"),
        }
    }
}

impl Credentials {
    /// The name the budget is kept under: the app id, or one shared name for fixed tokens (a
    /// token does not say which app it belongs to).
    pub fn budget_key(&self) -> &str {
        match self {
            Credentials::App { id, .. } => id,
            Credentials::Token(_) => "access-token",
        }
    }
}

/// The config file's keys.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    app_id: Option<String>,
    app_secret: Option<String>,
    access_token: Option<String>,
    base_url: Option<String>,
    redis: Option<String>,
}

/// Everything a command that talks to an API needs to know, resolved.
#[derive(Debug)]
pub struct Settings {
    /// The API base URL.
    pub base_url: String,
    /// How to authenticate.
    pub credentials: Credentials,
    /// The Redis URL of a shared budget, if any.
    pub redis: Option<String>,
    /// Requests per second (0: no client-side limit).
    pub rps: u32,
    /// A note for the user about a default that was taken (printed on stderr).
    pub note: Option<String>,
}

/// The default config file path.
pub fn default_config_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".config")))?;
    Some(base.join("feishu-drive").join("config.toml"))
}

/// Resolves credentials, base URL and Redis URL: flags and environment first, then the config
/// file; with no credentials, a loopback base URL gets the local server's default app.
pub fn resolve(
    base_url: Option<&str>,
    config: Option<&Path>,
    redis: Option<&str>,
    rps: u32,
) -> Result<Settings, CliError> {
    let explicit = config.is_some();
    let path = config.map(Path::to_path_buf).or_else(default_config_path);
    let file = match &path {
        Some(path) => read_config(path, explicit)?,
        None => FileConfig::default(),
    };
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let env_credentials = match (
        var("LARK_APP_ID"),
        var("LARK_APP_SECRET"),
        var("LARK_ACCESS_TOKEN"),
    ) {
        (Some(id), Some(secret), _) => Some(Credentials::App { id, secret }),
        (_, _, Some(token)) => Some(Credentials::Token(token)),
        _ => None,
    };
    let file_credentials = match (file.app_id, file.app_secret, file.access_token) {
        (Some(id), Some(secret), _) => Some(Credentials::App { id, secret }),
        (_, _, Some(token)) => Some(Credentials::Token(token)),
        (Some(_), None, None) | (None, Some(_), None) => {
            return Err(CliError::Config {
                path: path.unwrap_or_default(),
                reason: "give both app_id and app_secret, or access_token".to_owned(),
            });
        }
        (None, None, None) => None,
    };
    let base = base_url.map(str::to_owned).or(file.base_url);
    let redis = redis.map(str::to_owned).or(file.redis);
    let mut note = None;
    let (base_url, credentials) = match (env_credentials.or(file_credentials), base) {
        (Some(credentials), Some(base)) => (base, credentials),
        (Some(credentials), None) => (FEISHU.to_owned(), credentials),
        (None, Some(base)) if is_loopback(&base) => {
            note = Some(format!(
                "no credentials set: using the local server's app {} at {base}",
                feishu_drive_server::DEFAULT_APP_ID
            ));
            let credentials = Credentials::App {
                id: feishu_drive_server::DEFAULT_APP_ID.to_owned(),
                secret: feishu_drive_server::DEFAULT_APP_SECRET.to_owned(),
            };
            (base, credentials)
        }
        (None, _) => {
            let config = path.map_or_else(
                || "~/.config/feishu-drive/config.toml".to_owned(),
                |p| p.display().to_string(),
            );
            return Err(CliError::NoCredentials { config });
        }
    };
    Ok(Settings {
        base_url,
        credentials,
        redis,
        rps,
        note,
    })
}

/// Reads the config file; a missing default file is an empty config, a missing `--config` file
/// an error.
fn read_config(path: &Path, explicit: bool) -> Result<FileConfig, CliError> {
    let bad = |reason: String| CliError::Config {
        path: path.to_owned(),
        reason,
    };
    let metadata = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => {
            return Ok(FileConfig::default());
        }
        Err(e) => return Err(bad(e.to_string())),
    };
    check_mode(path, &metadata)?;
    let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    let config: FileConfig = toml::from_str(&text).map_err(|e| bad(e.message().to_owned()))?;
    let base_url = config
        .base_url
        .as_deref()
        .map(|base| crate::args::parse_base_url(base).map_err(|e| bad(format!("base_url: {e}"))))
        .transpose()?;
    Ok(FileConfig { base_url, ..config })
}

#[cfg(unix)]
fn check_mode(path: &Path, metadata: &std::fs::Metadata) -> Result<(), CliError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = metadata.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(CliError::InsecureConfig {
            path: path.to_owned(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_mode(_path: &Path, _metadata: &std::fs::Metadata) -> Result<(), CliError> {
    Ok(())
}

/// Whether `base_url` names this machine (a local server), where the server's default app is a
/// safe guess.
fn is_loopback(base_url: &str) -> bool {
    let rest = base_url
        .strip_prefix("http://")
        .or_else(|| base_url.strip_prefix("https://"))
        .unwrap_or(base_url);
    let host = rest.split('/').next().unwrap_or_default();
    let host = match host.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => host,
    };
    matches!(host, "127.0.0.1" | "localhost" | "[::1]")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        assert!(is_loopback("http://127.0.0.1:8787"));
        assert!(is_loopback("http://localhost"));
        assert!(is_loopback("http://[::1]:80/x"));
        assert!(!is_loopback("https://open.feishu.cn"));
        assert!(!is_loopback("http://127.0.0.1.example.com:80"));
    }

    #[test]
    fn secrets_are_redacted() {
        let app = Credentials::App {
            id: "cli_x".to_owned(),
            secret: "s3cret".to_owned(),
        };
        assert!(!format!("{app:?}").contains("s3cret"));
        assert!(!format!("{:?}", Credentials::Token("t-abc".to_owned())).contains("t-abc"));
    }
}
