//! One hook run at a time, against a throw-away home and a shell simulated by its variables.

use std::path::Path;
use std::time::SystemTime;

use super::marker;
use super::stamp::*;
use super::*;
use crate::cache::role_credentials::RoleCredentials;
use crate::cache::role_credentials::{RoleCredentialsKey, save_role_credentials};
use crate::cache::token::{CachedToken, save_token};
use crate::config::project::PROJECT_FILE_NAME;
use crate::config::project::load_project_file;
use crate::secret::Secret;
use crate::session::Context;
use crate::session::SessionRequest;
use crate::shell::quote_fish;
use crate::shell::{Shell, quote_posix};
use crate::trust;

const ACCOUNT: &str = "123456789012";
const ROLE: &str = "ReadOnly";
const PID: u32 = 4242;

/// A home with one `[sso-session corp]`, a shell simulated by its managed variables and
/// its state, and the projects it can `cd` into.
struct Home {
    dir: tempfile::TempDir,
    env: Environment,
    shell: Shell,
    vars: Vars,
    state: String,
}

impl Home {
    fn new(shell: Shell) -> Home {
        let dir = tempfile::tempdir().expect("tempdir");
        let aws = dir.path().join(".aws");
        std::fs::create_dir_all(&aws).expect("mkdir");
        std::fs::write(
            aws.join("config"),
            "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n",
        )
        .expect("config");
        let env = Environment::from_pairs([(env::HOME, dir.path().to_string_lossy())]);
        let home = Home { dir, env, shell, vars: Vars::default(), state: String::new() };
        home.login(SignedDuration::from_hours(8));
        home
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    fn login(&self, expires_in: SignedDuration) {
        let token = CachedToken {
            start_url: Some("https://corp.awsapps.com/start".into()),
            region: Some("eu-west-1".into()),
            access_token: Secret::new("ACCESS-TOKEN"),
            expires_at: Timestamp::now() + expires_in,
            client_id: None,
            client_secret: None,
            registration_expires_at: None,
            refresh_token: None,
        };
        let ctx = self.context();
        save_token(&ctx.caches.token_path("corp"), &token).expect("token");
    }

    fn cache_credentials(
        &self,
        account: &str,
        role: &str,
        key_id: &str,
        expires_in: SignedDuration,
    ) {
        let key = RoleCredentialsKey::Session {
            session_name: "corp".into(),
            account_id: account.into(),
            role_name: role.into(),
        };
        let creds = credentials(account, key_id, expires_in);
        save_role_credentials(&self.context().caches.role_credentials_path(&key), &creds)
            .expect("cache");
    }

    /// A project directory with a `.aws-sso.yaml`, allowed when `allowed`.
    fn project(&self, dir: &str, text: &str, allowed: bool) -> PathBuf {
        let dir = self.path(dir);
        std::fs::create_dir_all(&dir).expect("mkdir");
        let file = dir.join(PROJECT_FILE_NAME);
        std::fs::write(&file, text).expect("write");
        if allowed {
            trust::allow(&self.env, &load_project_file(&file).expect("valid"), None)
                .expect("allow");
        }
        dir
    }

    fn context(&self) -> Context {
        let state = HookState::decode(Some(&self.state));
        let mut env = self.env.clone();
        for (name, value) in &self.vars.0 {
            env.set(name.clone(), value.clone());
        }
        Context::load(resolution_env(&env, &state), None).expect("context")
    }

    fn input(&self, pwd: &Path) -> HookInput {
        HookInput {
            state: HookState::decode(Some(&self.state)),
            pwd: pwd.to_path_buf(),
            shell_pid: Some(PID),
            current: self.vars.clone(),
            used_export: None,
            now: Timestamp::now(),
        }
    }

    fn plan(&self, pwd: &Path) -> Step {
        plan(&self.context(), self.shell, self.input(pwd))
    }

    /// One prompt in `pwd`: the hook's output, applied to the simulated shell. Fetching
    /// is not expected.
    fn cd(&mut self, pwd: &Path) -> HookOutput {
        let output = run_hook(
            &self.context(),
            self.shell,
            self.input(pwd),
            |need| panic!("unexpected fetch of accounts: {need:?}"),
            |req| panic!("unexpected fetch for {} {}", req.account_id, req.role_name),
        );
        self.apply(&output);
        output
    }

    /// A prompt in the home directory, outside every project.
    fn leave(&mut self) -> HookOutput {
        let home = self.dir.path().to_path_buf();
        self.cd(&home)
    }

    fn apply(&mut self, output: &HookOutput) {
        for (name, value) in parse_output(self.shell, &output.stdout) {
            if name == STATE_VAR {
                self.state = value.expect("state assigned");
            } else if name.starts_with("_AWS_SSO_") {
            } else {
                match value {
                    Some(value) => self.vars.0.insert(name, value),
                    None => self.vars.0.remove(&name),
                };
            }
        }
        assert_eq!(HookState::decode(Some(&self.state)), output.state.clone().normalized());
    }

    fn set(&mut self, name: &str, value: &str) {
        self.vars.0.insert(name.to_owned(), value.to_owned());
    }

    fn var(&self, name: &str) -> Option<&str> {
        self.vars.get(name)
    }

    /// `stdout` with the temporary home written `~`.
    fn shown(&self, output: &HookOutput) -> String {
        output.stdout.replace(&*self.dir.path().to_string_lossy(), "~")
    }
}

impl HookState {
    fn normalized(self) -> HookState {
        if self.set.is_empty()
            && self.saved.is_empty()
            && self.told.is_empty()
            && self.used.is_none()
        {
            HookState::default()
        } else {
            HookState { v: HookState::VERSION, ..self }
        }
    }
}

fn credentials(account: &str, key_id: &str, expires_in: SignedDuration) -> RoleCredentials {
    RoleCredentials {
        access_key_id: key_id.into(),
        secret_access_key: Secret::new(format!("SECRET-OF-{key_id}")),
        session_token: Secret::new(format!("TOKEN-OF-{key_id}")),
        expiration: Timestamp::from_second((Timestamp::now() + expires_in).as_second())
            .expect("time"),
        account_id: account.into(),
    }
}

/// Each assignment of the hook's output (`None`: unset), reading the quoting the way the
/// shell does; a quoted value may span lines.
fn parse_output(shell: Shell, out: &str) -> Vec<(String, Option<String>)> {
    let (unset, sets, separator) = match shell {
        Shell::Fish => ("set -e -g ", ["set -gx ", "set -g "], ' '),
        _ => ("unset -v ", ["export ", ""], '='),
    };
    let mut assignments = Vec::new();
    let mut rest = out;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix(unset) {
            let (name, r) = r.split_once('\n').expect("a line");
            assignments.push((name.to_owned(), None));
            rest = r;
            continue;
        }
        let r = sets.iter().find_map(|p| rest.strip_prefix(p)).expect("an assignment");
        let (name, r) = r.split_once(separator).expect("name and value");
        let (value, r) = read_quoted(shell, r);
        rest = r.strip_prefix('\n').expect("the end of the line");
        assignments.push((name.to_owned(), Some(value)));
    }
    assignments
}

