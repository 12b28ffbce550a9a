//! The programs outside Rust that the end-to-end tests use, and which tests skip (or fail) when
//! one is missing; `cargo xtask test` reads this to say so before it runs anything, since
//! `cargo test` hides a test's `SKIPPED:` notice when the test passes.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::shells::which;

/// What happens to the tests of a missing tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// They pass without checking anything (wholly, or for that shell), with a `SKIPPED:` notice
    /// (under `CI=true` they fail instead).
    Skip,
    /// They fail: the tool is needed, not optional.
    Fail,
}

/// One program the tests need.
#[derive(Debug)]
pub struct Tool {
    /// What to look for on PATH (`python3` with botocore is checked by importing it).
    pub name: &'static str,
    /// The Debian package (or pip package) that provides it.
    pub install: &'static str,
    pub missing: Missing,
    /// `module::test` of each test that skips or fails without it.
    pub tests: &'static [&'static str],
}

/// The hook tests that run once per shell (bash, zsh, fish) and skip the shells not installed.
const PER_SHELL: &[&str] = &[
    "hook::nothing_is_installed_in_a_non_interactive_shell",
    "hook::an_idle_prompt_starts_no_process",
    "hook::the_guard_runs_the_hook_exactly_when_something_changed",
    "hook::credentials_follow_the_user_through_projects_and_back",
    "hook::the_users_own_credentials_are_left_alone",
    "hook::credentials_are_refreshed_before_they_expire_and_unset_when_the_login_does",
    "hook::hostile_names_and_directories_are_values_never_code",
    "hook::a_cd_on_the_command_line_applies_before_the_next_command_runs",
    "shell_use::use_wins_over_the_project_file_survives_cd_and_clear_gives_back_the_shells_own_values",
    "shell_use::a_used_role_is_refreshed_before_it_expires",
    "shell_use::the_function_passes_every_other_command_and_its_status_through",
    "shell_use::an_idle_prompt_with_a_use_active_starts_no_process",
    "shell_use::hostile_account_names_in_use_are_values_never_code",
];

/// Every tool, in the order `cargo xtask test` reports them.
pub const TOOLS: &[Tool] = &[
    Tool {
        name: "bash",
        install: "apt-get install bash",
        missing: Missing::Skip,
        tests: &[
            "complete::bash_completes_with_the_generated_script",
            "complete::bash_reads_back_every_hostile_name_exactly_and_runs_nothing",
            "hook::bash_keeps_a_prompt_command_array",
            "hook::bash_leaves_cd_pushd_and_popd_alone_in_a_non_interactive_shell",
            "hook::a_cd_in_a_subshell_runs_with_that_directorys_credentials_and_leaves_the_parent_alone",
            "hook::a_subshell_cd_runs_the_hook_only_into_another_project_and_the_parent_stays_idle",
            "offline::botocore_logs_in_with_the_device_flow_after_eval_env_in_bash",
            "offline::an_aws_cli_style_pkce_login_completes_though_the_client_waits_for_its_browser",
            "offline::our_tools_log_in_and_get_credentials_after_eval_env_in_bash",
            "(the bash run of) the per-shell hook tests",
        ],
    },
    Tool {
        name: "zsh",
        install: "apt-get install zsh",
        missing: Missing::Skip,
        tests: &[
            "complete::zsh_completes_with_the_generated_script",
            "hook::a_cd_in_a_subshell_runs_with_that_directorys_credentials_and_leaves_the_parent_alone",
            "hook::a_subshell_cd_runs_the_hook_only_into_another_project_and_the_parent_stays_idle",
            "hook::the_scripts_pass_shellcheck_zsh_n_and_fish_no_execute",
            "(the zsh run of) the per-shell hook tests",
        ],
    },
    Tool {
        name: "fish",
        install: "apt-get install fish",
        missing: Missing::Skip,
        tests: &[
            "complete::fish_completes_with_the_generated_script",
            "hook::the_scripts_pass_shellcheck_zsh_n_and_fish_no_execute",
            "(the fish run of) the per-shell hook tests",
        ],
    },
    Tool {
        name: "script",
        install: "apt-get install util-linux",
        missing: Missing::Skip,
        tests: &["(the fish run of) the per-shell hook tests but the non-interactive one"],
    },
    Tool {
        name: "elvish",
        install: "apt-get install elvish",
        missing: Missing::Skip,
        tests: &["complete::elvish_completes_with_the_generated_script"],
    },
    Tool {
        name: "shellcheck",
        install: "apt-get install shellcheck",
        missing: Missing::Skip,
        tests: &["hook::the_scripts_pass_shellcheck_zsh_n_and_fish_no_execute"],
    },
    Tool {
        name: "python3 + botocore",
        install: "apt-get install python3 python3-pip; pip install botocore",
        missing: Missing::Skip,
        tests: &[
            "chain::botocore_uses_a_chained_credential_process_and_reuses_our_cache",
            "chain::exec_server_renews_the_whole_chain_before_it_expires",
            "chain::we_reuse_the_roles_botocore_assumed",
            "emulator::botocore_accepts_every_answer_of_the_emulator",
            "env::botocore_uses_our_credential_process",
            "interop::botocore_gets_role_credentials_with_our_login",
            "interop::we_read_the_token_botocore_refreshed",
            "ls::prune_without_a_prefix_keeps_the_profiles_a_prefix_wrote_though_the_template_could_name_them",
            "offline::botocore_logs_in_with_the_device_flow_after_eval_env_in_bash",
            "offline::an_aws_cli_style_pkce_login_completes_though_the_client_waits_for_its_browser",
            "server::botocore_keeps_working_across_credential_expiries",
            "sts_emulator::botocore_walks_a_chain_of_roles_and_every_refusal",
            "sts_emulator::botocore_retries_sts_throttling_failures_and_hangs",
        ],
    },
    Tool {
        name: "kill",
        install: "apt-get install procps",
        missing: Missing::Fail,
        tests: &[
            "emulator::sigterm_stops_the_emulator_with_success",
            "env::exec_replaces_itself_so_signals_reach_the_command",
            "login::ctrl_c_while_waiting_leaves_nothing_behind",
            "server::signals_reach_the_command",
        ],
    },
];

