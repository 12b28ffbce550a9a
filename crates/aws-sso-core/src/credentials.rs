//! Role credentials for one account and role: from the shared AWS CLI cache
//! (`~/.aws/cli/cache`) while they have enough time left, else from GetRoleCredentials under a
//! per-role lock, saved back to that cache for the next process (docs/ARCHITECTURE.md §3, §4).

use jiff::{SignedDuration, Timestamp};

use crate::cache::locks::role_lock_path;
use crate::cache::role_credentials::{
    RoleCredentials, RoleCredentialsKey, load_role_credentials, record_role_credentials_key,
    save_role_credentials,
};
pub use crate::error::CredentialsError;
use crate::error::Result;
use crate::http::HttpError;
use crate::lock::FileLock;
use crate::session::{self, Context, SessionTarget};

/// Cached credentials with less than this left are fetched again by `aws-sso-env` and `exec`.
pub const REUSE_WINDOW: SignedDuration = SignedDuration::from_mins(5);

/// The window of `credential-process`: SDKs refresh credentials that expire within 15 minutes,
/// so handing them less would make them call again at once (botocore's
/// `DEFAULT_EXPIRY_WINDOW_SECONDS`).
pub const CREDENTIAL_PROCESS_WINDOW: SignedDuration = SignedDuration::from_mins(15);

/// One role in one account, reached through one login.
#[derive(Clone, Copy, Debug)]
pub struct RoleRequest<'a> {
    pub target: &'a SessionTarget,
    pub account_id: &'a str,
    pub role_name: &'a str,
}

impl RoleRequest<'_> {
    /// The key the AWS CLI v2 caches these credentials under (docs/aws-contracts.md §3.5).
    pub fn cache_key(&self) -> RoleCredentialsKey {
        let account_id = self.account_id.to_owned();
        let role_name = self.role_name.to_owned();
        match &self.target.session_name {
            Some(session_name) => RoleCredentialsKey::Session {
                session_name: session_name.clone(),
                account_id,
                role_name,
            },
            None => RoleCredentialsKey::StartUrl {
                start_url: self.target.start_url.clone(),
                account_id,
                role_name,
            },
        }
    }
}