fn read_quoted(shell: Shell, text: &str) -> (String, &str) {
    let mut value = String::new();
    let mut chars = text.char_indices();
    assert_eq!(chars.next().map(|(_, c)| c), Some('\''), "quoted: {text}");
    loop {
        let (i, c) = chars.next().expect("a closing quote");
        match (shell, c) {
            (Shell::Fish, '\\') => value.push(chars.next().expect("escaped").1),
            (Shell::Fish, '\'') => return (value, &text[i + 1..]),
            (_, '\'') => {
                // `'\''`: close, an escaped quote, reopen.
                if text[i + 1..].starts_with("\\''") {
                    value.push('\'');
                    chars.nth(2);
                } else {
                    return (value, &text[i + 1..]);
                }
            }
            (_, c) => value.push(c),
        }
    }
}

fn project_text(account: &str) -> String {
    format!("account: \"{account}\"\nrole: {ROLE}\nregion: eu-west-1\n")
}

fn bookkeeping_names(out: &str) -> Vec<&str> {
    out.lines().map(|l| l.split('=').next().unwrap_or(l)).collect()
}

/// The variables other than the bookkeeping that `out` sets or unsets.
fn changed_vars(shell: Shell, out: &str) -> Vec<String> {
    let names = parse_output(shell, out).into_iter().map(|(name, _)| name);
    names.filter(|n| !n.starts_with("_AWS_SSO_")).collect()
}

#[test]
fn entering_a_trusted_project_exports_its_credentials() {
    let mut home = Home::new(Shell::Bash);
    let project = home.project("billing", &project_text(ACCOUNT), true);
    home.cache_credentials(ACCOUNT, ROLE, "ASIAFIRST", SignedDuration::from_hours(1));
    home.set("AWS_PROFILE", "dev");
    home.set("AWS_REGION", "us-east-1");
    let output = home.cd(&project.join("src"));
    assert_eq!(output.messages, Vec::<String>::new());
    let expiration = home.var("AWS_CREDENTIAL_EXPIRATION").expect("exported").to_owned();
    let state = HookState::decode(Some(&home.state));
    let refresh_at = parse_credentials_time(&expiration) - 300;
    assert_eq!(
        home.shown(&output),
        format!(
            "unset -v AWS_PROFILE
export AWS_ACCESS_KEY_ID='ASIAFIRST'
export AWS_SECRET_ACCESS_KEY='SECRET-OF-ASIAFIRST'
export AWS_SESSION_TOKEN='TOKEN-OF-ASIAFIRST'
export AWS_CREDENTIAL_EXPIRATION='{expiration}'
export AWS_REGION='eu-west-1'
export AWS_DEFAULT_REGION='eu-west-1'
export AWS_SSO_ACCOUNT_ID='123456789012'
export AWS_SSO_ROLE_NAME='ReadOnly'
export AWS_SSO_PROFILE='123456789012:ReadOnly'
_AWS_SSO_STATE='{}'
_AWS_SSO_FILE='~/billing/.aws-sso.yaml'
_AWS_SSO_MARKER='~/.cache/aws-sso/hook-marker'
_AWS_SSO_STAMP='~/.cache/aws-sso/hook/stamp-4242'
_AWS_SSO_REFRESH_AT='{refresh_at}'
",
            home.state.replace(&*home.dir.path().to_string_lossy(), "~")
        )
    );
    assert_eq!(state.access_key_id.as_deref(), Some("ASIAFIRST"));
    assert_eq!(state.saved.get("AWS_PROFILE"), Some(&Some("dev".to_owned())));
    assert_eq!(state.saved.get("AWS_REGION"), Some(&Some("us-east-1".to_owned())));
    assert_eq!(state.saved.get("AWS_ACCESS_KEY_ID"), Some(&None));
    // The stamp holds the newest mtime of the project file (the marker does not exist).
    let stamp = home.path(".cache/aws-sso/hook/stamp-4242");
    let mtime = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).expect("mtime");
    assert_eq!(mtime(&stamp), mtime(&project.join(PROJECT_FILE_NAME)));
}

fn parse_credentials_time(text: &str) -> i64 {
    crate::time::parse_lenient(text).expect("time").as_second()
}

#[test]
fn staying_prints_only_the_bookkeeping() {
    let mut home = Home::new(Shell::Bash);
    let project = home.project("billing", &project_text(ACCOUNT), true);
    home.cache_credentials(ACCOUNT, ROLE, "ASIAFIRST", SignedDuration::from_hours(1));
    home.cd(&project);
    let before = home.state.clone();
    std::fs::create_dir_all(project.join("deeper")).expect("mkdir");
    let output = home.cd(&project.join("deeper"));
    assert_eq!(
        bookkeeping_names(&output.stdout),
        [STATE_VAR, FILE_VAR, MARKER_VAR, STAMP_VAR, REFRESH_AT_VAR]
    );
    assert_eq!(home.state, before);
    assert!(output.messages.is_empty());
}

#[test]
fn moving_to_another_project_replaces_and_keeps_what_the_user_had() {
    let mut home = Home::new(Shell::Bash);
    let billing = home.project("billing", &project_text(ACCOUNT), true);
    let other = home.project("web", "account: \"210987654321\"\nrole: Admin\n", true);
    home.cache_credentials(ACCOUNT, ROLE, "ASIAFIRST", SignedDuration::from_hours(1));
    home.cache_credentials("210987654321", "Admin", "ASIASECOND", SignedDuration::from_hours(1));
    home.set("AWS_PROFILE", "dev");
    home.set("AWS_REGION", "us-east-1");
    home.cd(&billing);
    let output = home.cd(&other);
    assert!(
        output
            .stdout
            .starts_with("unset -v AWS_DEFAULT_REGION\nexport AWS_ACCESS_KEY_ID='ASIASECOND'\n"),
        "{}",
        output.stdout
    );
    assert!(!output.stdout.contains("unset -v AWS_PROFILE"), "still unset: {}", output.stdout);
    // The second project names no region: the user's comes back.
    assert_eq!(home.var("AWS_REGION"), Some("us-east-1"));
    assert_eq!(home.var("AWS_DEFAULT_REGION"), None);
    assert_eq!(home.var("AWS_SSO_ROLE_NAME"), Some("Admin"));
    assert_eq!(home.var("AWS_PROFILE"), None);
    let state = HookState::decode(Some(&home.state));
    assert_eq!(state.saved.get("AWS_PROFILE"), Some(&Some("dev".to_owned())));

    home.leave();
    assert_eq!(home.var("AWS_PROFILE"), Some("dev"));
    assert_eq!(home.var("AWS_REGION"), Some("us-east-1"));
    assert_eq!(home.var("AWS_ACCESS_KEY_ID"), None);
    assert_eq!(home.state, "");
}

#[test]
fn leaving_restores_and_leaves_alone_what_the_user_changed() {
    let mut home = Home::new(Shell::Bash);
    let project = home.project("billing", &project_text(ACCOUNT), true);
    home.cache_credentials(ACCOUNT, ROLE, "ASIAFIRST", SignedDuration::from_hours(1));
    home.set("AWS_PROFILE", "dev");
    home.set("AWS_DEFAULT_REGION", "us-west-2");
    home.cd(&project);
    home.set("AWS_REGION", "ap-south-1");
    let output = home.leave();
    assert_eq!(
        home.shown(&output),
        "unset -v AWS_ACCESS_KEY_ID
unset -v AWS_SECRET_ACCESS_KEY
unset -v AWS_SESSION_TOKEN
unset -v AWS_CREDENTIAL_EXPIRATION
unset -v AWS_SSO_ACCOUNT_ID
unset -v AWS_SSO_ROLE_NAME
unset -v AWS_SSO_PROFILE
export AWS_DEFAULT_REGION='us-west-2'
export AWS_PROFILE='dev'
_AWS_SSO_STATE=''
_AWS_SSO_FILE=''
_AWS_SSO_MARKER='~/.cache/aws-sso/hook-marker'
_AWS_SSO_STAMP='~/.cache/aws-sso/hook/stamp-4242'
_AWS_SSO_REFRESH_AT='0'
"
    );
    assert_eq!(home.var("AWS_REGION"), Some("ap-south-1"), "the user's change stays");
}

