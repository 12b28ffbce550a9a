//! Where our own files are: the config, cache and data directories, decided by one rule.
//!
//! Each is `<base>/aws-sso`. The base is `$XDG_CONFIG_HOME`, `$XDG_CACHE_HOME` or
//! `$XDG_DATA_HOME` when set to an absolute path, on every platform (the XDG spec says a relative
//! one is invalid and must be ignored). Otherwise it is the platform's own directory, as
//! `directories::BaseDirs` names it, under the home of the [`Environment`]:
//!
//! | platform | config | cache | data |
//! |---|---|---|---|
//! | Linux and other Unixes | `~/.config` | `~/.cache` | `~/.local/share` |
//! | macOS | `~/Library/Application Support` | `~/Library/Caches` | `~/Library/Application Support` |
//! | Windows | `%APPDATA%` | `%LOCALAPPDATA%` | `%APPDATA%` |
//!
//! On Linux nothing moved: these are the XDG defaults the files always had. On macOS the three
//! now live in `~/Library` (config.yaml was there already; the cache and the allow list were
//! under `~/.cache` and `~/.local/share`, apart from it).
//!
//! Everything is read from the [`Environment`] snapshot, never the process's own variables:
//! on Linux and other Unixes the XDG defaults are joined to its home here, since `BaseDirs` would
//! read the process's `XDG_*` variables itself; elsewhere `BaseDirs`' directory is taken under
//! its home.

use std::path::{Path, PathBuf};

use crate::env::{self, Environment};

/// The name of our directory under each base.
const APP_DIR: &str = "aws-sso";

/// One of the three kinds of directory.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Config,
    Cache,
    Data,
}

impl Kind {
    /// The variable that moves this base.
    fn variable(self) -> &'static str {
        match self {
            Kind::Config => env::XDG_CONFIG_HOME,
            Kind::Cache => env::XDG_CACHE_HOME,
            Kind::Data => env::XDG_DATA_HOME,
        }
    }

    /// The XDG spec's default, under the home directory.
    #[cfg(not(any(target_os = "macos", windows)))]
    fn xdg_default(self) -> &'static Path {
        Path::new(match self {
            Kind::Config => ".config",
            Kind::Cache => ".cache",
            Kind::Data => ".local/share",
        })
    }

    #[cfg(any(target_os = "macos", windows))]
    fn of(self, base: &directories::BaseDirs) -> &Path {
        match self {
            Kind::Config => base.config_dir(),
            Kind::Cache => base.cache_dir(),
            Kind::Data => base.data_dir(),
        }
    }
}

/// Where our `config.yaml` is, unless `AWS_SSO_CONFIG_DIR` says otherwise.
pub fn config_dir(env: &Environment) -> Option<PathBuf> {
    our_dir(env, Kind::Config)
}

/// Our cache: the account cache, locks, the shell hook's marker and stamps.
pub fn cache_dir(env: &Environment) -> Option<PathBuf> {
    our_dir(env, Kind::Cache)
}

/// Our data: the list of allowed project files.
pub fn data_dir(env: &Environment) -> Option<PathBuf> {
    our_dir(env, Kind::Data)
}

/// `<base>/aws-sso` by the rule of the module; `None` when neither the variable nor a home is set.
fn our_dir(env: &Environment, kind: Kind) -> Option<PathBuf> {
    let from_variable =
        env.non_empty(kind.variable()).map(PathBuf::from).filter(|dir| dir.is_absolute());
    let base = match from_variable {
        Some(dir) => dir,
        None => platform_base(env, kind)?,
    };
    Some(base.join(APP_DIR))
}

#[cfg(not(any(target_os = "macos", windows)))]
fn platform_base(env: &Environment, kind: Kind) -> Option<PathBuf> {
    Some(env.home_dir()?.join(kind.xdg_default()))
}