/// The cached role credentials when they have more than `min_remaining` left. Synchronous, no
/// HTTP client, no runtime: this is the fast path of `aws-sso-env` and `credential-process`.
/// A cache file that cannot be read is reported and counts as absent.
pub fn cached(
    ctx: &Context,
    req: &RoleRequest,
    min_remaining: SignedDuration,
) -> Option<RoleCredentials> {
    read_cache(ctx, &req.cache_key(), min_remaining, Report::Warn)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Report {
    Warn,
    Quiet,
}

fn read_cache(
    ctx: &Context,
    key: &RoleCredentialsKey,
    min_remaining: SignedDuration,
    report: Report,
) -> Option<RoleCredentials> {
    match load_role_credentials(&ctx.caches.role_credentials_path(key)) {
        Ok(Some(credentials)) if credentials.remaining(Timestamp::now()) > min_remaining => {
            Some(credentials)
        }
        Ok(_) => None,
        Err(e) => {
            if report == Report::Warn {
                tracing::warn!("{e}");
            }
            None
        }
    }
}

/// The cached credentials, else new ones from GetRoleCredentials.
///
/// The token comes from [`session::valid_token`], which refreshes it first when it can; a
/// session that needs a login is the `NotLoggedIn` error (exit 3), never a browser. The fetch
/// holds the role's lock and reads the cache again once it has it, so forty processes started at
/// once make one call. New credentials are saved to `~/.aws/cli/cache` in the CLI's format and
/// their key recorded, so that logging out of the session removes them.
pub async fn fetch(
    ctx: &Context,
    req: &RoleRequest<'_>,
    min_remaining: SignedDuration,
) -> Result<RoleCredentials> {
    let key = req.cache_key();
    // Unreadable files are reported once, below, under the lock.
    if let Some(credentials) = read_cache(ctx, &key, min_remaining, Report::Quiet) {
        return Ok(credentials);
    }
    // A lock that cannot be created (read-only home) costs parallel fetches a call each, not
    // this one its credentials, as a cache that cannot be written does.
    let _lock = match FileLock::acquire_async(role_lock_path(&ctx.env, &key)).await {
        Ok(lock) => Some(lock),
        Err(e) if e.cannot_create() => {
            tracing::warn!("{e}; fetching the credentials without the lock");
            None
        }
        Err(e) => return Err(e.into()),
    };
    // Whoever held the lock before us may have fetched them.
    if let Some(credentials) = read_cache(ctx, &key, min_remaining, Report::Warn) {
        return Ok(credentials);
    }
    let token = session::valid_token(ctx, req.target).await?;
    let portal = ctx.portal_client(req.target)?;
    let mut credentials = portal
        .get_role_credentials(&token.access_token, req.account_id, req.role_name)
        .await
        .map_err(|e| portal_error(req, e))?;
    // The cache keeps whole seconds: this process reports the expiry the next one will read.
    if let Ok(whole) = Timestamp::from_second(credentials.expiration.as_second()) {
        credentials.expiration = whole;
    }
    // The credentials are good whatever happens to the cache: a file that cannot be written
    // costs the next process a call, not this one its credentials.
    let path = ctx.caches.role_credentials_path(&key);
    match save_role_credentials(&path, &credentials) {
        Ok(()) => {
            if let Err(e) = record_role_credentials_key(&ctx.env, &key) {
                tracing::warn!("aws-sso-login logout will not know about {}: {e}", path.display());
            }
        }
        Err(e) => tracing::warn!("{e}"),
    }
    Ok(credentials)
}

/// A role the user does not have, or a token the portal no longer accepts, said in the user's
/// words; anything else as the HTTP error it is.
fn portal_error(req: &RoleRequest, error: HttpError) -> crate::Error {
    if error.is_unauthorized() {
        return CredentialsError::LoginRejected {
            session: req.target.display_name(),
            selector: req.target.selector(),
            account_id: req.account_id.to_owned(),
            role_name: req.role_name.to_owned(),
            target: Box::new(req.target.clone()),
        }
        .into();
    }
    let no_access = match &error {
        HttpError::Service(e) => {
            matches!(e.code.as_str(), "ForbiddenException" | "ResourceNotFoundException")
                || matches!(e.status, 403 | 404)
        }
        _ => false,
    };
    if let (true, Some(code)) = (no_access, error.code()) {
        return CredentialsError::NoAccess {
            account_id: req.account_id.to_owned(),
            role_name: req.role_name.to_owned(),
            answer: code.to_owned(),
            selector: req.target.selector(),
        }
        .into();
    }
    error.into()
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;
    use crate::cache::role_credentials::recorded_keys;
    use crate::cache::token::{CachedToken, save_token};
    use crate::env::{self, Environment};
    use crate::error::Error;
    use crate::exit::ErrorKind;
    use crate::http::test_server::{Canned, Recorded, TestServer};
    use crate::secret::Secret;
    use crate::session::SessionRequest;

    const ACCOUNT: &str = "123456789012";
    const ROLE: &str = "ReadOnly";
    const TOKEN: &str = "ACCESS-TOKEN-1";

    /// A home with one `[sso-session corp]`, whose portal and OIDC endpoints are `server`.
    struct Home {
        dir: tempfile::TempDir,
        env: Environment,
    }

    impl Home {
        fn new(server: &TestServer) -> Home {
            let dir = tempfile::tempdir().expect("tempdir");
            let aws = dir.path().join(".aws");
            std::fs::create_dir_all(&aws).expect("mkdir");
            std::fs::write(
                aws.join("config"),
                "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n",
            )
            .expect("config");
            let home = dir.path().to_string_lossy().into_owned();
            let env = Environment::from_pairs([
                (env::HOME, home),
                (env::AWS_ENDPOINT_URL_SSO, server.base_url.clone()),
                (env::AWS_ENDPOINT_URL_SSO_OIDC, server.base_url.clone()),
            ]);
            Home { dir, env }
        }

        fn context(&self) -> Context {
            Context::load(self.env.clone(), None).expect("context")
        }

        fn target(&self, ctx: &Context) -> SessionTarget {
            let request = SessionRequest { sso_session: Some("corp".into()), ..Default::default() };
            session::resolve(ctx, &request).expect("target")
        }

        fn save_token(&self, token: CachedToken) {
            save_token(&self.path(".aws/sso/cache").join(format!("{}.json", sha1("corp"))), &token)
                .expect("token");
        }

        fn credentials_file(&self) -> PathBuf {
            let key = RoleCredentialsKey::Session {
                session_name: "corp".into(),
                account_id: ACCOUNT.into(),
                role_name: ROLE.into(),
            };
            self.path(".aws/cli/cache").join(format!("{}.json", key.cache_key()))
        }

        fn path(&self, relative: &str) -> PathBuf {
            self.dir.path().join(relative)
        }
    }

    fn sha1(text: &str) -> String {
        crate::cache::sha1_hex(text)
    }

    fn token(expires_in: SignedDuration) -> CachedToken {
        CachedToken {
            start_url: Some("https://corp.awsapps.com/start".into()),
            region: Some("eu-west-1".into()),
            access_token: Secret::new(TOKEN),
            expires_at: Timestamp::now() + expires_in,
            client_id: None,
            client_secret: None,
            registration_expires_at: None,
            refresh_token: None,
        }
    }

    fn credentials(access_key_id: &str, expires_in: SignedDuration) -> RoleCredentials {
        RoleCredentials {
            access_key_id: access_key_id.into(),
            secret_access_key: Secret::new("CACHED-SECRET"),
            session_token: Secret::new("CACHED-SESSION"),
            // Whole seconds, as the cache file keeps them.
            expiration: Timestamp::from_second((Timestamp::now() + expires_in).as_second())
                .expect("time"),
            account_id: ACCOUNT.into(),
        }
    }

    /// The portal's answer to GetRoleCredentials: credentials valid for an hour.
    fn portal_answer(access_key_id: &str) -> Canned {
        let expiration = (Timestamp::now() + SignedDuration::from_hours(1)).as_millisecond();
        Canned::json(
            200,
            &format!(
                r#"{{"roleCredentials":{{"accessKeyId":"{access_key_id}","secretAccessKey":"NEW-SECRET","sessionToken":"NEW-SESSION","expiration":{expiration}}}}}"#
            ),
        )
    }

    fn is_get_role_credentials(request: &Recorded) -> bool {
        request.target.starts_with("/federation/credentials?")
    }

    fn run<T>(future: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(future)
    }

    fn fetch_now(home: &Home, window: SignedDuration) -> Result<RoleCredentials> {
        let ctx = home.context();
        let target = home.target(&ctx);
        let req = RoleRequest { target: &target, account_id: ACCOUNT, role_name: ROLE };
        run(fetch(&ctx, &req, window))
    }

    #[test]
    fn cached_credentials_are_used_without_a_request() {
        let server = TestServer::start(Vec::new());
        let home = Home::new(&server);
        let cached_creds = credentials("ASIACACHED", SignedDuration::from_mins(30));
        save_role_credentials(&home.credentials_file(), &cached_creds).expect("save");

        let ctx = home.context();
        let target = home.target(&ctx);
        let req = RoleRequest { target: &target, account_id: ACCOUNT, role_name: ROLE };
        assert_eq!(cached(&ctx, &req, CREDENTIAL_PROCESS_WINDOW), Some(cached_creds.clone()));
        // No token at all: the cache alone answers.
        assert_eq!(run(fetch(&ctx, &req, REUSE_WINDOW)).expect("fetch"), cached_creds);
        assert!(server.requests().is_empty());
    }

    #[test]
    fn each_window_decides_whether_the_cache_is_good_enough() {
        let server = TestServer::start(Vec::new());
        let home = Home::new(&server);
        let ctx = home.context();
        let target = home.target(&ctx);
        let req = RoleRequest { target: &target, account_id: ACCOUNT, role_name: ROLE };
        assert_eq!(cached(&ctx, &req, REUSE_WINDOW), None, "no file");

        let ten_minutes = credentials("ASIACACHED", SignedDuration::from_mins(10));
        save_role_credentials(&home.credentials_file(), &ten_minutes).expect("save");
        assert_eq!(cached(&ctx, &req, REUSE_WINDOW), Some(ten_minutes));
        assert_eq!(cached(&ctx, &req, CREDENTIAL_PROCESS_WINDOW), None);

        let expired = credentials("ASIAOLD", SignedDuration::from_mins(-1));
        save_role_credentials(&home.credentials_file(), &expired).expect("save");
        assert_eq!(cached(&ctx, &req, SignedDuration::ZERO), None);
    }

    #[test]
    fn expiring_credentials_are_fetched_saved_as_the_cli_does_and_recorded() {
        let server = TestServer::start(vec![portal_answer("ASIANEW")]);
        let home = Home::new(&server);
        home.save_token(token(SignedDuration::from_hours(8)));
        let file = home.credentials_file();
        save_role_credentials(&file, &credentials("ASIAOLD", SignedDuration::from_mins(4)))
            .expect("save");

        let fresh = fetch_now(&home, REUSE_WINDOW).expect("fetch");
        assert_eq!(fresh.access_key_id, "ASIANEW");
        assert_eq!(fresh.secret_access_key.expose(), "NEW-SECRET");
        assert_eq!(fresh.account_id, ACCOUNT);

        let sent = server.requests();
        assert_eq!(sent.len(), 1);
        assert_eq!(
            sent[0].target,
            format!("/federation/credentials?role_name={ROLE}&account_id={ACCOUNT}")
        );
        assert_eq!(sent[0].header("x-amz-sso_bearer_token"), Some(TOKEN));

        assert_eq!(std::fs::read_to_string(&file).expect("read"), fresh.to_cli_json());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&file).expect("metadata").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(recorded_keys(&home.env, "corp"), [(ACCOUNT.to_owned(), ROLE.to_owned())]);
    }

    #[test]
    fn an_unreadable_cache_file_is_treated_as_absent_and_replaced() {
        let server = TestServer::start(vec![portal_answer("ASIANEW")]);
        let home = Home::new(&server);
        home.save_token(token(SignedDuration::from_hours(8)));
        let file = home.credentials_file();
        std::fs::create_dir_all(file.parent().expect("dir")).expect("mkdir");
        std::fs::write(&file, r#"{"ProviderType": "sso", "Credentials": {"#).expect("write");

        let ctx = home.context();
        let target = home.target(&ctx);
        let req = RoleRequest { target: &target, account_id: ACCOUNT, role_name: ROLE };
        assert_eq!(cached(&ctx, &req, SignedDuration::ZERO), None);
        let fresh = run(fetch(&ctx, &req, REUSE_WINDOW)).expect("fetch");
        assert_eq!(cached(&ctx, &req, REUSE_WINDOW), Some(fresh));
    }

    #[test]
    fn a_token_about_to_expire_is_refreshed_before_the_call() {
        let server = TestServer::route(|request| {
            if request.target == "/token" {
                Canned::json(
                    200,
                    r#"{"accessToken":"ACCESS-TOKEN-2","tokenType":"Bearer","expiresIn":28800,"refreshToken":"RT-2"}"#,
                )
            } else {
                portal_answer("ASIANEW")
            }
        });
        let home = Home::new(&server);
        home.save_token(CachedToken {
            client_id: Some("client".into()),
            client_secret: Some(Secret::new("client-secret")),
            registration_expires_at: Some(Timestamp::now() + SignedDuration::from_hours(24 * 30)),
            refresh_token: Some(Secret::new("RT-1")),
            ..token(SignedDuration::from_mins(5))
        });

        fetch_now(&home, REUSE_WINDOW).expect("fetch");
        let sent = server.requests();
        let targets: Vec<&str> =
            sent.iter().map(|r| r.target.split('?').next().unwrap_or("")).collect();
        assert_eq!(targets, ["/token", "/federation/credentials"]);
        assert_eq!(sent[1].header("x-amz-sso_bearer_token"), Some("ACCESS-TOKEN-2"));
    }

    #[test]
    fn forty_at_once_make_one_call_and_all_get_its_credentials() {
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&calls);
        let server = TestServer::route(move |_| {
            let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
            // Slow enough that every other caller is waiting on the lock meanwhile.
            portal_answer(&format!("ASIACALL{n}")).after(Duration::from_millis(300))
        });
        let home = Home::new(&server);
        home.save_token(token(SignedDuration::from_hours(8)));
        save_role_credentials(
            &home.credentials_file(),
            &credentials("ASIAEXPIRED", SignedDuration::from_mins(-10)),
        )
        .expect("save");

        // Threads with a context and a runtime each, as forty processes would have.
        let keys: Vec<String> = std::thread::scope(|scope| {
            let callers: Vec<_> = (0..40)
                .map(|_| {
                    scope.spawn(|| {
                        fetch_now(&home, CREDENTIAL_PROCESS_WINDOW).expect("fetch").access_key_id
                    })
                })
                .collect();
            callers.into_iter().map(|c| c.join().expect("caller")).collect()
        });
        assert!(keys.iter().all(|k| k == "ASIACALL1"), "{keys:?}");
        assert_eq!(server.requests().iter().filter(|r| is_get_role_credentials(r)).count(), 1);
    }

    fn forbidden() -> Canned {
        Canned::json(403, r#"{"message":"No access"}"#).header(
            "x-amzn-ErrorType",
            "ForbiddenException:http://internal.amazon.com/coral/com.amazonaws.switchboard.portal/",
        )
    }

    #[test]
    fn a_role_the_user_does_not_have_is_no_access_with_exit_1() {
        let server = TestServer::start(vec![forbidden()]);
        let home = Home::new(&server);
        home.save_token(token(SignedDuration::from_hours(8)));

        let err = fetch_now(&home, REUSE_WINDOW).expect_err("forbidden");
        assert!(
            matches!(
                &err,
                Error::Credentials(CredentialsError::NoAccess { account_id, role_name, .. })
                    if account_id == ACCOUNT && role_name == ROLE
            ),
            "{err:?}"
        );
        assert_eq!(err.kind().exit_code(), 1);
        assert_eq!(
            err.to_string(),
            "You cannot use role ReadOnly in account 123456789012 (the portal answered \
             ForbiddenException). `aws-sso-ls --sso-session corp 123456789012` lists your roles \
             there."
        );
        assert!(!home.credentials_file().exists());
        assert!(recorded_keys(&home.env, "corp").is_empty());
    }

    #[test]
    fn a_token_the_portal_refuses_is_not_logged_in_with_exit_3() {
        let server = TestServer::start(vec![
            Canned::json(401, r#"{"message":"Session token not found or invalid"}"#)
                .header("x-amzn-ErrorType", "UnauthorizedException"),
        ]);
        let home = Home::new(&server);
        home.save_token(token(SignedDuration::from_hours(8)));

        let err = fetch_now(&home, REUSE_WINDOW).expect_err("unauthorized");
        assert!(matches!(err, Error::Credentials(CredentialsError::LoginRejected { .. })));
        assert_eq!(err.kind(), ErrorKind::NotLoggedIn);
        assert_eq!(err.kind().exit_code(), 3);
        let text = err.to_string();
        assert!(text.contains("Run: aws-sso-login --sso-session corp"), "{text}");
        assert!(!text.contains(TOKEN), "{text}");
        assert!(!format!("{err:?}").contains(TOKEN));
    }

    #[test]
    fn without_a_usable_login_nothing_is_asked_of_the_portal() {
        let server = TestServer::start(Vec::new());
        let home = Home::new(&server);
        let err = fetch_now(&home, REUSE_WINDOW).expect_err("no token");
        assert_eq!(err.kind(), ErrorKind::NotLoggedIn, "{err}");
        assert!(err.to_string().contains("Not logged in to corp"), "{err}");

        home.save_token(token(SignedDuration::from_mins(-1)));
        let err = fetch_now(&home, REUSE_WINDOW).expect_err("expired");
        assert_eq!(err.kind(), ErrorKind::NotLoggedIn, "{err}");
        assert!(err.to_string().contains("expired"), "{err}");
        assert!(server.requests().is_empty());
    }

    #[test]
    fn a_legacy_profile_uses_the_cli_key_of_its_start_url() {
        // docs/aws-contracts.md §3.5: the CLI's own test vector.
        let target = SessionTarget {
            session_name: None,
            profile: Some("dev".into()),
            start_url: "https://d-92671207e4.awsapps.com/start".into(),
            region: "us-east-1".into(),
            scopes: None,
        };
        let req = RoleRequest { target: &target, account_id: "1234567890", role_name: "test-role" };
        assert_eq!(req.cache_key().cache_key(), "048db75bbe50955c16af7aba6ff9c41a3131bb7e");
        let ls = portal_error(
            &req,
            HttpError::Service(crate::http::ServiceError {
                operation: crate::portal::GET_ROLE_CREDENTIALS,
                status: 404,
                code: "ResourceNotFoundException".into(),
                message: String::new(),
            }),
        );
        assert!(ls.to_string().contains("`aws-sso-ls --profile dev 1234567890`"), "{ls}");
        assert!(ls.to_string().contains("ResourceNotFoundException"), "{ls}");
    }
}