#[test]
fn leaving_keeps_credentials_the_user_replaced() {
    let mut home = Home::new(Shell::Zsh);
    let project = home.project("billing", &project_text(ACCOUNT), true);
    home.cache_credentials(ACCOUNT, ROLE, "ASIAFIRST", SignedDuration::from_hours(1));
    home.cd(&project);
    home.set("AWS_ACCESS_KEY_ID", "AKIAMINE");
    home.set("AWS_SECRET_ACCESS_KEY", "my-secret");
    home.leave();
    assert_eq!(home.var("AWS_ACCESS_KEY_ID"), Some("AKIAMINE"));
    assert_eq!(home.var("AWS_SECRET_ACCESS_KEY"), Some("my-secret"));
    // The session token follows the key id: the user replaced the credentials.
    assert_eq!(home.var("AWS_SESSION_TOKEN"), Some("TOKEN-OF-ASIAFIRST"));
    assert_eq!(home.var("AWS_SSO_ACCOUNT_ID"), None);
}

#[test]
fn an_untrusted_file_is_told_once_and_unsets_what_was_set() {
    let mut home = Home::new(Shell::Bash);
    let trusted = home.project("a", &project_text(ACCOUNT), true);
    let untrusted = home.project("b", &project_text(ACCOUNT), false);
    home.cache_credentials(ACCOUNT, ROLE, "ASIAFIRST", SignedDuration::from_hours(1));
    home.cd(&trusted);
    let output = home.cd(&untrusted);
    let file = untrusted.join(PROJECT_FILE_NAME);
    assert_eq!(
        output.messages,
        [format!(
            "aws-sso: {} is not allowed, so no credentials are set. Review it, then run: aws-sso-env allow '{}'",
            file.display(),
            file.display()
        )]
    );
    assert_eq!(home.var("AWS_ACCESS_KEY_ID"), None);
    assert!(output.stdout.contains(&format!("_AWS_SSO_FILE='{}'", file.display())));
    std::fs::create_dir_all(untrusted.join("sub")).expect("mkdir");
    assert!(home.cd(&untrusted.join("sub")).messages.is_empty(), "told once");

    // Allowed: the next run exports, without a message.
    trust::allow(&home.env, &load_project_file(&file).expect("valid"), None).expect("allow");
    let output = home.cd(&untrusted);
    assert!(output.messages.is_empty());
    assert_eq!(home.var("AWS_ACCESS_KEY_ID"), Some("ASIAFIRST"));

    // Edited: no longer trusted, told again.
    std::fs::write(&file, project_text("999999999999")).expect("edit");
    let output = home.cd(&untrusted);
    assert_eq!(output.messages.len(), 1);
    assert!(output.messages[0].contains("changed since it was allowed"), "{:?}", output.messages);
    assert_eq!(home.var("AWS_ACCESS_KEY_ID"), None);
}

#[test]
fn an_expired_session_unsets_and_names_aws_sso_login() {
    let mut home = Home::new(Shell::Fish);
    let project = home.project("billing", &project_text(ACCOUNT), true);
    home.cache_credentials(ACCOUNT, ROLE, "ASIAFIRST", SignedDuration::from_hours(1));
    home.cd(&project);
    home.login(SignedDuration::from_mins(-1));
    let output = home.cd(&project);
    assert_eq!(output.messages.len(), 1, "{:?}", output.messages);
    assert!(output.messages[0].starts_with("aws-sso: the login of corp expired at "));
    assert!(output.messages[0].ends_with("Run: aws-sso-login --sso-session corp"));
    assert!(output.stdout.starts_with("set -e -g AWS_ACCESS_KEY_ID\n"), "{}", output.stdout);
    assert_eq!(home.var("AWS_ACCESS_KEY_ID"), None);
    assert!(home.cd(&project).messages.is_empty(), "told once");

    // Logged in again (the marker makes the shell run the hook): back.
    home.login(SignedDuration::from_hours(8));
    assert!(home.cd(&project).messages.is_empty());
    assert_eq!(home.var("AWS_ACCESS_KEY_ID"), Some("ASIAFIRST"));
}

#[test]
fn a_logged_out_session_names_aws_sso_login() {
    let mut home = Home::new(Shell::Bash);
    let project = home.project("billing", &project_text(ACCOUNT), true);
    home.cache_credentials(ACCOUNT, ROLE, "ASIAFIRST", SignedDuration::from_hours(1));
    std::fs::remove_file(home.context().caches.token_path("corp")).expect("logout");
    let output = home.cd(&project);
    assert_eq!(
        output.messages,
        [
            "aws-sso: not logged in to corp; credentials unset. Run: aws-sso-login --sso-session corp"
        ]
    );
    assert_eq!(home.var("AWS_ACCESS_KEY_ID"), None);
}

#[test]
fn the_users_own_credentials_are_left_alone_and_told_once() {
    let mut home = Home::new(Shell::Bash);
    let project = home.project("billing", &project_text(ACCOUNT), true);
    home.cache_credentials(ACCOUNT, ROLE, "ASIAFIRST", SignedDuration::from_hours(1));
    home.set("AWS_ACCESS_KEY_ID", "AKIAMINE");
    home.set("AWS_PROFILE", "dev");
    let output = home.cd(&project);
    assert_eq!(
        output.messages,
        ["aws-sso: this shell has credentials of its own (AWS_ACCESS_KEY_ID); leaving them alone"]
    );
    assert_eq!(changed_vars(Shell::Bash, &output.stdout), Vec::<String>::new(), "nothing exported");
    assert_eq!(home.var("AWS_PROFILE"), Some("dev"));
    let elsewhere = home.project("web", &project_text(ACCOUNT), true);
    assert!(home.leave().messages.is_empty());
    assert!(home.cd(&elsewhere).messages.is_empty(), "told once per shell");
    assert_eq!(home.var("AWS_ACCESS_KEY_ID"), Some("AKIAMINE"));
}

#[test]
fn credentials_due_for_refresh_are_fetched_and_replaced() {
    let mut home = Home::new(Shell::Bash);
    let project = home.project("billing", &project_text(ACCOUNT), true);
    home.cache_credentials(ACCOUNT, ROLE, "ASIAFIRST", SignedDuration::from_hours(1));
    home.cd(&project);
    // Four minutes left: inside the reuse window.
    home.cache_credentials(ACCOUNT, ROLE, "ASIAFIRST", SignedDuration::from_mins(4));
    let Step::NeedsCredentials(pending) = home.plan(&project) else {
        panic!("a fetch is needed");
    };
    assert_eq!(pending.request().account_id, ACCOUNT);
    assert_eq!(pending.request().role_name, ROLE);
    let fresh = credentials(ACCOUNT, "ASIASECOND", SignedDuration::from_hours(1));
    let expires = fresh.expiration.as_second();
    let env = home.env.clone();
    let output = pending.finish(&env, Ok(fresh));
    home.apply(&output);
    assert!(output.stdout.starts_with("export AWS_ACCESS_KEY_ID='ASIASECOND'\n"));
    assert!(
        !output.stdout.contains("export AWS_SSO_ACCOUNT_ID"),
        "unchanged values are not printed"
    );
    assert!(output.stdout.ends_with(&format!("_AWS_SSO_REFRESH_AT='{}'\n", expires - 300)));
    assert_eq!(home.var("AWS_SECRET_ACCESS_KEY"), Some("SECRET-OF-ASIASECOND"));
}

