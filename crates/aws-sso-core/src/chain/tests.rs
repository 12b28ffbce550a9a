use super::*;
use crate::session::testing::with_corp;

const FILE: &str = "/home/u/.aws/config";

fn config(text: &str) -> AwsConfig {
    AwsConfig::parse(Some(&with_corp(text)), None).expect("parses")
}

fn walk(text: &str, name: &str) -> Result<Option<ProfileChain>, ChainError> {
    profile_chain(&config(text), Path::new(FILE), name)
}

const HUB: &str = "[profile hub]\nsso_session = corp\nsso_account_id = 111111111111\nsso_role_name = Hub\nregion = eu-west-1\n";

#[test]
fn a_profile_without_role_arn_is_no_chain() {
    assert_eq!(walk(HUB, "hub").expect("walks"), None);
    assert_eq!(walk(HUB, "missing").expect("walks"), None);
}

#[test]
fn a_chain_is_walked_to_its_root_and_returned_root_first() {
    let text = format!(
        "{HUB}[profile a]\nrole_arn = arn:aws:iam::222222222222:role/A\nsource_profile = hub\n\
         [profile b]\nrole_arn = arn:aws:iam::333333333333:role/team/B\nsource_profile = a\n\
         external_id = ext\nrole_session_name = me\nduration_seconds = 900\nregion = us-west-2\n\
         [profile c]\nrole_arn = arn:aws-cn:iam::444444444444:role/C\nsource_profile = b\n"
    );
    let chain = walk(&text, "c").expect("walks").expect("a chain");
    assert_eq!(chain.root, "hub");
    let roles: Vec<(&str, &str)> =
        chain.hops.iter().map(|h| (h.account_id.as_str(), h.role_name.as_str())).collect();
    assert_eq!(roles, [("222222222222", "A"), ("333333333333", "B"), ("444444444444", "C")]);
    assert_eq!(chain.hops[1].origin, "the profile \"b\" (/home/u/.aws/config)");
    assert_eq!(
        chain.hops[1].key,
        AssumeRoleKey {
            role_arn: "arn:aws:iam::333333333333:role/team/B".to_owned(),
            role_session_name: Some("me".to_owned()),
            external_id: Some("ext".to_owned()),
            duration_seconds: Some(900),
        }
    );
    // The first region from the profile named down to the root.
    assert_eq!(chain.region.as_deref(), Some("us-west-2"));
}

#[test]
fn a_long_chain_has_a_hop_per_profile() {
    let mut text = HUB.to_owned();
    let mut source = "hub".to_owned();
    for i in 0..25 {
        text.push_str(&format!(
            "[profile p{i}]\nrole_arn = arn:aws:iam::{:012}:role/R{i}\nsource_profile = {source}\n",
            i + 1
        ));
        source = format!("p{i}");
    }
    let chain = walk(&text, "p24").expect("walks").expect("a chain");
    assert_eq!(chain.hops.len(), 25);
    assert_eq!(chain.hops[0].role_name, "R0");
    assert_eq!(chain.hops[24].role_name, "R24");
}

fn error(text: &str, name: &str) -> String {
    walk(text, name).expect_err("an error").to_string()
}

#[test]
fn a_loop_names_every_profile_of_it() {
    let text = format!(
        "{HUB}[profile a]\nrole_arn = arn:aws:iam::222222222222:role/A\nsource_profile = b\n\
         [profile b]\nrole_arn = arn:aws:iam::222222222222:role/B\nsource_profile = a\n\
         [profile self]\nrole_arn = arn:aws:iam::222222222222:role/S\nsource_profile = self\n"
    );
    assert_eq!(
        error(&text, "a"),
        "The profiles \"a\" -> \"b\" -> \"a\" in /home/u/.aws/config form a loop through source_profile: point one of them at a profile that signs in with IAM Identity Center."
    );
    assert!(error(&text, "self").starts_with("The profiles \"self\" -> \"self\""));
}

#[test]
fn a_missing_source_profile_is_named_with_the_profile_that_names_it() {
    let text = format!(
        "{HUB}[profile a]\nrole_arn = arn:aws:iam::222222222222:role/A\nsource_profile = nope\n"
    );
    assert_eq!(
        error(&text, "a"),
        "The source_profile \"nope\" of the profile \"a\" does not exist in /home/u/.aws/config: fix source_profile, or add [profile nope]."
    );
}

#[test]
fn every_other_mistake_names_the_profile_and_the_fix() {
    let cases = [
        ("role_arn = nope\nsource_profile = hub\n", "which is not a role ARN"),
        ("role_arn = arn:aws:iam::1:role/A\nsource_profile = hub\n", "which is not a role ARN"),
        ("role_arn = arn:aws:iam::222222222222:user/A\nsource_profile = hub\n", "not a role ARN"),
        ("role_arn = arn:aws:iam::222222222222:role/A\n", "has role_arn but no source_profile"),
        ("role_arn = arn:aws:iam::222222222222:role/A\nsource_profile = plain\n", "no credentials"),
        (
            "role_arn = arn:aws:iam::222222222222:role/A\ncredential_source = Environment\n",
            "credential_source = Environment",
        ),
        (
            "role_arn = arn:aws:iam::222222222222:role/A\nsource_profile = hub\nmfa_serial = x\n",
            "MFA code",
        ),
        (
            "role_arn = arn:aws:iam::222222222222:role/A\nsource_profile = hub\nduration_seconds = 1h\n",
            "duration_seconds = \"1h\"",
        ),
    ];
    for (body, expected) in cases {
        let text = format!("{HUB}[profile plain]\nregion = x\n[profile a]\n{body}");
        let message = error(&text, "a");
        assert!(message.contains(expected), "{body}: {message}");
        assert!(message.contains("/home/u/.aws/config"), "{message}");
        assert!(!message.contains('\n'), "{message}");
    }
}

#[test]
fn role_arns_give_their_account_and_name() {
    assert_eq!(
        parse_role_arn("arn:aws:iam::222222222222:role/path/to/Deploy"),
        Some(("222222222222".to_owned(), "Deploy".to_owned()))
    );
    assert_eq!(
        parse_role_arn("arn:aws-us-gov:iam::222222222222:role/R"),
        Some(("222222222222".to_owned(), "R".to_owned()))
    );
    for bad in ["", "role/R", "arn:aws:sts::222222222222:role/R", "arn:aws:iam::222222222222:role/"]
    {
        assert_eq!(parse_role_arn(bad), None, "{bad}");
    }
}