impl Tool {
    /// Whether the tool can be run here.
    pub fn is_installed(&self) -> bool {
        match self.name {
            "python3 + botocore" => find_python_with_botocore().is_some(),
            name => which(name).is_some(),
        }
    }

    /// The tests it affects, with the per-shell hook tests spelled out.
    pub fn affected_tests(&self) -> Vec<&'static str> {
        let mut tests = Vec::new();
        for test in self.tests {
            if test.ends_with("the per-shell hook tests") {
                tests.extend(PER_SHELL);
            } else if test.ends_with("the per-shell hook tests but the non-interactive one") {
                tests.extend(&PER_SHELL[1..]);
            } else {
                tests.push(*test);
            }
        }
        tests
    }
}

/// The tools that are not installed here.
pub fn missing_tools() -> Vec<&'static Tool> {
    TOOLS.iter().filter(|tool| !tool.is_installed()).collect()
}

/// A `python3` (or `python`) that can `import botocore`, as an absolute path; prints nothing.
pub fn find_python_with_botocore() -> Option<PathBuf> {
    ["python3", "python"].into_iter().find_map(|candidate| {
        let output = Command::new(candidate)
            .args(["-c", "import sys, botocore; print(sys.executable)"])
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .ok()?;
        let executable = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        (output.status.success() && !executable.is_empty()).then(|| PathBuf::from(executable))
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// Each end-to-end test that can skip or needs `kill`, found in the sources: a `#[test]`
    /// function that calls `require(`, `shells_to_run()`, `static_check(` or
    /// `python_with_botocore()`, or runs `kill`; with the tool a literal `require("…")` names.
    fn skip_sites() -> BTreeSet<(String, Option<String>)> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e");
        let mut found = BTreeSet::new();
        for entry in std::fs::read_dir(&dir).expect("read tests/e2e") {
            let path = entry.expect("an entry").path();
            if path.extension().is_none_or(|ext| ext != "rs") {
                continue;
            }
            let module = path.file_stem().expect("a name").to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&path).expect("read a test file");
            let (mut current, mut is_test, mut previous) = (String::new(), false, "");
            for line in text.lines().map(str::trim) {
                if let Some(rest) = line.strip_prefix("fn ") {
                    current = rest.split('(').next().unwrap_or_default().to_owned();
                    is_test = previous == "#[test]";
                } else if is_test {
                    let literal = line
                        .split_once("require(\"")
                        .and_then(|(_, rest)| rest.split_once('"'))
                        .map(|(tool, _)| tool.to_owned());
                    let calls =
                        ["require(", "shells_to_run()", "static_check(", "python_with_botocore()"]
                            .iter()
                            .any(|call| line.contains(call))
                            || line.contains("Command::new(\"kill\")");
                    if calls {
                        found.insert((format!("{module}::{current}"), literal));
                    }
                }
                if !line.is_empty() {
                    previous = line;
                }
            }
        }
        found
    }

    #[test]
    fn the_table_names_exactly_the_tests_that_skip_or_need_a_tool() {
        let listed: BTreeSet<String> =
            TOOLS.iter().flat_map(|tool| tool.affected_tests()).map(str::to_owned).collect();
        let found: BTreeSet<String> = skip_sites().into_iter().map(|(test, _)| test).collect();
        assert_eq!(listed, found);
    }

    #[test]
    fn a_tool_a_test_requires_by_name_lists_that_test() {
        for (test, literal) in skip_sites() {
            let Some(name) = literal else { continue };
            let tool = TOOLS.iter().find(|tool| tool.name == name);
            let tool = tool.unwrap_or_else(|| panic!("{test} requires {name}, not in TOOLS"));
            assert!(tool.affected_tests().contains(&test.as_str()), "{name}: {test}");
        }
    }
}
