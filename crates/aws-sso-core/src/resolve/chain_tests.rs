//! Chained profiles through the whole ladder: resolution, the root role's credentials, each
//! AssumeRole against a canned STS, and the cache botocore shares.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use jiff::{SignedDuration, Timestamp};

use crate::cache::assume_role::{self, AssumeRoleKey};
use crate::cache::role_credentials::{RoleCredentials, RoleCredentialsKey, save_role_credentials};
use crate::chain::ChainError;
use crate::credentials;
use crate::env;
use crate::error::Error;
use crate::http::test_server::{Canned, Recorded, TestServer};
use crate::resolve::{self, RoleChoice};
use crate::secret::Secret;
use crate::session::testing::{Home, with_corp};
use crate::target::SessionRequest;

const HUB: &str = "[profile hub]\nsso_session = corp\nsso_account_id = 111111111111\nsso_role_name = Hub\nregion = eu-west-1\n";

const ACCOUNT: &str = "111111111111";
const SPOKE: &str = "arn:aws:iam::222222222222:role/Spoke";

fn spoke_home(server: &TestServer, extra: &str) -> Home {
    let text = with_corp(&format!(
        "{HUB}[profile spoke]\nrole_arn = {SPOKE}\nsource_profile = hub\n{extra}\
         [profile edge]\nrole_arn = arn:aws:iam::333333333333:role/Edge\nsource_profile = spoke\n"
    ));
    let mut home = Home::new(&text).with_var(env::AWS_ENDPOINT_URL_STS, &server.base_url);
    home.env = home.env.clone().in_dir(home.dir.path());
    home
}

fn cache_root_credentials(home: &Home) {
    let ctx = home.context();
    let key = RoleCredentialsKey::Session {
        session_name: "corp".into(),
        account_id: ACCOUNT.into(),
        role_name: "Hub".into(),
    };
    let creds = RoleCredentials {
        access_key_id: "ASIAHUB".into(),
        secret_access_key: Secret::new("HUB-SECRET"),
        session_token: Secret::new("HUB-TOKEN"),
        expiration: Timestamp::from_second((Timestamp::now().as_second()) + 3600).expect("time"),
        account_id: ACCOUNT.into(),
    };
    save_role_credentials(&ctx.caches.role_credentials_path(&key), &creds).expect("save");
}

fn sts_answer(access_key_id: &str, account: &str, role: &str) -> Canned {
    let expiration = crate::time::format_cli(Timestamp::now() + SignedDuration::from_hours(1));
    Canned::json(
        200,
        &format!(
            "<AssumeRoleResponse><AssumeRoleResult><AssumedRoleUser><Arn>arn:aws:sts::{account}:assumed-role/{role}/s</Arn><AssumedRoleId>AROA:s</AssumedRoleId></AssumedRoleUser><Credentials><AccessKeyId>{access_key_id}</AccessKeyId><SecretAccessKey>SECRET-{access_key_id}</SecretAccessKey><SessionToken>TOKEN-{access_key_id}</SessionToken><Expiration>{expiration}</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>"
        ),
    )
}

/// An STS that answers each role with keys named after it, and counts its calls.
fn counting_sts(calls: Arc<AtomicUsize>) -> TestServer {
    TestServer::route(move |request: &Recorded| {
        calls.fetch_add(1, Ordering::SeqCst);
        if request.body.contains("role%2FEdge") {
            sts_answer("ASIAEDGE", "333333333333", "Edge")
        } else {
            sts_answer("ASIASPOKE", "222222222222", "Spoke")
        }
    })
}

fn credentials_of(home: &Home, profile: &str) -> crate::error::Result<RoleCredentials> {
    let ctx = home.context();
    let request = SessionRequest { profile: Some(profile.into()), ..Default::default() };
    resolve::role_credentials(&ctx, &request, &RoleChoice::default(), credentials::REUSE_WINDOW)
        .map(|(_, creds)| creds)
}

fn cache_file(home: &Home, key: &AssumeRoleKey) -> PathBuf {
    assume_role::assume_role_file(&home.dir.path().join(".aws/cli/cache"), key)
}

fn spoke_key() -> AssumeRoleKey {
    AssumeRoleKey {
        role_arn: SPOKE.to_owned(),
        role_session_name: None,
        external_id: None,
        duration_seconds: None,
    }
}