#[test]
fn short_lived_credentials_refresh_half_way() {
    let mut home = Home::new(Shell::Bash);
    let project = home.project("billing", &project_text(ACCOUNT), true);
    let Step::NeedsCredentials(pending) = home.plan(&project) else { panic!("not cached") };
    let output = pending
        .finish(&home.env.clone(), Ok(credentials(ACCOUNT, "ASIA", SignedDuration::from_mins(2))));
    home.apply(&output);
    let line = output.stdout.lines().last().expect("refresh line");
    let at: i64 =
        line.trim_start_matches("_AWS_SSO_REFRESH_AT='").trim_end_matches('\'').parse().expect("n");
    let now = Timestamp::now().as_second();
    assert!((now + 50..=now + 61).contains(&at), "{at} vs {now}");
}

#[test]
fn a_fetch_that_times_out_fails_closed_and_retries() {
    let mut home = Home::new(Shell::Bash);
    let project = home.project("billing", &project_text(ACCOUNT), true);
    home.cache_credentials(ACCOUNT, ROLE, "ASIAFIRST", SignedDuration::from_hours(1));
    home.cd(&project);
    home.cache_credentials(ACCOUNT, ROLE, "ASIAFIRST", SignedDuration::from_mins(1));
    let output = run_hook(&home.context(), Shell::Bash, home.input(&project), no_accounts, |_| {
        Err(FetchError::TimedOut(Duration::from_secs(2)))
    });
    home.apply(&output);
    assert_eq!(
        output.messages,
        [
            "aws-sso: the SSO portal did not answer within 2 s for role ReadOnly in account 123456789012; no credentials are set, trying again in a minute"
        ]
    );
    for name in MANAGED {
        assert_eq!(home.var(name), None, "{name} unset: nothing half-set");
    }
    let now = Timestamp::now().as_second();
    let at = output.stdout.lines().last().expect("line");
    assert!(
        at == format!("_AWS_SSO_REFRESH_AT='{}'", now + 60)
            || at == format!("_AWS_SSO_REFRESH_AT='{}'", now + 59),
        "{at}"
    );
}

#[test]
fn a_rejected_login_names_aws_sso_login_and_does_not_retry() {
    let mut home = Home::new(Shell::Bash);
    let project = home.project("billing", &project_text(ACCOUNT), true);
    let output = run_hook(&home.context(), Shell::Bash, home.input(&project), no_accounts, |req| {
        Err(FetchError::Failed(
            crate::credentials::CredentialsError::LoginRejected {
                session: req.session.display_name(),
                selector: req.session.selector(),
                account_id: req.account_id.to_owned(),
                role_name: req.role_name.to_owned(),
                target: Box::new(req.session.clone()),
            }
            .into(),
        ))
    });
    home.apply(&output);
    assert_eq!(output.messages.len(), 1);
    assert!(
        output.messages[0].ends_with("Run: aws-sso-login --sso-session corp"),
        "{:?}",
        output.messages
    );
    assert!(output.stdout.ends_with("_AWS_SSO_REFRESH_AT='0'\n"));
}

#[test]
fn an_invalid_project_file_fails_closed() {
    let mut home = Home::new(Shell::Bash);
    let good = home.project("a", &project_text(ACCOUNT), true);
    home.cache_credentials(ACCOUNT, ROLE, "ASIAFIRST", SignedDuration::from_hours(1));
    home.cd(&good);
    std::fs::write(good.join(PROJECT_FILE_NAME), "acount: 1\n").expect("typo");
    let output = home.cd(&good);
    assert_eq!(output.messages.len(), 1);
    assert!(output.messages[0].contains(".aws-sso.yaml"), "{:?}", output.messages);
    assert_eq!(home.var("AWS_ACCESS_KEY_ID"), None);
}

#[test]
fn an_account_name_on_a_cold_cache_fetches_the_index_then_exports() {
    let mut home = Home::new(Shell::Bash);
    let project = home.project("a", "account: Billing\nrole: ReadOnly\n", true);
    home.cache_credentials("555555555555", ROLE, "ASIABILLING", SignedDuration::from_hours(1));
    let mut asked = Vec::new();
    let output = run_hook(
        &home.context(),
        Shell::Bash,
        home.input(&project),
        |need| {
            asked.push(need.clone());
            save_accounts(&home, &[("555555555555", "Billing")]);
            Ok(())
        },
        |req| panic!("cached, yet fetched {}", req.account_id),
    );
    home.apply(&output);
    assert!(output.messages.is_empty(), "{:?}", output.messages);
    assert_eq!(home.var("AWS_ACCESS_KEY_ID"), Some("ASIABILLING"));
    assert_eq!(home.var("AWS_SSO_ACCOUNT_NAME"), Some("Billing"));
    // The index only: the role is in the roles fetched with it.
    assert_eq!(asked.len(), 1, "{asked:?}");
    assert!(!asked[0].is_roles_only() && asked[0].account == "Billing", "{asked:?}");
}

#[test]
fn an_index_too_slow_for_a_prompt_says_it_goes_on_and_tries_again() {
    let mut home = Home::new(Shell::Bash);
    let project = home.project("a", "account: Billing\nrole: ReadOnly\n", true);
    let output = run_hook(
        &home.context(),
        Shell::Bash,
        home.input(&project),
        |_| Err(FetchError::TimedOut(Duration::from_secs(2))),
        |req| panic!("no account yet, yet fetched {}", req.account_id),
    );
    home.apply(&output);
    assert_eq!(output.messages.len(), 1, "{:?}", output.messages);
    assert!(
        output.messages[0].ends_with(
            "names account Billing; fetching the account list of corp takes longer than 2 s, so it goes on in the background and the credentials follow on a later prompt"
        ),
        "{:?}",
        output.messages
    );
    assert_eq!(home.var("AWS_ACCESS_KEY_ID"), None);
    assert!(!output.stdout.ends_with("_AWS_SSO_REFRESH_AT='0'\n"), "tried again later");
    // Told once: the next prompt, while the fetch goes on, says nothing more.
    let output = run_hook(
        &home.context(),
        Shell::Bash,
        home.input(&project),
        |_| Err(FetchError::Busy),
        |req| panic!("no account yet, yet fetched {}", req.account_id),
    );
    assert!(output.messages.is_empty(), "{:?}", output.messages);
}

