//! What the emulated service remembers: its settings, the directory of accounts and roles, and
//! the registered clients, pending authorizations, sessions and tokens.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// The device grant type of RFC 8628.
pub const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
pub const AUTHORIZATION_CODE_GRANT: &str = "authorization_code";
pub const REFRESH_TOKEN_GRANT: &str = "refresh_token";

/// Roles handed out by `--roles-per-account`, in this order.
const ROLE_NAMES: &[&str] = &[
    "AdministratorAccess",
    "ReadOnlyAccess",
    "PowerUserAccess",
    "ViewOnlyAccess",
    "Billing",
    "SecurityAudit",
    "DatabaseAdministrator",
    "NetworkAdministrator",
    "SystemAdministrator",
    "DataScientist",
    "SupportUser",
    "DeveloperAccess",
];

/// How a device authorization gets approved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceApproval {
    /// Approved once this many polls have been answered `authorization_pending`.
    AfterPolls(u32),
    /// The user refuses: the first poll gets `AccessDeniedException`.
    Deny,
    /// Nobody approves: pending until the code expires.
    Never,
    /// Approved when someone opens `verificationUriComplete`.
    Browser,
}

impl FromStr for DeviceApproval {
    type Err = String;

    fn from_str(text: &str) -> Result<DeviceApproval, String> {
        match text {
            "deny" => Ok(DeviceApproval::Deny),
            "never" => Ok(DeviceApproval::Never),
            "browser" => Ok(DeviceApproval::Browser),
            _ => text
                .strip_prefix("after:")
                .and_then(|polls| polls.parse().ok())
                .map(DeviceApproval::AfterPolls)
                .ok_or_else(|| {
                    format!("`{text}` is not one of after:N (N a number), deny, never, browser")
                }),
        }
    }
}

impl fmt::Display for DeviceApproval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceApproval::AfterPolls(polls) => write!(f, "after:{polls}"),
            DeviceApproval::Deny => f.write_str("deny"),
            DeviceApproval::Never => f.write_str("never"),
            DeviceApproval::Browser => f.write_str("browser"),
        }
    }
}

/// What the `/authorize` page decides on behalf of the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AuthorizeDecision {
    Approve,
    Deny,
}

/// Every knob of the emulated service (faults excepted). Durations in seconds.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `http://127.0.0.1:PORT`, used in the URLs the service hands out.
    pub base_url: String,
    pub device_code_ttl: u64,
    pub interval: u64,
    pub device_approval: DeviceApproval,
    pub slow_down: u32,
    pub authorize: AuthorizeDecision,
    pub token_ttl: u64,
    pub refresh_tokens: bool,
    pub rotate_refresh_tokens: bool,
    pub registration_ttl: u64,
    pub credentials_ttl: u64,
    /// Where `HEAD`/`GET /start` redirects, as a start URL on a custom domain does; `None`: the
    /// page answers 200 like the portal itself.
    pub start_redirect: Option<String>,
    /// Role ARNs that STS AssumeRole refuses with AccessDenied (`--deny-assume-role`); every
    /// other well-formed role ARN may be assumed.
    pub deny_assume_role: Vec<String>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            base_url: "http://127.0.0.1:0".to_owned(),
            device_code_ttl: 600,
            interval: 1,
            device_approval: DeviceApproval::AfterPolls(1),
            slow_down: 0,
            authorize: AuthorizeDecision::Approve,
            token_ttl: 28_800,
            refresh_tokens: true,
            rotate_refresh_tokens: true,
            registration_ttl: 90 * 24 * 3600,
            credentials_ttl: 3600,
            start_redirect: None,
            deny_assume_role: Vec::new(),
        }
    }
}

/// An account the user is assigned to, with the roles they may assume in it (sorted by name;
/// possibly none, as for an account whose only assignment was removed).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Account {
    pub account_id: String,
    pub account_name: String,
    pub email_address: String,
    pub roles: Vec<String>,
}

/// How generated accounts are named.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum NameStyle {
    /// `account-001`, `account-002`, …
    #[default]
    Plain,
    /// Names with quotes, `$`, backticks, semicolons, non-ASCII letters and duplicates, the
    /// same on every run, for trying out what a client does with them.
    Hostile,
}

/// Names of hostile style, used in turn; `{n}` is the account's number. Two in a row are the
/// same, so any six or more accounts hold two with the same name and different ids.
const HOSTILE_NAMES: &[&str] = &[
    r#"it's "prod" {n}"#,
    "$HOME ${PATH} $(id) {n}",
    "`touch pwned` {n}",
    "x; touch pwned; {n}",
    "Zürich café Ωμέγα 東京 {n}",
    "same name",
    "same name",
    r"-n --help, 100% {} \ a/b | <c> & *? {n}",
];