#[test]
fn a_chained_profile_resolves_to_its_root_role_and_session() {
    let server = TestServer::start(Vec::new());
    let home = spoke_home(&server, "");
    let ctx = home.context();
    let request = SessionRequest { profile: Some("edge".into()), ..Default::default() };
    let resolve::Resolution::Resolved(resolved) =
        resolve::resolve_role(&ctx, &request, &RoleChoice::default(), None).expect("resolves")
    else {
        panic!("needs nothing");
    };
    assert_eq!(resolved.session.session_name.as_deref(), Some("corp"));
    assert_eq!((resolved.account_id.as_str(), resolved.role_name.as_str()), (ACCOUNT, "Hub"));
    assert_eq!(resolved.final_account_id(), "333333333333");
    assert_eq!(resolved.final_role_name(), "Edge");
    assert_eq!(resolved.chain.len(), 2);
    assert_eq!(resolved.region.as_deref(), Some("eu-west-1"));
}

#[test]
fn each_hop_is_assumed_once_with_the_credentials_before_it_and_cached() {
    let calls = Arc::new(AtomicUsize::new(0));
    let server = counting_sts(Arc::clone(&calls));
    let home = spoke_home(&server, "");
    cache_root_credentials(&home);

    let creds = credentials_of(&home, "edge").expect("credentials");
    assert_eq!(creds.access_key_id, "ASIAEDGE");
    assert_eq!(creds.account_id, "333333333333");
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    // The first hop is signed with the root role's keys, the second with the first hop's.
    let auth = |r: &Recorded| r.header("authorization").unwrap_or_default().to_owned();
    assert!(auth(&requests[0]).contains("Credential=ASIAHUB/"), "{}", auth(&requests[0]));
    assert_eq!(requests[0].header("x-amz-security-token"), Some("HUB-TOKEN"));
    assert!(auth(&requests[1]).contains("Credential=ASIASPOKE/"));
    assert!(auth(&requests[0]).contains("/eu-west-1/sts/aws4_request"));
    // The generated session name, as botocore's.
    assert!(requests[0].body.contains("RoleSessionName=botocore-session-"), "{}", requests[0].body);

    // Both hops are cached under botocore's keys, private.
    let spoke = cache_file(&home, &spoke_key());
    let text = std::fs::read_to_string(&spoke).expect("spoke cached");
    assert!(text.starts_with("{\"Credentials\": {\"AccessKeyId\": \"ASIASPOKE\""), "{text}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&spoke).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // Again: the cache answers, no call.
    assert_eq!(credentials_of(&home, "edge").expect("cached").access_key_id, "ASIAEDGE");
    assert_eq!(credentials_of(&home, "spoke").expect("cached").access_key_id, "ASIASPOKE");
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[test]
fn parallel_processes_make_one_assume_role() {
    let calls = Arc::new(AtomicUsize::new(0));
    let calls_in = Arc::clone(&calls);
    let server = TestServer::route(move |_| {
        calls_in.fetch_add(1, Ordering::SeqCst);
        sts_answer("ASIASPOKE", "222222222222", "Spoke")
            .after(std::time::Duration::from_millis(200))
    });
    let home = Arc::new(spoke_home(&server, ""));
    cache_root_credentials(&home);
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let home = Arc::clone(&home);
            std::thread::spawn(move || credentials_of(&home, "spoke").map(|c| c.access_key_id))
        })
        .collect();
    for thread in threads {
        assert_eq!(thread.join().expect("joins").expect("credentials"), "ASIASPOKE");
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[test]
fn a_refused_assume_role_names_the_profile_and_caches_nothing() {
    let server = TestServer::route(|_| {
        Canned::json(
            403,
            "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not authorized to perform: sts:AssumeRole</Message></Error></ErrorResponse>",
        )
    });
    let home = spoke_home(&server, "external_id = ext-1\n");
    cache_root_credentials(&home);
    let error = credentials_of(&home, "spoke").expect_err("denied");
    assert!(matches!(error, Error::Chain(ChainError::AssumeFailed { .. })), "{error:?}");
    assert_eq!(error.kind(), crate::exit::ErrorKind::Failure);
    let text = error.to_string();
    let config = home.dir.path().join(".aws/config");
    assert_eq!(
        text,
        format!(
            "Could not assume arn:aws:iam::222222222222:role/Spoke for the profile \"spoke\" ({}): STS AssumeRole failed with AccessDenied (HTTP 403): not authorized to perform: sts:AssumeRole. Its trust policy must allow the role Hub of account 111111111111 to assume it, with this external_id.",
            config.display()
        )
    );
    assert!(!text.contains("HUB-TOKEN") && !text.contains("HUB-SECRET"));
    let cache = home.dir.path().join(".aws/cli/cache");
    let entries: Vec<_> = std::fs::read_dir(&cache).expect("dir").collect();
    assert_eq!(entries.len(), 1, "only the root role's credentials");
}

#[test]
fn botocores_entry_is_reused() {
    let server = TestServer::start(Vec::new());
    let home = spoke_home(&server, "role_session_name = me\n");
    let key = AssumeRoleKey { role_session_name: Some("me".to_owned()), ..spoke_key() };
    let expiration =
        (Timestamp::now() + SignedDuration::from_hours(1)).strftime("%Y-%m-%dT%H:%M:%SUTC");
    let path = cache_file(&home, &key);
    std::fs::create_dir_all(path.parent().expect("dir")).expect("mkdir");
    std::fs::write(
        &path,
        format!(
            r#"{{"Credentials": {{"AccessKeyId": "ASIABOTO", "SecretAccessKey": "S", "SessionToken": "T", "Expiration": "{expiration}"}}, "ResponseMetadata": {{"HTTPStatusCode": 200}}}}"#
        ),
    )
    .expect("write");
    // No root credentials, no login: the cache alone answers.
    let creds = credentials_of(&home, "spoke").expect("cached");
    assert_eq!(creds.access_key_id, "ASIABOTO");
    assert_eq!(creds.account_id, "222222222222");
    assert!(server.requests().is_empty());
}

#[test]
fn a_project_file_and_the_command_line_assume_roles_from_the_role_they_name() {
    let calls = Arc::new(AtomicUsize::new(0));
    let server = counting_sts(Arc::clone(&calls));
    let home = spoke_home(&server, "");
    cache_root_credentials(&home);
    let path = home.dir.path().join(".aws-sso.yaml");
    std::fs::write(
        &path,
        format!("account: \"{ACCOUNT}\"\nrole: Hub\nassume_role: {SPOKE}\nexternal_id: ext-1\n"),
    )
    .expect("write");
    let file = crate::config::project::load_project_file(&path).expect("valid");
    let project = resolve::ProjectState::Trusted(file);
    let ctx = home.context();
    let request = SessionRequest::default();
    let choice = RoleChoice {
        assume_role: Some("arn:aws:iam::333333333333:role/Edge".to_owned()),
        ..RoleChoice::default()
    };
    let resolve::Resolution::Resolved(resolved) =
        resolve::resolve_role(&ctx, &request, &choice, Some(&project)).expect("resolves")
    else {
        panic!("needs nothing");
    };
    assert_eq!((resolved.account_id.as_str(), resolved.role_name.as_str()), (ACCOUNT, "Hub"));
    let origins: Vec<&str> = resolved.chain.iter().map(|h| h.origin.as_str()).collect();
    assert_eq!(origins, [path.display().to_string().as_str(), "--assume-role"]);
    assert_eq!(resolved.chain[0].key.external_id.as_deref(), Some("ext-1"));

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("rt");
    let creds = runtime
        .block_on(resolve::fetch_credentials(&ctx, &resolved, credentials::REUSE_WINDOW))
        .expect("credentials");
    assert_eq!(creds.access_key_id, "ASIAEDGE");
    let requests = server.requests();
    assert!(requests[0].body.contains("ExternalId=ext-1"), "{}", requests[0].body);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[test]
fn a_chain_whose_root_names_no_role_says_what_the_root_lacks() {
    let server = TestServer::start(Vec::new());
    let text = with_corp(&format!(
        "[profile hub]\nsso_session = corp\nsso_account_id = {ACCOUNT}\n\
         [profile spoke]\nrole_arn = {SPOKE}\nsource_profile = hub\n"
    ));
    let mut home = Home::new(&text).with_var(env::AWS_ENDPOINT_URL_STS, &server.base_url);
    home.env = home.env.clone().in_dir(home.dir.path());
    let error = credentials_of(&home, "spoke").expect_err("no role at the root");
    let config = home.dir.path().join(".aws/config");
    assert_eq!(
        error.to_string(),
        format!(
            "The profile \"spoke\" in {} is chained to \"hub\", which has no sso_role_name: add it to \"hub\", the IAM Identity Center role the chain starts from.",
            config.display()
        )
    );
    assert_eq!(error.kind(), crate::exit::ErrorKind::Usage);
    assert!(server.requests().is_empty());
}
