//! The request context: condition keys and their values, as the caller knows them.
//!
//! Keys are compared case-insensitively (AWS treats condition key names that way), so they
//! are lowercased once on insertion. Each value is parsed once, on insertion, into the forms
//! the typed operators need (number, date, IP address), so evaluation never re-parses.
//! A context is either `Complete` (a simulation: an absent key is really absent) or
//! `Partial` (an analysis: an absent key is unknown, and decisions that depend on it are
//! reported as conditional).

use super::condition::{Moment, parse_date, parse_ip_address};
use std::net::IpAddr;

/// Whether absent keys are known to be absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Completeness {
    /// Every key the request carries is present; absent keys follow AWS's missing-key rules.
    #[default]
    Complete,
    /// Absent keys are unknown; decisions that depend on them come out `Conditional`.
    Partial,
}

/// One value of a context key, with its typed forms pre-parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct ContextValue {
    text: String,
    number: Option<f64>,
    date: Option<Moment>,
    ip_address: Option<IpAddr>,
}

impl ContextValue {
    pub fn new(text: impl Into<String>) -> ContextValue {
        let text = text.into();
        let number = text
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|number| number.is_finite());
        let date = parse_date(&text);
        let ip_address = parse_ip_address(&text).map(|network| network.addr());
        ContextValue {
            text,
            number,
            date,
            ip_address,
        }
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn number(&self) -> Option<f64> {
        self.number
    }

    /// The value as a date, with its fractional seconds.
    pub fn date(&self) -> Option<Moment> {
        self.date
    }

    pub fn ip_address(&self) -> Option<IpAddr> {
        self.ip_address
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Entry {
    lowercase_key: String,
    values: Vec<ContextValue>,
    /// The key is one of the documented multivalued keys (see [`is_multivalued_key`]).
    listed_multivalued: bool,
}

/// What a context says about one key.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum KeyState<'c> {
    /// The key is present with these values (none: an empty set).
    Present(PresentKey<'c>),
    /// The key is known to be absent from the request.
    Absent,
    /// Whether the key is present, and its values, are not known.
    Unknown,
}

/// The values of a present key, and whether the key is multivalued.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PresentKey<'c> {
    pub values: &'c [ContextValue],
    /// A multivalued key: a documented one (`aws:TagKeys`…), or one given with other than
    /// exactly one value. Such a key needs a set operator (`ForAnyValue`/`ForAllValues`) and
    /// cannot be a policy variable.
    pub multivalued: bool,
}

/// Condition keys of one request. A key may carry several values (a multivalued key such as
/// `aws:TagKeys`) or be present with none (an empty set). Besides the completeness of the
/// whole context, single keys can be marked unknown (in a complete context: AWS sets the key
/// but pipeleash cannot know its value) or absent (in a partial context: AWS never sets the
/// key for this principal).
///
/// The keys are shared behind an `Arc` (copied on write), so cloning a context for each of
/// many requests costs no allocation, and an empty context allocates nothing.
#[derive(Debug, Clone, Default)]
pub struct Context {
    keys: Option<std::sync::Arc<Keys>>,
    pub completeness: Completeness,
}

impl PartialEq for Context {
    fn eq(&self, other: &Context) -> bool {
        self.completeness == other.completeness && self.keys() == other.keys()
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
struct Keys {
    entries: Vec<Entry>,
    /// Lowercased keys whose presence and values are unknown, whatever the completeness.
    unknown: Vec<String>,
    /// Lowercased keys known to be absent, whatever the completeness.
    absent: Vec<String>,
}

/// The shared empty key set, for reading a context that has none.
static NO_KEYS: Keys = Keys {
    entries: Vec::new(),
    unknown: Vec::new(),
    absent: Vec::new(),
};

impl Context {
    pub fn new(completeness: Completeness) -> Context {
        Context {
            keys: None,
            completeness,
        }
    }

    pub fn complete() -> Context {
        Context::new(Completeness::Complete)
    }

    pub fn partial() -> Context {
        Context::new(Completeness::Partial)
    }

    /// Adds one value to `key` (a second call makes the key multivalued).
    pub fn insert(&mut self, key: &str, value: impl Into<String>) {
        let value = ContextValue::new(value);
        self.entry_mut(key).values.push(value);
    }

    /// Replaces the values of `key`; an empty iterator makes the key present with no values.
    pub fn set<I, S>(&mut self, key: &str, values: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let values = values.into_iter().map(ContextValue::new).collect();
        self.entry_mut(key).values = values;
    }

    /// Marks `key` unknown: conditions and policy variables that need it come out unknown
    /// (`Conditional`) even in a complete context. Used for keys AWS always sets whose value
    /// pipeleash cannot know (the role path in `aws:PrincipalArn` of a session, `aws:userid`).
    pub fn mark_unknown(&mut self, key: &str) {
        let lowercase_key = key.to_ascii_lowercase();
        self.forget(&lowercase_key);
        self.keys_mut().unknown.push(lowercase_key);
    }

    /// Marks `key` absent: AWS does not set it for this request, even in a partial context
    /// (`aws:username` for a role session).
    pub fn mark_absent(&mut self, key: &str) {
        let lowercase_key = key.to_ascii_lowercase();
        self.forget(&lowercase_key);
        self.keys_mut().absent.push(lowercase_key);
    }

    /// Builder form of [`Context::insert`].
    pub fn with(mut self, key: &str, value: impl Into<String>) -> Context {
        self.insert(key, value);
        self
    }

    /// Builder form of [`Context::set`].
    pub fn with_values<I, S>(mut self, key: &str, values: I) -> Context
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.set(key, values);
        self
    }

    /// Builder form of [`Context::mark_unknown`].
    pub fn with_unknown(mut self, key: &str) -> Context {
        self.mark_unknown(key);
        self
    }

    /// Builder form of [`Context::mark_absent`].
    pub fn with_absent(mut self, key: &str) -> Context {
        self.mark_absent(key);
        self
    }

    /// The values of `key` (case-insensitive), or `None` when the key is not present (absent
    /// or unknown; see [`Context::lookup`]).
    pub fn get(&self, key: &str) -> Option<&[ContextValue]> {
        self.entry(key).map(|entry| entry.values.as_slice())
    }

    /// What the context says about `key` (case-insensitive).
    pub fn lookup(&self, key: &str) -> KeyState<'_> {
        if let Some(entry) = self.entry(key) {
            return KeyState::Present(PresentKey {
                values: &entry.values,
                multivalued: entry.listed_multivalued || entry.values.len() != 1,
            });
        }
        let listed = |keys: &[String]| {
            keys.iter()
                .any(|listed| listed.as_bytes().eq_ignore_ascii_case(key.as_bytes()))
        };
        let keys = self.keys();
        if !keys.unknown.is_empty() && listed(&keys.unknown) {
            return KeyState::Unknown;
        }
        if !keys.absent.is_empty() && listed(&keys.absent) {
            return KeyState::Absent;
        }
        match self.completeness {
            Completeness::Complete => KeyState::Absent,
            Completeness::Partial => KeyState::Unknown,
        }
    }