#[test]
fn fail_closed_unsets_what_was_set() {
    let mut home = Home::new(Shell::Bash);
    let project = home.project("a", &project_text(ACCOUNT), true);
    home.cache_credentials(ACCOUNT, ROLE, "ASIAFIRST", SignedDuration::from_hours(1));
    home.set("AWS_PROFILE", "dev");
    home.cd(&project);
    let output =
        fail_closed(&home.env, Shell::Bash, home.input(&project), "cannot read ~/.aws/config");
    home.apply(&output);
    assert_eq!(output.messages, ["aws-sso: cannot read ~/.aws/config; no credentials are set"]);
    assert_eq!(home.var("AWS_ACCESS_KEY_ID"), None);
    assert_eq!(home.var("AWS_PROFILE"), Some("dev"));
}

const HOSTILE: &str = "it's \"$(touch pwned)\" `id`; \\n\nnext \\ é ☃ $HOME";

#[test]
fn hostile_values_and_paths_are_quoted_for_each_shell() {
    use crate::cache::accounts::{
        AccountCache, CachedAccount, account_cache_path, save_account_cache,
    };
    for shell in Shell::ALL {
        let mut home = Home::new(shell);
        let role = "Role'$(id)`x`;\\";
        let yaml_role = role.replace('\\', "\\\\");
        let yaml_name = HOSTILE.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n");
        let dir = "dir 'with' \"quotes\" $(x) `y`;\nline é";
        let project =
            home.project(dir, &format!("account: \"{yaml_name}\"\nrole: \"{yaml_role}\"\n"), true);
        let ctx = home.context();
        let target = crate::session::resolve(&ctx, &SessionRequest::default()).expect("target");
        let mut cache = AccountCache::new(&target, Timestamp::now());
        cache.accounts.push(CachedAccount {
            account_id: ACCOUNT.into(),
            account_name: HOSTILE.into(),
            email_address: None,
            roles: vec![role.into()],
            roles_fetched_at: Some(Timestamp::now()),
        });
        let path = account_cache_path(&ctx.env, &target).expect("cache path");
        save_account_cache(&path, &cache).expect("save");
        home.cache_credentials(ACCOUNT, role, "ASIAFIRST", SignedDuration::from_hours(1));

        let output = home.cd(&project);
        assert!(output.messages.is_empty(), "{:?}", output.messages);
        assert_eq!(home.var("AWS_SSO_ACCOUNT_NAME"), Some(HOSTILE), "{shell}");
        assert_eq!(home.var("AWS_SSO_ROLE_NAME"), Some(role), "{shell}");
        let profile = format!("{HOSTILE}:{role}");
        assert_eq!(home.var("AWS_SSO_PROFILE"), Some(profile.as_str()), "{shell}");
        let file = project.join(PROJECT_FILE_NAME).to_string_lossy().into_owned();
        let (name_line, file_line) = match shell {
            Shell::Fish => (
                format!("set -gx AWS_SSO_ACCOUNT_NAME {}\n", quote_fish(HOSTILE)),
                format!("set -g _AWS_SSO_FILE {}\n", quote_fish(&file)),
            ),
            _ => (
                format!("export AWS_SSO_ACCOUNT_NAME={}\n", quote_posix(HOSTILE)),
                format!("_AWS_SSO_FILE={}\n", quote_posix(&file)),
            ),
        };
        assert!(output.stdout.contains(&name_line), "{}", output.stdout);
        assert!(output.stdout.contains(&file_line), "{}", output.stdout);
        let state = HookState::decode(Some(&home.state));
        assert_eq!(state.file.as_deref(), Some(file.as_str()));
        assert_eq!(state.account_name.as_deref(), Some(HOSTILE));
        // Staying: the values read back from the shell match, nothing is printed again.
        let output = home.cd(&project);
        assert_eq!(changed_vars(shell, &output.stdout), Vec::<String>::new(), "{shell}");
        // Back out: everything goes.
        home.leave();
        assert_eq!(home.vars, Vars::default(), "{shell}");
    }
}

#[test]
fn the_state_holds_no_secret() {
    let mut home = Home::new(Shell::Bash);
    let project = home.project("a", &project_text(ACCOUNT), true);
    home.cache_credentials(ACCOUNT, ROLE, "ASIAFIRST", SignedDuration::from_hours(1));
    home.cd(&project);
    assert!(home.state.contains("ASIAFIRST"), "{}", home.state);
    assert!(!home.state.contains("SECRET-OF-ASIAFIRST"), "{}", home.state);
    assert!(!home.state.contains("TOKEN-OF-ASIAFIRST"), "{}", home.state);
    assert!(!home.state.contains("ACCESS-TOKEN"), "{}", home.state);
    assert!(!format!("{:?}", HookState::decode(Some(&home.state))).contains("SECRET-OF"));
}

#[test]
fn entering_prints_each_shells_own_code() {
    let expected = [
        (
            Shell::Zsh,
            "unset -v AWS_PROFILE\nexport AWS_ACCESS_KEY_ID='ASIAFIRST'\n",
            "_AWS_SSO_REFRESH_AT='",
        ),
        (
            Shell::Fish,
            "set -e -g AWS_PROFILE\nset -gx AWS_ACCESS_KEY_ID 'ASIAFIRST'\n",
            "set -g _AWS_SSO_REFRESH_AT '",
        ),
    ];
    for (shell, start, last) in expected {
        let mut home = Home::new(shell);
        let project = home.project("a", &project_text(ACCOUNT), true);
        home.cache_credentials(ACCOUNT, ROLE, "ASIAFIRST", SignedDuration::from_hours(1));
        home.set("AWS_PROFILE", "dev");
        let output = home.cd(&project);
        assert!(output.stdout.starts_with(start), "{shell}: {}", output.stdout);
        assert!(
            output.stdout.lines().last().is_some_and(|l| l.starts_with(last)),
            "{}",
            output.stdout
        );
        let output = home.leave();
        let restore = match shell {
            Shell::Fish => "set -gx AWS_PROFILE 'dev'\n",
            _ => "export AWS_PROFILE='dev'\n",
        };
        assert!(output.stdout.contains(restore), "{}", output.stdout);
    }
}

#[test]
fn the_stamp_follows_the_newest_of_the_file_and_the_marker() {
    let mut home = Home::new(Shell::Bash);
    let project = home.project("a", &project_text(ACCOUNT), true);
    home.cache_credentials(ACCOUNT, ROLE, "ASIAFIRST", SignedDuration::from_hours(1));
    let mtime = |p: &Path| modified(p).expect("mtime");
    let long_ago = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
    let file = project.join(PROJECT_FILE_NAME);
    std::fs::File::options()
        .write(true)
        .open(&file)
        .and_then(|f| f.set_modified(long_ago))
        .expect("backdate");
    marker::touch(&home.env).expect("touch");
    home.cd(&project);
    let stamp = home.path(".cache/aws-sso/hook/stamp-4242");
    let marker = marker::path(&home.env).expect("marker");
    assert_eq!(mtime(&stamp), mtime(&marker));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&stamp).expect("stamp").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the stamp is private");
    }
    // Outside every project, with no marker: the stamp is older than anything to come.
    std::fs::remove_file(&marker).expect("rm");
    home.leave();
    assert_eq!(mtime(&stamp), SystemTime::UNIX_EPOCH);
}