/// What to generate: `accounts` accounts with the first `roles_per_account` roles each, but the
/// first `without_roles` of them with none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Generated {
    pub accounts: usize,
    pub roles_per_account: usize,
    pub without_roles: usize,
    pub name_style: NameStyle,
}

/// The accounts and roles the portal shows, in the order it lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directory {
    pub accounts: Vec<Account>,
    /// Position of each account in `accounts` by id, so a lookup does not scan thousands.
    by_id: HashMap<String, usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Fixture {
    accounts: Vec<Account>,
}

impl Directory {
    /// `accounts` accounts named `account-001`…, each with the first `roles_per_account` roles.
    #[cfg(test)]
    pub fn generate(accounts: usize, roles_per_account: usize) -> Result<Directory, String> {
        Directory::generate_with(Generated {
            accounts,
            roles_per_account,
            without_roles: 0,
            name_style: NameStyle::Plain,
        })
    }

    /// Accounts with ids 100000000001…, e-mails aws+account-001@example.com… and names in
    /// `spec.name_style`.
    pub fn generate_with(spec: Generated) -> Result<Directory, String> {
        let Generated { accounts, roles_per_account, without_roles, name_style } = spec;
        if !(1..=ROLE_NAMES.len()).contains(&roles_per_account) {
            return Err(format!(
                "--roles-per-account must be between 1 and {} (got {roles_per_account})",
                ROLE_NAMES.len()
            ));
        }
        if accounts > 99_999 {
            return Err(format!("--accounts must be at most 99999 (got {accounts})"));
        }
        if without_roles > accounts {
            return Err(format!(
                "--accounts-without-roles ({without_roles}) cannot exceed --accounts ({accounts})"
            ));
        }
        let roles: Vec<String> =
            ROLE_NAMES[..roles_per_account].iter().map(|r| (*r).to_owned()).collect();
        let accounts = (1..=accounts)
            .map(|n| Account {
                account_id: format!("1000000{n:05}"),
                account_name: match name_style {
                    NameStyle::Plain => format!("account-{n:03}"),
                    NameStyle::Hostile => HOSTILE_NAMES[(n - 1) % HOSTILE_NAMES.len()]
                        .replace("{n}", &format!("{n:03}")),
                },
                email_address: format!("aws+account-{n:03}@example.com"),
                roles: if n <= without_roles { Vec::new() } else { roles.clone() },
            })
            .collect();
        Ok(Directory::new(accounts))
    }

    /// Reads `{"accounts":[{"accountId","accountName","emailAddress","roles":[…]}]}`. Names may
    /// be any text and repeat; ids must not repeat.
    pub fn from_fixture(json: &str) -> Result<Directory, String> {
        let fixture: Fixture = serde_json::from_str(json).map_err(|e| e.to_string())?;
        let mut seen = std::collections::HashSet::new();
        for account in &fixture.accounts {
            if account.account_id.is_empty() {
                return Err(format!("account {:?} has an empty accountId", account.account_name));
            }
            if !seen.insert(account.account_id.as_str()) {
                return Err(format!("account {} appears twice", account.account_id));
            }
        }
        Ok(Directory::new(fixture.accounts))
    }

    fn new(mut accounts: Vec<Account>) -> Directory {
        for account in &mut accounts {
            account.roles.sort();
            account.roles.dedup();
        }
        let by_id = accounts
            .iter()
            .enumerate()
            .map(|(position, account)| (account.account_id.clone(), position))
            .collect();
        Directory { accounts, by_id }
    }

    pub fn account(&self, account_id: &str) -> Option<&Account> {
        self.by_id.get(account_id).map(|position| &self.accounts[*position])
    }
}

/// A client registered through RegisterClient.
#[derive(Debug, Clone)]
pub struct Client {
    pub secret: String,
    pub name: String,
    pub scopes: Vec<String>,
    /// `None` when the client registered without `grantTypes`.
    pub grant_types: Option<Vec<String>>,
    pub redirect_uris: Vec<String>,
    pub issuer_url: Option<String>,
    pub registered_at: u64,
    pub expires_at: u64,
}

impl Client {
    /// A client registered without grant types is a device-flow client (as the AWS CLI
    /// registers them) and may refresh its tokens.
    pub fn allows_grant(&self, grant: &str) -> bool {
        match &self.grant_types {
            Some(grants) if !grants.is_empty() => grants.iter().any(|g| g == grant),
            _ => grant == DEVICE_GRANT || grant == REFRESH_TOKEN_GRANT,
        }
    }
}