#[cfg(any(target_os = "macos", windows))]
fn platform_base(env: &Environment, kind: Kind) -> Option<PathBuf> {
    let home = env.home_dir()?;
    let base = directories::BaseDirs::new()?;
    let dir = kind.of(&base);
    // Under the snapshot's home, as on Linux; a Windows folder moved out of the profile stays
    // where it is.
    Some(dir.strip_prefix(base.home_dir()).map_or_else(|_| dir.to_owned(), |rest| home.join(rest)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_absolute_xdg_variable_wins_on_every_platform() {
        let env = Environment::from_pairs([
            ("HOME", "/h"),
            ("XDG_CONFIG_HOME", "/x/config"),
            ("XDG_CACHE_HOME", "/x/cache"),
            ("XDG_DATA_HOME", "/x/data"),
        ]);
        assert_eq!(config_dir(&env), Some(PathBuf::from("/x/config/aws-sso")));
        assert_eq!(cache_dir(&env), Some(PathBuf::from("/x/cache/aws-sso")));
        assert_eq!(data_dir(&env), Some(PathBuf::from("/x/data/aws-sso")));
    }

    #[cfg(not(any(target_os = "macos", windows)))]
    #[test]
    fn else_the_xdg_defaults_under_home() {
        for xdg in ["", "relative"] {
            let env = Environment::from_pairs([
                ("HOME", "/h"),
                ("XDG_CONFIG_HOME", xdg),
                ("XDG_CACHE_HOME", xdg),
                ("XDG_DATA_HOME", xdg),
            ]);
            assert_eq!(config_dir(&env), Some(PathBuf::from("/h/.config/aws-sso")));
            assert_eq!(cache_dir(&env), Some(PathBuf::from("/h/.cache/aws-sso")));
            assert_eq!(data_dir(&env), Some(PathBuf::from("/h/.local/share/aws-sso")));
        }
    }

    #[cfg(target_os = "macos")]
    #[test]
    fn else_library_under_home() {
        let env = Environment::from_pairs([("HOME", "/h")]);
        assert_eq!(config_dir(&env), Some(PathBuf::from("/h/Library/Application Support/aws-sso")));
        assert_eq!(cache_dir(&env), Some(PathBuf::from("/h/Library/Caches/aws-sso")));
        assert_eq!(data_dir(&env), Some(PathBuf::from("/h/Library/Application Support/aws-sso")));
    }

    #[test]
    fn nothing_without_a_home_or_a_variable() {
        let env = Environment::from_pairs([("XDG_CACHE_HOME", "relative")]);
        assert_eq!(config_dir(&env), None);
        assert_eq!(cache_dir(&env), None);
        assert_eq!(data_dir(&env), None);
    }

    #[test]
    fn the_cache_dir_prefers_an_absolute_xdg_cache_home() {
        let env = Environment::from_pairs([("HOME", "/home/me"), ("XDG_CACHE_HOME", "/xdg")]);
        assert_eq!(cache_dir(&env), Some(PathBuf::from("/xdg/aws-sso")));
        let env = Environment::from_pairs([("HOME", "/home/me"), ("XDG_CACHE_HOME", "rel")]);
        assert_eq!(cache_dir(&env), Some(PathBuf::from("/home/me/.cache/aws-sso")));
        let env = Environment::from_pairs([("HOME", "/home/me"), ("XDG_CACHE_HOME", "")]);
        assert_eq!(cache_dir(&env), Some(PathBuf::from("/home/me/.cache/aws-sso")));
        assert_eq!(cache_dir(&Environment::default()), None);
    }

    #[test]
    fn the_data_dir_follows_xdg_when_absolute() {
        let env = Environment::from_pairs([("XDG_DATA_HOME", "/xdg"), ("HOME", "/h")]);
        assert_eq!(data_dir(&env), Some(PathBuf::from("/xdg/aws-sso")));
        let env = Environment::from_pairs([("XDG_DATA_HOME", "rel"), ("HOME", "/h")]);
        assert_eq!(data_dir(&env), Some(PathBuf::from("/h/.local/share/aws-sso")));
        assert_eq!(data_dir(&Environment::default()), None);
    }
}