    /// The value a policy variable `${key}` resolves to: the value of a present,
    /// single-valued key. A multivalued key cannot be a policy variable (IAM: "you cannot use
    /// a multivalued context key as a policy variable",
    /// <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html>),
    /// so it resolves like an absent key.
    pub fn variable(&self, key: &str) -> KeyState<'_> {
        match self.lookup(key) {
            KeyState::Present(present) if present.multivalued => KeyState::Absent,
            state => state,
        }
    }

    /// The value of a single-valued key as text; what a policy variable resolves to.
    pub fn first_text(&self, key: &str) -> Option<&str> {
        match self.variable(key) {
            KeyState::Present(present) => present.values.first().map(ContextValue::text),
            KeyState::Absent | KeyState::Unknown => None,
        }
    }

    pub fn is_partial(&self) -> bool {
        self.completeness == Completeness::Partial
    }

    fn keys(&self) -> &Keys {
        self.keys.as_deref().unwrap_or(&NO_KEYS)
    }

    fn keys_mut(&mut self) -> &mut Keys {
        std::sync::Arc::make_mut(self.keys.get_or_insert_with(Default::default))
    }

    fn entry(&self, key: &str) -> Option<&Entry> {
        self.keys().entries.iter().find(|entry| {
            entry
                .lowercase_key
                .as_bytes()
                .eq_ignore_ascii_case(key.as_bytes())
        })
    }

    fn forget(&mut self, lowercase_key: &str) {
        let keys = self.keys_mut();
        keys.entries
            .retain(|entry| entry.lowercase_key != lowercase_key);
        keys.unknown.retain(|key| key != lowercase_key);
        keys.absent.retain(|key| key != lowercase_key);
    }