/// The answer to one poll of a device code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollOutcome {
    Approved,
    Pending,
    SlowDown,
    Denied,
    Expired,
    AlreadyUsed,
}

/// A device code from StartDeviceAuthorization and where its approval stands.
#[derive(Debug, Clone)]
pub struct DeviceAuthorization {
    pub client_id: String,
    pub user_code: String,
    pub expires_at: u64,
    pub approved_in_browser: bool,
    pub pending_answers: u32,
    pub slow_downs_left: u32,
    pub denied: bool,
    pub used: bool,
}

impl DeviceAuthorization {
    /// Answers a CreateToken poll at `now` (epoch ms) and moves the state machine on.
    pub fn poll(&mut self, approval: DeviceApproval, now: u64) -> PollOutcome {
        if self.used {
            return PollOutcome::AlreadyUsed;
        }
        if now >= self.expires_at {
            return PollOutcome::Expired;
        }
        if self.slow_downs_left > 0 {
            self.slow_downs_left -= 1;
            return PollOutcome::SlowDown;
        }
        let approved = self.approved_in_browser
            || matches!(approval, DeviceApproval::AfterPolls(n) if self.pending_answers >= n);
        if approved {
            self.used = true;
            return PollOutcome::Approved;
        }
        if approval == DeviceApproval::Deny || self.denied {
            self.denied = true;
            return PollOutcome::Denied;
        }
        self.pending_answers += 1;
        PollOutcome::Pending
    }
}

/// A code handed out by `/authorize`, waiting to be exchanged with its PKCE verifier.
#[derive(Debug, Clone)]
pub struct AuthorizationCode {
    pub client_id: String,
    pub redirect_uri: String,
    pub code_challenge: String,
    pub expires_at: u64,
    pub used: bool,
}

/// An issued access token; tokens of one login share a session, which logout ends.
#[derive(Debug, Clone)]
pub struct AccessToken {
    pub session: u64,
    pub expires_at: u64,
}

#[derive(Debug, Clone)]
pub struct RefreshToken {
    pub client_id: String,
    pub session: u64,
}

/// Role credentials GetRoleCredentials or STS AssumeRole gave out.
#[derive(Debug, Clone, Default)]
pub struct IssuedCredentials {
    pub secret_access_key: String,
    pub session_token: String,
    /// Epoch ms.
    pub expires_at: u64,
    /// Whose credentials they are, as STS GetCallerIdentity tells it.
    pub identity: Identity,
}

/// The assumed-role session that issued credentials stand for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    /// `aws`, `aws-cn`, …
    pub partition: String,
    pub account: String,
    /// `AROA…:<session name>`.
    pub user_id: String,
    /// `arn:<partition>:sts::<account>:assumed-role/<role name>/<session name>`.
    pub arn: String,
}

/// How long issued credentials are remembered past their expiry, so that using them is answered
/// "expired" rather than "unknown", as the services do.
const EXPIRED_CREDENTIALS_KEPT_MS: u64 = 24 * 3600 * 1000;

/// Everything the service remembers between requests.
#[derive(Debug)]
pub struct State {
    pub settings: Settings,
    pub directory: Directory,
    pub clients: HashMap<String, Client>,
    pub device_codes: HashMap<String, DeviceAuthorization>,
    pub auth_codes: HashMap<String, AuthorizationCode>,
    pub access_tokens: HashMap<String, AccessToken>,
    pub refresh_tokens: HashMap<String, RefreshToken>,
    /// Role credentials handed out, by access key id, for the federation endpoint to check.
    pub role_credentials: HashMap<String, IssuedCredentials>,
    /// Console sign-in tokens, each with when it stops working (epoch ms).
    pub signin_tokens: HashMap<String, u64>,
    /// Key of the paging-token MAC; random per run so tokens cannot be forged.
    pub page_key: [u8; 32],
    next_session: u64,
}

impl State {
    pub fn new(settings: Settings, directory: Directory) -> State {
        let mut page_key = [0; 32];
        fill_random(&mut page_key);
        State {
            settings,
            directory,
            clients: HashMap::new(),
            device_codes: HashMap::new(),
            auth_codes: HashMap::new(),
            access_tokens: HashMap::new(),
            refresh_tokens: HashMap::new(),
            role_credentials: HashMap::new(),
            signin_tokens: HashMap::new(),
            page_key,
            next_session: 1,
        }
    }

    /// Remembers credentials handed out at `now` (epoch ms) under their access key id, and
    /// forgets those expired for more than a day.
    pub fn remember_credentials(
        &mut self,
        access_key_id: String,
        issued: IssuedCredentials,
        now: u64,
    ) {
        self.role_credentials
            .retain(|_, old| old.expires_at.saturating_add(EXPIRED_CREDENTIALS_KEPT_MS) > now);
        self.role_credentials.insert(access_key_id, issued);
    }