#[test]
fn stamps_of_shells_that_are_gone_are_swept() {
    let dir = tempfile::tempdir().expect("tempdir");
    let stamp = |name: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, "").expect("write");
        path
    };
    let own = stamp("stamp-4242");
    // This test's own process is alive; pid 4,000,000,000 cannot be.
    let alive = stamp(&format!("stamp-{}", std::process::id()));
    let gone = stamp("stamp-4000000000");
    let other = stamp("stamp-notes.txt");
    sweep_stamps(dir.path(), &own, SystemTime::now());
    assert!(own.exists() && alive.exists() && other.exists());
    assert_eq!(gone.exists(), !cfg!(target_os = "linux"));
    // A week on, every stamp but this shell's own is stale, alive or not.
    let next_week = SystemTime::now() + STAMP_KEPT_FOR + Duration::from_secs(60);
    sweep_stamps(dir.path(), &own, next_week);
    assert!(own.exists() && other.exists());
    assert!(!alive.exists() && !gone.exists());
}

#[test]
fn debug_output_shows_no_secret() {
    let mut home = Home::new(Shell::Bash);
    let project = home.project("a", &project_text(ACCOUNT), true);
    home.cache_credentials(ACCOUNT, ROLE, "ASIAFIRST", SignedDuration::from_hours(1));
    let output = home.cd(&project);
    assert!(output.stdout.contains("SECRET-OF-ASIAFIRST"));
    let debug = format!("{output:?} {:?}", home.input(&project));
    assert!(!debug.contains("SECRET-OF"), "{debug}");
    assert!(!debug.contains("TOKEN-OF"), "{debug}");
    home.cache_credentials(ACCOUNT, ROLE, "ASIAFIRST", SignedDuration::from_mins(1));
    let Step::NeedsCredentials(pending) = home.plan(&project) else { panic!("due") };
    let debug = format!("{pending:?}");
    assert!(!debug.contains("SECRET-OF") && !debug.contains("TOKEN-OF"), "{debug}");
}