    fn entry_mut(&mut self, key: &str) -> &mut Entry {
        let lowercase_key = key.to_ascii_lowercase();
        let keys = self.keys_mut();
        keys.unknown.retain(|listed| *listed != lowercase_key);
        keys.absent.retain(|listed| *listed != lowercase_key);
        let position = match keys
            .entries
            .iter()
            .position(|entry| entry.lowercase_key == lowercase_key)
        {
            Some(position) => position,
            None => {
                keys.entries.push(Entry {
                    listed_multivalued: is_multivalued_key(&lowercase_key),
                    lowercase_key,
                    values: Vec::new(),
                });
                keys.entries.len() - 1
            }
        };
        &mut keys.entries[position]
    }
}

/// `aws:PrincipalType`: the kind of principal a request is made by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PrincipalType {
    /// The account root user.
    Account,
    /// An IAM user.
    User,
    /// A federated user (`sts:GetFederationToken`).
    FederatedUser,
    /// A role session (`sts:AssumeRole*`, an instance profile).
    AssumedRole,
}

impl PrincipalType {
    /// The value of `aws:PrincipalType`.
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalType::Account => "Account",
            PrincipalType::User => "User",
            PrincipalType::FederatedUser => "FederatedUser",
            PrincipalType::AssumedRole => "AssumedRole",
        }
    }
}

/// What an inventory knows of a principal beyond its ARN.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnownPrincipal {
    /// For a role session: the ARN of its role, with the role's path
    /// (`arn:aws:iam::111122223333:role/ci/deploy`). A session ARN does not carry the path.
    pub role_arn: Option<String>,
    /// The unique id of the user (`AIDA…`) or of the session's role (`AROA…`).
    pub unique_id: Option<String>,
}

/// Adds the global condition keys AWS derives from the principal making the request
/// (`principal_arn`: a user, root, role-session or federated-user ARN, or a role ARN standing
/// for any session of the role) to `context`. A key the context already has, or marks
/// unknown or absent, is left as it is. Values, per principal type
/// (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html>,
/// and the principal key table of
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html>):
///
/// | key | user | role session | root | federated user |
/// |---|---|---|---|---|
/// | `aws:PrincipalArn` | user ARN | the *role* ARN, with its path | `…:root` | the ARN |
/// | `aws:PrincipalAccount` | account | account | account | account |
/// | `aws:PrincipalType` | `User` | `AssumedRole` | `Account` | `FederatedUser` |
/// | `aws:userid` | unique id | `role-id:session-name` | account | `account:name` |
/// | `aws:username` | user name | absent | absent | absent |
/// | `aws:PrincipalIsAWSService` | `false` | `false` | `false` | `false` |
///
/// A value pipeleash cannot know is marked unknown rather than guessed: the role path of a
/// session whose role `known` does not give (a session ARN drops it), a unique id the
/// inventory does not give, the session name of "any session" of a role. Returns the
/// principal type, or `None` (and adds nothing) when the ARN is not one of these forms.
pub fn add_principal_keys(
    context: &mut Context,
    principal_arn: &str,
    known: &KnownPrincipal,
) -> Option<PrincipalType> {
    use super::arn::Arn;
    let arn = Arn::parse(principal_arn)?;
    let account = arn.account;
    let mut keys: Vec<(&str, Option<String>)> = Vec::new();
    let principal_type = if arn.service == "iam" && arn.resource == "root" {
        keys.push(("aws:PrincipalArn", Some(principal_arn.to_string())));
        keys.push(("aws:userid", Some(account.to_string())));
        PrincipalType::Account
    } else if let (true, Some(user)) = (arn.service == "iam", arn.resource.strip_prefix("user/")) {
        let name = user.rsplit('/').next().unwrap_or(user);
        keys.push(("aws:PrincipalArn", Some(principal_arn.to_string())));
        keys.push(("aws:username", Some(name.to_string())));
        keys.push(("aws:userid", known.unique_id.clone()));
        PrincipalType::User
    } else if arn.role_name().is_some() {
        // A role ARN stands for any session of the role: the session name is unknown.
        keys.push(("aws:PrincipalArn", Some(principal_arn.to_string())));
        keys.push(("aws:userid", None));
        PrincipalType::AssumedRole
    } else if let Some(role) = arn.assumed_role_name() {
        let session = arn
            .resource
            .strip_prefix("assumed-role/")
            .and_then(|rest| rest.split_once('/'))
            .map(|(_, session)| session);
        // The role ARN only when the inventory's role is this session's role.
        let role_arn = known.role_arn.as_deref().filter(|role_arn| {
            Arn::parse(role_arn).is_some_and(|parsed| {
                parsed.account == account
                    && parsed.partition == arn.partition
                    && parsed.role_name() == Some(role)
            })
        });
        keys.push(("aws:PrincipalArn", role_arn.map(str::to_string)));
        let userid = match (&known.unique_id, session, role_arn) {
            (Some(id), Some(session), Some(_)) => Some(format!("{id}:{session}")),
            _ => None,
        };
        keys.push(("aws:userid", userid));
        PrincipalType::AssumedRole
    } else if let (true, Some(name)) = (
        arn.service == "sts",
        arn.resource.strip_prefix("federated-user/"),
    ) {
        keys.push(("aws:PrincipalArn", Some(principal_arn.to_string())));
        keys.push(("aws:userid", Some(format!("{account}:{name}"))));
        PrincipalType::FederatedUser
    } else {
        return None;
    };
    keys.push(("aws:PrincipalAccount", Some(account.to_string())));
    keys.push((
        "aws:PrincipalType",
        Some(principal_type.as_str().to_string()),
    ));
    keys.push(("aws:PrincipalIsAWSService", Some("false".to_string())));
    if principal_type != PrincipalType::User {
        context.add_unless_given("aws:username", Derived::Absent);
    }
    for (key, value) in keys {
        let derived = match value {
            Some(value) => Derived::Value(value),
            None => Derived::Unknown,
        };
        context.add_unless_given(key, derived);
    }
    Some(principal_type)
}