    pub fn new_session(&mut self) -> u64 {
        self.next_session += 1;
        self.next_session
    }

    /// Ends a login: every access and refresh token of the session stops working.
    pub fn end_session(&mut self, session: u64) {
        self.access_tokens.retain(|_, token| token.session != session);
        self.refresh_tokens.retain(|_, token| token.session != session);
    }

    /// The session of a usable access token at `now` (epoch ms).
    pub fn session_of(&self, access_token: &str, now: u64) -> Option<u64> {
        self.access_tokens
            .get(access_token)
            .filter(|token| now < token.expires_at)
            .map(|token| token.session)
    }
}

/// Fills a buffer from the operating system's generator.
pub fn fill_random(buffer: &mut [u8]) {
    if let Err(error) = getrandom::fill(buffer) {
        // Without randomness every token would be guessable; no emulator is better than that.
        panic!("the operating system's random generator failed: {error}");
    }
}

/// An opaque random token: `bytes` random bytes in unpadded base64url.
pub fn random_token(bytes: usize) -> String {
    let mut buffer = vec![0; bytes];
    fill_random(&mut buffer);
    URL_SAFE_NO_PAD.encode(buffer)
}

/// `len` characters drawn from `alphabet` (at most 256 characters).
pub fn random_chars(alphabet: &[u8], len: usize) -> String {
    let mut buffer = vec![0; len];
    fill_random(&mut buffer);
    buffer.iter().map(|b| char::from(alphabet[usize::from(*b) % alphabet.len()])).collect()
}