#[test]
fn a_state_that_cannot_be_read_counts_as_nothing_active() {
    assert_eq!(HookState::decode(Some("{not json")), HookState::default());
    assert_eq!(HookState::decode(Some(r#"{"v":2,"set":["AWS_REGION"]}"#)), HookState::default());
    assert_eq!(HookState::decode(None), HookState::default());
    assert_eq!(HookState::default().encode(), "");
}

#[test]
fn the_timeout_comes_from_the_environment() {
    assert_eq!(timeout(&Environment::default()), DEFAULT_TIMEOUT);
    let env = Environment::from_pairs([(env::AWS_SSO_HOOK_TIMEOUT, "0.5")]);
    assert_eq!(timeout(&env), Duration::from_millis(500));
    let env = Environment::from_pairs([(env::AWS_SSO_HOOK_TIMEOUT, "soon")]);
    assert_eq!(timeout(&env), DEFAULT_TIMEOUT);
}

#[test]
fn the_pwd_comes_from_the_shell() {
    let env = Environment::from_pairs([
        (env::PWD, "/p/with space"),
        (env::AWS_SSO_HOOK_SHELL_PID, "77"),
        ("AWS_REGION", "eu-west-1"),
        ("AWS_SECRET_ACCESS_KEY_X", "not ours"),
    ]);
    let input = HookInput::from_env(&env, PathBuf::from("/fallback"));
    assert_eq!(input.pwd, Path::new("/p/with space"));
    assert_eq!(input.shell_pid, Some(77));
    assert_eq!(input.current, Vars::from_pairs([("AWS_REGION", "eu-west-1")]));
    let env = Environment::from_pairs([(env::PWD, "relative")]);
    assert_eq!(HookInput::from_env(&env, PathBuf::from("/fallback")).pwd, Path::new("/fallback"));
}

/// Saves a fresh account cache of `corp` holding `accounts` (id, name), each with role `ROLE`.
fn save_accounts(home: &Home, accounts: &[(&str, &str)]) {
    use crate::cache::accounts::{
        AccountCache, CachedAccount, account_cache_path, save_account_cache,
    };
    let ctx = home.context();
    let target = crate::session::resolve(&ctx, &SessionRequest::default()).expect("target");
    let mut cache = AccountCache::new(&target, Timestamp::now());
    for (id, name) in accounts {
        cache.accounts.push(CachedAccount {
            account_id: (*id).into(),
            account_name: (*name).into(),
            email_address: None,
            roles: vec![ROLE.into()],
            roles_fetched_at: Some(Timestamp::now()),
        });
    }
    let path = account_cache_path(&ctx.env, &target).expect("cache path");
    save_account_cache(&path, &cache).expect("save");
}

#[test]
fn a_project_file_whose_prefix_match_changes_meaning_is_refused() {
    let mut home = Home::new(Shell::Bash);
    // `dev` only prefixes `dev-sandbox`: a project file means no account by a prefix.
    save_accounts(&home, &[("111111111111", "dev-sandbox")]);
    home.cache_credentials("111111111111", ROLE, "ASIASANDBOX", SignedDuration::from_hours(1));
    let project = home.project("a", "account: dev\nrole: ReadOnly\n", true);
    let output = home.cd(&project);
    assert_eq!(home.var("AWS_ACCESS_KEY_ID"), None, "{:?}", output.messages);
    assert!(output.messages[0].contains("dev"), "{:?}", output.messages);

    // Allowed while `dev` was 222222222222; after the list changed it names another account.
    save_accounts(&home, &[("222222222222", "dev")]);
    let file = load_project_file(&project.join(PROJECT_FILE_NAME)).expect("valid");
    let ctx = home.context();
    let pinned = crate::resolve::account_id_to_pin(&ctx, &file);
    assert_eq!(pinned.as_deref(), Some("222222222222"));
    trust::allow(&home.env, &file, pinned.as_deref()).expect("allow");
    home.cache_credentials("222222222222", ROLE, "ASIADEV", SignedDuration::from_hours(1));
    home.cache_credentials("333333333333", ROLE, "ASIAPROD", SignedDuration::from_hours(1));
    home.cd(&project);
    assert_eq!(home.var("AWS_ACCESS_KEY_ID"), Some("ASIADEV"));

    save_accounts(&home, &[("333333333333", "dev")]);
    let output = home.cd(&project);
    assert_eq!(home.var("AWS_ACCESS_KEY_ID"), None, "{:?}", output.messages);
    assert_eq!(output.messages.len(), 1, "{:?}", output.messages);
    let message = &output.messages[0];
    assert!(
        message.contains(
            "names account dev, which was 222222222222 when the file was allowed but is now 333333333333"
        ),
        "{message}"
    );
    assert!(message.contains("then run: aws-sso-env allow "), "{message}");
}

#[test]
fn a_lone_secret_key_or_session_token_of_the_user_never_reaches_the_state() {
    for lone in [shell::AWS_SECRET_ACCESS_KEY, shell::AWS_SESSION_TOKEN] {
        let mut home = Home::new(Shell::Bash);
        let project = home.project("a", &project_text(ACCOUNT), true);
        home.cache_credentials(ACCOUNT, ROLE, "ASIAFIRST", SignedDuration::from_hours(1));
        home.set(lone, "USERS-OWN-SECRET");
        let output = home.cd(&project);
        assert!(!output.stdout.contains("USERS-OWN-SECRET"), "{lone}: {}", output.stdout);
        assert!(!home.state.contains("USERS-OWN-SECRET"), "{lone}: {}", home.state);
        assert_eq!(home.var(lone), Some("USERS-OWN-SECRET"), "left alone");
        assert_eq!(home.var("AWS_ACCESS_KEY_ID"), None, "no mix of theirs and ours");
        assert_eq!(
            output.messages,
            [format!(
                "aws-sso: this shell has credentials of its own ({lone}); leaving them alone"
            )]
        );
        home.leave();
        assert_eq!(home.var(lone), Some("USERS-OWN-SECRET"), "{lone}");
    }
    // And the codec never writes the value of a secret variable, whatever the state holds.
    let mut state = HookState { set: vec!["AWS_REGION".into()], ..HookState::default() };
    for name in [shell::AWS_SECRET_ACCESS_KEY, shell::AWS_SESSION_TOKEN] {
        state.saved.insert(name.into(), Some("USERS-OWN-SECRET".into()));
    }
    state.saved.insert("AWS_REGION".into(), Some("us-east-1".into()));
    let text = state.encode();
    assert!(!text.contains("USERS-OWN-SECRET"), "{text}");
    assert!(text.contains("us-east-1"), "{text}");
}

#[cfg(unix)]
#[test]
fn a_symlink_planted_at_a_stamp_is_replaced_never_followed() {
    use std::os::unix::fs::PermissionsExt as _;
    let home = Home::new(Shell::Bash);
    let stamp = home.path(".cache/aws-sso/hook/stamp-4242");
    std::fs::create_dir_all(stamp.parent().expect("dir")).expect("mkdir");
    let victim = home.path("victim");
    std::fs::write(&victim, "precious\n").expect("write");
    let before = std::fs::metadata(&victim).and_then(|m| m.modified()).expect("mtime");
    std::os::unix::fs::symlink(&victim, &stamp).expect("plant");
    let long_ago = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
    assert_eq!(write(&home.env, Some(PID), Some(long_ago)), Some(stamp.clone()));
    assert_eq!(std::fs::read_to_string(&victim).expect("victim"), "precious\n");
    let after = std::fs::metadata(&victim).and_then(|m| m.modified()).expect("mtime");
    assert_eq!(after, before, "the target's mtime is untouched");
    let meta = std::fs::symlink_metadata(&stamp).expect("stamp");
    assert!(meta.file_type().is_file());
    assert_eq!(meta.modified().expect("mtime"), long_ago);
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    // A stamp left with a looser mode is made private again.
    std::fs::set_permissions(&stamp, std::fs::Permissions::from_mode(0o666)).expect("chmod");
    write(&home.env, Some(PID), Some(long_ago)).expect("stamp");
    let mode = std::fs::metadata(&stamp).expect("stamp").permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn escape_sequences_in_a_directory_name_never_reach_the_terminal() {
    let mut home = Home::new(Shell::Bash);
    let project = home.project("evil\u{1b}]0;pwned\u{7}\u{1b}[2J", &project_text(ACCOUNT), false);
    let output = home.cd(&project);
    assert_eq!(output.messages.len(), 1, "{:?}", output.messages);
    let message = &output.messages[0];
    assert!(!message.chars().any(|c| c.is_control()), "{message:?}");
    assert!(message.contains("evil\\u{1b}]0;pwned\\u{7}\\u{1b}[2J"), "{message}");
}

#[test]
fn the_hook_honours_aws_sso_session_as_the_commands_do() {
    let mut home = Home::new(Shell::Bash);
    let config = home.path(".aws/config");
    let mut text = std::fs::read_to_string(&config).expect("config");
    text.push_str(
        "[sso-session lab]\nsso_start_url = https://lab.awsapps.com/start\nsso_region = eu-west-1\n",
    );
    std::fs::write(&config, text).expect("config");
    let project = home.project("a", &project_text(ACCOUNT), true);
    home.cache_credentials(ACCOUNT, ROLE, "ASIACORP", SignedDuration::from_hours(1));
    // Two sessions and no choice: the hook says how to choose.
    let output = home.cd(&project);
    assert_eq!(home.var("AWS_ACCESS_KEY_ID"), None);
    assert!(output.messages[0].contains("AWS_SSO_SESSION"), "{:?}", output.messages);
    // The choice it names is the one it follows.
    home.env.set(env::AWS_SSO_SESSION.to_owned(), "corp".to_owned());
    let output = home.cd(&project);
    assert_eq!(home.var("AWS_ACCESS_KEY_ID"), Some("ASIACORP"), "{:?}", output.messages);
    home.env.set(env::AWS_SSO_SESSION.to_owned(), "lab".to_owned());
    let output = home.cd(&project);
    assert_eq!(home.var("AWS_ACCESS_KEY_ID"), None, "not logged in to lab");
    assert!(output.messages[0].contains("not logged in to lab"), "{:?}", output.messages);
}

#[test]
fn a_project_file_names_its_role_exactly_too() {
    let mut home = Home::new(Shell::Bash);
    save_accounts(&home, &[(ACCOUNT, "billing")]);
    home.cache_credentials(ACCOUNT, ROLE, "ASIAFIRST", SignedDuration::from_hours(1));
    // `Read` is part of `ReadOnly`: enough on the command line, not in a project file.
    let project = home.project("a", "account: billing\nrole: Read\n", true);
    let output = home.cd(&project);
    assert_eq!(home.var("AWS_ACCESS_KEY_ID"), None, "{:?}", output.messages);
    assert!(output.messages[0].contains("no role matching \"Read\""), "{:?}", output.messages);
    let project = home.project("b", "account: billing\nrole: ReadOnly\n", true);
    home.cd(&project);
    assert_eq!(home.var("AWS_ACCESS_KEY_ID"), Some("ASIAFIRST"));
}

#[test]
fn a_file_allowed_before_the_account_list_was_cached_keeps_its_first_meaning() {
    let mut home = Home::new(Shell::Bash);
    // Allowed with no account list: the allow could not record which account `dev` meant.
    let project = home.project("a", "account: dev\nrole: ReadOnly\n", true);
    let file = load_project_file(&project.join(PROJECT_FILE_NAME)).expect("valid");
    assert_eq!(trust::allowed_account_id(&home.env, &file), None);

    // The first prompt that resolves it records the account it meant then.
    save_accounts(&home, &[("222222222222", "dev")]);
    home.cache_credentials("222222222222", ROLE, "ASIADEV", SignedDuration::from_hours(1));
    home.cache_credentials("333333333333", ROLE, "ASIAPROD", SignedDuration::from_hours(1));
    home.cd(&project);
    assert_eq!(home.var("AWS_ACCESS_KEY_ID"), Some("ASIADEV"));
    assert_eq!(trust::allowed_account_id(&home.env, &file).as_deref(), Some("222222222222"));
    home.leave();

    // Then `dev` comes to mean another account: refused, as for a file allowed with the id.
    save_accounts(&home, &[("333333333333", "dev")]);
    let output = home.cd(&project);
    assert_eq!(home.var("AWS_ACCESS_KEY_ID"), None, "{:?}", output.messages);
    let message = output.messages.join("\n");
    assert!(
        message
            .contains("which was 222222222222 when the file was allowed but is now 333333333333"),
        "{message}"
    );
}

fn no_accounts(need: &crate::resolve::AccountsNeed) -> Result<(), FetchError> {
    panic!("unexpected fetch of accounts: {need:?}")
}

const USED_ACCOUNT: &str = "210987654321";
const USED_ROLE: &str = "Admin";

impl Home {
    /// What `aws-sso use` records (`Some`), or `--clear` removes (`None`), before its hook run.
    fn choose(&mut self, used: Option<Used>) {
        let mut state = HookState::decode(Some(&self.state));
        state.used = used;
        self.state = state.encode();
    }
}

fn used(account_name: Option<&str>) -> Used {
    Used {
        account_id: USED_ACCOUNT.to_owned(),
        account_name: account_name.map(str::to_owned),
        role_name: USED_ROLE.to_owned(),
        region: None,
        sso_session: Some("corp".to_owned()),
        profile: None,
    }
}

#[test]
fn a_used_role_wins_over_the_project_everywhere_and_clearing_gives_back_what_was_there() {
    for shell in Shell::ALL {
        let mut home = Home::new(shell);
        let project = home.project("billing", &project_text(ACCOUNT), true);
        home.cache_credentials(ACCOUNT, ROLE, "ASIAPROJECT", SignedDuration::from_hours(1));
        home.cache_credentials(USED_ACCOUNT, USED_ROLE, "ASIAUSED", SignedDuration::from_hours(1));
        home.set("AWS_PROFILE", "dev");
        home.set("AWS_REGION", "us-east-1");
        let before = home.vars.clone();
        home.cd(&project);
        assert_eq!(home.var("AWS_ACCESS_KEY_ID"), Some("ASIAPROJECT"));

        home.choose(Some(used(Some("prod"))));
        let output = home.cd(&project);
        assert_eq!(output.messages, Vec::<String>::new());
        assert_eq!(home.var("AWS_ACCESS_KEY_ID"), Some("ASIAUSED"), "{shell}");
        assert_eq!(home.var("AWS_SSO_PROFILE"), Some("prod:Admin"), "{shell}");
        assert_eq!(home.var("AWS_SSO_ACCOUNT_ID"), Some(USED_ACCOUNT), "{shell}");
        // No region of its own: the user's comes back, not the project's.
        assert_eq!(home.var("AWS_REGION"), Some("us-east-1"), "{shell}");
        assert_eq!(home.var("AWS_PROFILE"), None, "{shell}");
        let exported = parse_output(shell, &output.stdout)
            .into_iter()
            .find(|(name, _)| name == USED_VAR)
            .and_then(|(_, value)| value)
            .expect("the use is exported");
        assert_eq!(serde_json::from_str::<Used>(&exported).expect("JSON"), used(Some("prod")));
        let state = HookState::decode(Some(&home.state));
        assert_eq!(state.used, Some(used(Some("prod"))));
        assert_eq!(state.file, None, "{shell}");

        // Anywhere, and staying prints nothing but the bookkeeping.
        home.leave();
        assert_eq!(home.var("AWS_ACCESS_KEY_ID"), Some("ASIAUSED"), "{shell}");
        let again = home.leave();
        assert_eq!(changed_vars(shell, &again.stdout), Vec::<String>::new(), "{shell}");

        // Cleared outside the project: what the shell had; inside: the project's.
        home.choose(None);
        home.leave();
        assert_eq!(home.vars, before, "{shell}");
        assert_eq!(HookState::decode(Some(&home.state)).used, None);
        home.cd(&project);
        assert_eq!(home.var("AWS_ACCESS_KEY_ID"), Some("ASIAPROJECT"), "{shell}");
    }
}

#[test]
fn the_export_of_a_use_is_unset_when_it_is_cleared() {
    let mut home = Home::new(Shell::Bash);
    home.cache_credentials(USED_ACCOUNT, USED_ROLE, "ASIAUSED", SignedDuration::from_hours(1));
    home.choose(Some(used(None)));
    let pwd = home.dir.path().to_path_buf();
    let output = home.leave();
    let exported = serde_json::to_string(&used(None)).expect("JSON");
    assert!(output.stdout.contains(&format!("export {USED_VAR}=")), "{}", output.stdout);
    // The shell holds it now: the same run again prints nothing for it.
    let mut input = home.input(&pwd);
    input.used_export = Some(exported.clone());
    let same = run_hook(&home.context(), Shell::Bash, input, |_| panic!(), |_| panic!());
    assert!(!same.stdout.contains(USED_VAR), "{}", same.stdout);
    home.choose(None);
    let mut input = home.input(&pwd);
    input.used_export = Some(exported);
    let cleared = run_hook(&home.context(), Shell::Bash, input, |_| panic!(), |_| panic!());
    let unset = parse_output(Shell::Bash, &cleared.stdout);
    assert!(unset.contains(&(USED_VAR.to_owned(), None)), "{}", cleared.stdout);
}

#[test]
fn a_used_role_is_refreshed_and_survives_a_logout() {
    let mut home = Home::new(Shell::Zsh);
    home.cache_credentials(USED_ACCOUNT, USED_ROLE, "ASIAUSED", SignedDuration::from_mins(4));
    home.choose(Some(used(None)));
    let pwd = home.dir.path().to_path_buf();
    let Step::NeedsCredentials(pending) = home.plan(&pwd) else { panic!("due for refresh") };
    assert_eq!(pending.request().account_id, USED_ACCOUNT);
    assert_eq!(pending.request().role_name, USED_ROLE);
    let fresh = credentials(USED_ACCOUNT, "ASIAFRESH", SignedDuration::from_hours(1));
    let output = pending.finish(&home.env.clone(), Ok(fresh));
    home.apply(&output);
    assert_eq!(home.var("AWS_ACCESS_KEY_ID"), Some("ASIAFRESH"));
    assert_eq!(home.var("AWS_SSO_PROFILE"), Some("210987654321:Admin"));

    // Logged out: unset and told, but the choice stays for the next login.
    std::fs::remove_file(home.context().caches.token_path("corp")).expect("log out");
    let output = home.leave();
    assert_eq!(home.var("AWS_ACCESS_KEY_ID"), None);
    assert!(output.messages.iter().any(|m| m.contains("aws-sso-login")), "{:?}", output.messages);
    assert_eq!(HookState::decode(Some(&home.state)).used, Some(used(None)));
    home.login(SignedDuration::from_hours(8));
    home.cache_credentials(USED_ACCOUNT, USED_ROLE, "ASIAAGAIN", SignedDuration::from_hours(1));
    home.leave();
    assert_eq!(home.var("AWS_ACCESS_KEY_ID"), Some("ASIAAGAIN"));
}

#[test]
fn hostile_names_of_a_used_account_are_quoted_and_the_state_holds_no_secret() {
    for shell in Shell::ALL {
        let mut home = Home::new(shell);
        home.cache_credentials(USED_ACCOUNT, USED_ROLE, "ASIAUSED", SignedDuration::from_hours(1));
        let hostile = "it's \"x\" $(touch pwned) `id` ; \\ \n end";
        home.choose(Some(used(Some(hostile))));
        let output = home.leave();
        assert_eq!(home.var("AWS_SSO_ACCOUNT_NAME"), Some(hostile), "{shell}");
        assert_eq!(home.var("AWS_SSO_PROFILE"), Some(format!("{hostile}:Admin").as_str()));
        let exported = parse_output(shell, &output.stdout)
            .into_iter()
            .find(|(name, _)| name == USED_VAR)
            .and_then(|(_, value)| value)
            .expect("exported");
        assert_eq!(serde_json::from_str::<Used>(&exported).expect("JSON"), used(Some(hostile)));
        for secret in ["SECRET-OF-ASIAUSED", "TOKEN-OF-ASIAUSED"] {
            assert!(!home.state.contains(secret), "{shell}");
            assert!(!exported.contains(secret), "{shell}");
        }
    }
}