/// A key derived from the principal.
enum Derived {
    Value(String),
    Unknown,
    Absent,
}

impl Context {
    /// Whether the context says anything about `key`: a value, or a mark.
    pub fn mentions(&self, key: &str) -> bool {
        let listed = |keys: &[String]| {
            keys.iter()
                .any(|listed| listed.as_bytes().eq_ignore_ascii_case(key.as_bytes()))
        };
        let keys = self.keys();
        self.entry(key).is_some() || listed(&keys.unknown) || listed(&keys.absent)
    }

    fn add_unless_given(&mut self, key: &str, derived: Derived) {
        if self.mentions(key) {
            return;
        }
        match derived {
            Derived::Value(value) => self.insert(key, value),
            Derived::Unknown => self.mark_unknown(key),
            Derived::Absent => self.mark_absent(key),
        }
    }
}

/// The documented multivalued context keys, from `providers/aws/multivalued-context-keys.tsv`
/// (one per line after the header; a trailing `*` makes a prefix).
const MULTIVALUED_KEYS: &str = include_str!("../../providers/aws/multivalued-context-keys.tsv");

/// The table, read once: lowercased exact keys (sorted) and lowercased prefixes.
fn multivalued_table() -> &'static (Vec<String>, Vec<String>) {
    static TABLE: std::sync::OnceLock<(Vec<String>, Vec<String>)> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let (mut exact, mut prefixes) = (Vec::new(), Vec::new());
        for key in MULTIVALUED_KEYS
            .lines()
            .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
            .skip(1)
            .filter_map(|line| line.split('\t').next())
        {
            let key = key.trim().to_ascii_lowercase();
            match key.strip_suffix('*') {
                Some(prefix) => prefixes.push(prefix.to_string()),
                None => exact.push(key),
            }
        }
        exact.sort();
        (exact, prefixes)
    })
}

/// Is `key` (any case) a documented multivalued context key (`aws:TagKeys`,
/// `aws:PrincipalServiceNamesList`, a service's `ArrayOf…` key)? The table names the page
/// each comes from.
pub fn is_multivalued_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    let (exact, prefixes) = multivalued_table();
    exact.binary_search(&key).is_ok() || prefixes.iter().any(|prefix| key.starts_with(prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_case_insensitive_and_values_preparsed() {
        let context = Context::complete()
            .with("aws:SourceIp", "10.0.0.1")
            .with("aws:TagKeys", "a")
            .with("AWS:tagkeys", "b");
        assert_eq!(
            context.get("AWS:SOURCEIP").map(<[ContextValue]>::len),
            Some(1)
        );
        assert_eq!(
            context.get("aws:TagKeys").map(<[ContextValue]>::len),
            Some(2)
        );
        assert!(
            context
                .get("aws:SourceIp")
                .and_then(|v| v.first())
                .and_then(ContextValue::ip_address)
                .is_some()
        );
        assert_eq!(context.get("missing"), None);
    }
}
