//! Reading the spec at a git revision, with the `git` command line (no libgit2 to build).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

/// The repository a file lives in.
#[derive(Debug, Clone)]
pub struct Repo {
    /// The repository's top-level folder.
    pub root: PathBuf,
}

/// What a revision holds for the spec's path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AtRevision {
    /// The revision does not exist (or is not a commit).
    NoSuchRevision,
    /// The revision exists, without the file.
    Absent {
        /// The revision's abbreviated commit id.
        commit: String,
    },
    /// The file's text at the revision.
    Text {
        /// The revision's abbreviated commit id.
        commit: String,
        /// The file as committed.
        text: String,
    },
}

impl Repo {
    /// The repository containing `dir`.
    pub fn containing(dir: &Path) -> anyhow::Result<Self> {
        let out = git(dir, &["rev-parse", "--show-toplevel"])?;
        if !out.status.success() {
            bail!(
                "{} is not inside a git repository: {}",
                dir.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        let root = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        Ok(Self { root: root.into() })
    }

    /// `path` relative to the repository root, with `/` separators, as `git show REV:PATH` wants.
    pub fn relative(&self, path: &Path) -> anyhow::Result<String> {
        let absolute = path
            .canonicalize()
            .with_context(|| format!("reading {}", path.display()))?;
        let root = self.root.canonicalize().unwrap_or_else(|_| self.root.clone());
        let relative = absolute
            .strip_prefix(&root)
            .with_context(|| format!("{} is outside the repository {}", path.display(), root.display()))?;
        Ok(relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/"))
    }

    /// The abbreviated commit id of `rev`, if it names a commit.
    pub fn commit(&self, rev: &str) -> anyhow::Result<Option<String>> {
        let spec = format!("{rev}^{{commit}}");
        let out = git(
            &self.root,
            &["rev-parse", "--verify", "--quiet", "--short", &spec],
        )?;
        Ok(out
            .status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned()))
    }

    /// The file at `path` (repository-relative) in `rev`.
    pub fn file_at(&self, rev: &str, path: &str) -> anyhow::Result<AtRevision> {
        let Some(commit) = self.commit(rev)? else {
            return Ok(AtRevision::NoSuchRevision);
        };
        let object = format!("{commit}:{path}");
        let exists = git(&self.root, &["cat-file", "-e", &object])?;
        if !exists.status.success() {
            return Ok(AtRevision::Absent { commit });
        }
        let out = git(&self.root, &["show", &object])?;
        if !out.status.success() {
            bail!(
                "git show {object} failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        let text = String::from_utf8(out.stdout).with_context(|| format!("{object} is not UTF-8"))?;
        Ok(AtRevision::Text { commit, text })
    }

    /// Whether the history is cut short: a shallow clone, or `HEAD` without a parent. Then a
    /// missing `HEAD~1` is expected rather than a mistake.
    pub fn history_is_short(&self) -> anyhow::Result<bool> {
        let shallow = git(&self.root, &["rev-parse", "--is-shallow-repository"])?;
        if String::from_utf8_lossy(&shallow.stdout).trim() == "true" {
            return Ok(true);
        }
        Ok(self.commit("HEAD")?.is_some() && self.commit("HEAD^")?.is_none())
    }
}

fn git(dir: &Path, args: &[&str]) -> anyhow::Result<std::process::Output> {
    Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .with_context(|| format!("running git {}", args.join(" ")))
}