/// The S256 code challenge of RFC 7636: unpadded base64url of SHA-256 of the verifier.
pub fn pkce_challenge(code_verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(code_verifier.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: u64 = 60_000;

    fn device_code() -> DeviceAuthorization {
        DeviceAuthorization {
            client_id: "client".to_owned(),
            user_code: "ABCD-EFGH".to_owned(),
            expires_at: 10 * MINUTE,
            approved_in_browser: false,
            pending_answers: 0,
            slow_downs_left: 0,
            denied: false,
            used: false,
        }
    }

    #[test]
    fn pkce_matches_the_rfc_7636_test_vector() {
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn after_n_answers_pending_n_times_then_approves_once() {
        let mut code = device_code();
        let approval = DeviceApproval::AfterPolls(2);
        assert_eq!(code.poll(approval, 0), PollOutcome::Pending);
        assert_eq!(code.poll(approval, 1), PollOutcome::Pending);
        assert_eq!(code.poll(approval, 2), PollOutcome::Approved);
        assert_eq!(code.poll(approval, 3), PollOutcome::AlreadyUsed);
    }

    #[test]
    fn after_zero_is_pre_authorized() {
        let mut code = device_code();
        assert_eq!(code.poll(DeviceApproval::AfterPolls(0), 0), PollOutcome::Approved);
    }

    #[test]
    fn slow_down_comes_before_pending_and_does_not_count_as_pending() {
        let mut code = device_code();
        code.slow_downs_left = 2;
        let approval = DeviceApproval::AfterPolls(1);
        assert_eq!(code.poll(approval, 0), PollOutcome::SlowDown);
        assert_eq!(code.poll(approval, 0), PollOutcome::SlowDown);
        assert_eq!(code.poll(approval, 0), PollOutcome::Pending);
        assert_eq!(code.poll(approval, 0), PollOutcome::Approved);
    }

    #[test]
    fn deny_refuses_from_the_first_poll_on() {
        let mut code = device_code();
        assert_eq!(code.poll(DeviceApproval::Deny, 0), PollOutcome::Denied);
        assert_eq!(code.poll(DeviceApproval::Deny, 1), PollOutcome::Denied);
    }

    #[test]
    fn never_stays_pending_until_the_code_expires() {
        let mut code = device_code();
        assert_eq!(code.poll(DeviceApproval::Never, 0), PollOutcome::Pending);
        assert_eq!(code.poll(DeviceApproval::Never, 10 * MINUTE - 1), PollOutcome::Pending);
        assert_eq!(code.poll(DeviceApproval::Never, 10 * MINUTE), PollOutcome::Expired);
    }

    #[test]
    fn browser_waits_for_the_verification_page() {
        let mut code = device_code();
        assert_eq!(code.poll(DeviceApproval::Browser, 0), PollOutcome::Pending);
        assert_eq!(code.poll(DeviceApproval::Browser, 0), PollOutcome::Pending);
        code.approved_in_browser = true;
        assert_eq!(code.poll(DeviceApproval::Browser, 0), PollOutcome::Approved);
    }

    #[test]
    fn approval_modes_parse_and_print_back() {
        for text in ["after:0", "after:3", "deny", "never", "browser"] {
            assert_eq!(text.parse::<DeviceApproval>().map(|a| a.to_string()), Ok(text.to_owned()));
        }
        assert!("after:".parse::<DeviceApproval>().is_err());
        assert!("sometimes".parse::<DeviceApproval>().is_err());
    }

    #[test]
    fn generated_directory_is_deterministic_with_sorted_roles() {
        let directory = Directory::generate(3, 2).unwrap();
        assert_eq!(directory.accounts.len(), 3);
        let first = &directory.accounts[0];
        assert_eq!(first.account_id, "100000000001");
        assert_eq!(first.account_name, "account-001");
        assert_eq!(first.email_address, "aws+account-001@example.com");
        assert_eq!(first.roles, ["AdministratorAccess", "ReadOnlyAccess"]);
        assert_eq!(directory, Directory::generate(3, 2).unwrap());
        assert!(Directory::generate(3, 0).is_err());
    }

    #[test]
    fn fixtures_take_accounts_without_roles_and_any_names() {
        let fixture = r#"{"accounts":[
            {"accountId":"111122223333","accountName":"prod","emailAddress":"p@example.com",
             "roles":["ReadOnlyAccess","AdministratorAccess"]},
            {"accountId":"444455556666","accountName":"it's \"$(id)\"; `x` Zürich",
             "emailAddress":"e","roles":[]},
            {"accountId":"777788889999","accountName":"prod","emailAddress":"q","roles":["Billing"]}]}"#;
        let directory = Directory::from_fixture(fixture).unwrap();
        assert_eq!(directory.accounts[0].roles, ["AdministratorAccess", "ReadOnlyAccess"]);
        let roleless = directory.account("444455556666").unwrap();
        assert_eq!(roleless.account_name, "it's \"$(id)\"; `x` Zürich");
        assert!(roleless.roles.is_empty());
        assert_eq!(directory.account("777788889999").unwrap().account_name, "prod");
        assert!(directory.account("999999999999").is_none());

        let twice = r#"{"accounts":[{"accountId":"1","accountName":"a","emailAddress":"e","roles":[]},
            {"accountId":"1","accountName":"b","emailAddress":"e","roles":[]}]}"#;
        assert!(Directory::from_fixture(twice).unwrap_err().contains("appears twice"));
    }

    #[test]
    fn the_first_accounts_can_be_generated_without_roles() {
        let spec = Generated {
            accounts: 4,
            roles_per_account: 2,
            without_roles: 2,
            name_style: NameStyle::Plain,
        };
        let directory = Directory::generate_with(spec).unwrap();
        let counts: Vec<_> = directory.accounts.iter().map(|a| a.roles.len()).collect();
        assert_eq!(counts, [0, 0, 2, 2]);
        let too_many = Generated { without_roles: 5, ..spec };
        assert!(
            Directory::generate_with(too_many).unwrap_err().contains("--accounts-without-roles")
        );
    }

    #[test]
    fn hostile_names_are_deterministic_and_hold_every_troublemaker() {
        let spec = Generated {
            accounts: 16,
            roles_per_account: 1,
            without_roles: 0,
            name_style: NameStyle::Hostile,
        };
        let directory = Directory::generate_with(spec).unwrap();
        assert_eq!(directory, Directory::generate_with(spec).unwrap());
        let names: Vec<&str> = directory.accounts.iter().map(|a| a.account_name.as_str()).collect();
        for needle in ["'", "\"", "$", "`", ";", "ü", "東", "\\"] {
            assert!(names[..8].iter().any(|n| n.contains(needle)), "no {needle} in {names:?}");
        }
        assert_eq!(names[0], r#"it's "prod" 001"#);
        assert_eq!(names[8], r#"it's "prod" 009"#);
        assert_eq!(names[5], names[6], "two accounts share a name");
        assert_ne!(directory.accounts[5].account_id, directory.accounts[6].account_id);
        assert_eq!(directory.accounts[0].email_address, "aws+account-001@example.com");
    }

    #[test]
    fn five_thousand_accounts_are_found_by_id() {
        let directory = Directory::generate(5000, 3).unwrap();
        assert_eq!(directory.accounts.len(), 5000);
        let last = directory.account("100000005000").unwrap();
        assert_eq!(last.account_name, "account-5000");
        assert_eq!(last.roles.len(), 3);
    }
}
