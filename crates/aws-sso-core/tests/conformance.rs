//! The cross-SDK conformance suites, every case of each: the profile-file parser, the file
//! locations, and the endpoint rule sets of `sso` and `sso-oidc`. A failure lists every failing
//! case by name. The data is in `tests/data` (see its NOTICE).

use std::collections::BTreeMap;

use aws_sso_core::config::{AwsConfig, ConfigFiles, Platform, selected_profile};
use aws_sso_core::endpoint::{self, EndpointParams, Service};
use aws_sso_core::env::Environment;
use serde_json::Value;

const PROFILE_PARSER: &str = include_str!("data/profile-parser-tests.json");
const FILE_LOCATION: &str = include_str!("data/file-location-tests.json");
const ENDPOINTS_SSO: &str = include_str!("data/endpoint-tests-sso.json");
const ENDPOINTS_SSO_OIDC: &str = include_str!("data/endpoint-tests-sso-oidc.json");

fn cases(json: &str, key: &str) -> Vec<Value> {
    let suite: Value = serde_json::from_str(json).expect("suite is valid JSON");
    suite[key].as_array().expect("suite has a list of cases").clone()
}

fn str_map(value: &Value) -> BTreeMap<String, String> {
    value
        .as_object()
        .map(|o| o.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_owned())).collect())
        .unwrap_or_default()
}

fn nested_map(value: &Value) -> BTreeMap<String, BTreeMap<String, String>> {
    value
        .as_object()
        .map(|o| o.iter().map(|(k, v)| (k.clone(), str_map(v))).collect())
        .unwrap_or_default()
}

fn report(suite: &str, total: usize, failures: &[String]) {
    assert!(
        failures.is_empty(),
        "{} of {total} cases of {suite} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn profile_parser_suite() {
    let cases = cases(PROFILE_PARSER, "tests");
    assert_eq!(cases.len(), 65, "the suite holds 65 cases");
    let mut failures = Vec::new();
    for case in &cases {
        let name = case["name"].as_str().unwrap_or("<unnamed>");
        let input = &case["input"];
        let parsed =
            AwsConfig::parse(input["configFile"].as_str(), input["credentialsFile"].as_str());
        let output = &case["output"];
        if let Some(expected) = output["errorContaining"].as_str() {
            match parsed {
                Err(e) if e.to_string().contains(expected) => {}
                Err(e) => failures.push(format!("- {name}: error {e:?} lacks {expected:?}")),
                Ok(c) => failures.push(format!("- {name}: parsed {c:?}, expected {expected:?}")),
            }
            continue;
        }
        let config = match parsed {
            Ok(config) => config,
            Err(e) => {
                failures.push(format!("- {name}: unexpected error {e}"));
                continue;
            }
        };
        let profiles: BTreeMap<_, _> = config
            .profiles()
            .map(|p| {
                (p.name().to_owned(), p.properties().map(|(k, v)| (k.into(), v.into())).collect())
            })
            .collect();
        let sessions: BTreeMap<_, _> = config
            .sso_sessions()
            .map(|s| {
                (s.name().to_owned(), s.properties().map(|(k, v)| (k.into(), v.into())).collect())
            })
            .collect();
        let expected_profiles = nested_map(&output["config"]["profiles"]);
        let expected_sessions = nested_map(&output["config"]["sso_sessions"]);
        if profiles != expected_profiles {
            failures
                .push(format!("- {name}: profiles {profiles:?}, expected {expected_profiles:?}"));
        }
        if sessions != expected_sessions {
            failures.push(format!(
                "- {name}: sso_sessions {sessions:?}, expected {expected_sessions:?}"
            ));
        }
    }
    report("profile-parser-tests.json", cases.len(), &failures);
}

#[test]
fn file_location_suite() {
    let cases = cases(FILE_LOCATION, "tests");
    assert_eq!(cases.len(), 9, "the suite holds 9 cases");
    let mut failures = Vec::new();
    for case in &cases {
        let name = case["name"].as_str().unwrap_or("<unnamed>");
        let env = Environment::from_pairs(str_map(&case["environment"]));
        let platform = match case["platform"].as_str() {
            Some("windows") => Platform::Windows,
            Some("linux" | "macos") => Platform::Unix,
            other => {
                failures.push(format!("- {name}: unknown platform {other:?}"));
                continue;
            }
        };
        let files = match ConfigFiles::locate_on(&env, platform) {
            Ok(files) => files,
            Err(e) => {
                failures.push(format!("- {name}: unexpected error {e}"));
                continue;
            }
        };
        let config = files.config.to_string_lossy();
        let credentials = files.credentials.to_string_lossy();
        if Some(config.as_ref()) != case["configLocation"].as_str() {
            failures
                .push(format!("- {name}: config at {config}, expected {}", case["configLocation"]));
        }
        if Some(credentials.as_ref()) != case["credentialsLocation"].as_str() {
            failures.push(format!(
                "- {name}: credentials at {credentials}, expected {}",
                case["credentialsLocation"]
            ));
        }
        if let Some(expected) = case["profile"].as_str() {
            let profile = selected_profile(&env).unwrap_or_else(|| "default".to_owned());
            if profile != expected {
                failures.push(format!("- {name}: profile {profile}, expected {expected}"));
            }
        }
    }
    report("file-location-tests.json", cases.len(), &failures);
}

fn run_endpoint_suite(service: Service, json: &str, suite: &str) {
    let cases = cases(json, "testCases");
    assert_eq!(cases.len(), 40, "{suite} holds 40 cases");
    let mut failures = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let name = format!("#{i} {}", case["documentation"].as_str().unwrap_or("<undocumented>"));
        let params = &case["params"];
        let params = EndpointParams {
            region: params["Region"].as_str().map(str::to_owned),
            use_fips: params["UseFIPS"].as_bool().unwrap_or(false),
            use_dual_stack: params["UseDualStack"].as_bool().unwrap_or(false),
            endpoint: params["Endpoint"].as_str().map(str::to_owned),
        };
        let got = endpoint::resolve(service, &params).map_err(|e| e.to_string());
        let expected =
            match (case["expect"]["endpoint"]["url"].as_str(), case["expect"]["error"].as_str()) {
                (Some(url), None) => Ok(url.to_owned()),
                (None, Some(error)) => Err(error.to_owned()),
                _ => {
                    failures.push(format!("- {name}: case expects neither a URL nor an error"));
                    continue;
                }
            };
        if got != expected {
            failures.push(format!("- {name}: got {got:?}, expected {expected:?}"));
        }
    }
    report(suite, cases.len(), &failures);
}

#[test]
fn sso_endpoint_suite() {
    run_endpoint_suite(Service::Sso, ENDPOINTS_SSO, "endpoint-tests-sso.json");
}

#[test]
fn sso_oidc_endpoint_suite() {
    run_endpoint_suite(Service::SsoOidc, ENDPOINTS_SSO_OIDC, "endpoint-tests-sso-oidc.json");
}
