//! `pipeleash policy simulate`: one request against a set of AWS policies, decided by the
//! project's own evaluator, with the statements behind the decision.

use super::policy::read_policy;
use super::{Exit, InputError, OutputFormat};
use crate::aws::arn::is_account_id;
use crate::aws::condition::{OperatorFamily, validate_value};
use crate::aws::context::is_multivalued_key;
use crate::aws::policy::{Condition, Statement};
use crate::aws::{
    Arn, CompiledPolicy, CompiledPolicySet, Context, Decision, DecisionKind, KnownPrincipal,
    NamedPolicy, OperatorBase, PolicyDocument, PolicyKind, PolicySet, Request,
    RequiredResourcePolicy, add_principal_keys, parse_policy,
};
use crate::output::json::v1::simulate::{SimulationView, layer_rows};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The principal used when `--principal` is not given.
const DEFAULT_PRINCIPAL: &str = "arn:aws:iam::111122223333:role/simulated-principal";

#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    /// An identity policy of the principal (inline or managed); repeat for several.
    #[arg(long = "policy", value_name = "FILE")]
    pub policies: Vec<PathBuf>,
    /// The principal's permissions boundary.
    #[arg(long, value_name = "FILE")]
    pub boundary: Option<PathBuf>,
    /// One level of service control policies, from the organization root down to the
    /// account: repeat the flag once per level, in that order; several SCPs attached at the
    /// same level are given comma-separated (`--scp root.json --scp ou-a.json,ou-b.json`).
    /// Every level must allow.
    #[arg(long = "scp", value_name = "FILE[,FILE…]")]
    pub scps: Vec<String>,
    /// The resource-based policy of the resource (bucket policy, key policy, trust policy…).
    #[arg(long, value_name = "FILE")]
    pub resource_policy: Option<PathBuf>,
    /// A session policy passed when the role session was created; repeat for several.
    #[arg(long = "session-policy", value_name = "FILE")]
    pub session_policies: Vec<PathBuf>,
    /// The action, as `service:Action` (case does not matter).
    #[arg(long)]
    pub action: String,
    /// The resource ARN; `*` for actions that take no resource.
    #[arg(long, default_value = "*")]
    pub resource: String,
    /// The ARN of the user, role or assumed-role session making the request.
    #[arg(long, default_value = DEFAULT_PRINCIPAL)]
    pub principal: String,
    /// The account that owns the resource, when it differs from the principal's account
    /// (cross-account access then needs both the identity side and the resource policy).
    /// Default: the account in the resource ARN, else the principal's.
    #[arg(long, value_name = "ACCOUNT_ID")]
    pub resource_account: Option<String>,
    /// A request context key and value, `key=value`; repeat a key for a multi-valued key.
    /// The given context is the whole request: absent keys follow AWS's semantics.
    /// The keys AWS derives from the principal (`aws:PrincipalArn`, `aws:PrincipalAccount`,
    /// `aws:PrincipalType`, `aws:userid`, `aws:username`, `aws:PrincipalIsAWSService`) are
    /// filled in from `--principal` unless given; for a role session `aws:PrincipalArn` is
    /// the role's ARN, known only with its path (`--snapshot`, or give it here), and unknown
    /// otherwise.
    #[arg(long = "context", value_name = "KEY=VALUE")]
    pub context: Vec<String>,
    /// A snapshot (`pipeleash collect`) whose inventory holds the principal: gives the role
    /// path and unique id the keys derived from a role session or user need.
    #[arg(long, value_name = "DIR")]
    pub snapshot: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

struct LoadedPolicy {
    name: String,
    kind: PolicyKind,
    document: PolicyDocument,
}

fn load(path: &Path, kind: PolicyKind) -> anyhow::Result<LoadedPolicy> {
    Ok(LoadedPolicy {
        name: path.display().to_string(),
        kind,
        document: read_policy(path)?,
    })
}

fn named(policy: &LoadedPolicy) -> NamedPolicy<'_> {
    NamedPolicy::new(&policy.name, policy.kind, &policy.document)
}

/// Builds the request context from `--context key=value` flags and the principal.
fn request_context(
    pairs: &[String],
    principal: &str,
    known: &KnownPrincipal,
    policies: &[&LoadedPolicy],
) -> anyhow::Result<Context> {
    let mut values: Vec<(String, Vec<String>)> = Vec::new();
    for pair in pairs {
        let Some((key, value)) = pair.split_once('=') else {
            return Err(InputError::wrap(format!(
                "`--context {pair}` must be `key=value`, e.g. `aws:SourceIp=203.0.113.7`"
            )));
        };
        let key = key.trim();
        if key.is_empty() {
            return Err(InputError::wrap(format!(
                "`--context {pair}` has an empty key"
            )));
        }
        match values
            .iter_mut()
            .find(|(existing, _)| existing.eq_ignore_ascii_case(key))
        {
            Some((_, list)) => {
                if !is_multivalued_key(key) && !compared_as_set(policies, key) {
                    return Err(InputError::wrap(format!(
                        "`--context {key}` is given twice (`{}` and `{value}`), but `{key}` is a single-valued key: give it once (only multivalued keys such as `aws:TagKeys`, listed in providers/aws/multivalued-context-keys.tsv, or keys the policies compare with `ForAnyValue:`/`ForAllValues:` take several values)",
                        list[0]
                    )));
                }
                list.push(value.to_string())
            }
            None => values.push((key.to_string(), vec![value.to_string()])),
        }
    }
    let mut context = Context::complete();
    for (key, list) in &values {
        for value in list {
            check_context_value(policies, key, value)?;
        }
    }
    for (key, list) in values {
        context.set(&key, list);
    }
    add_principal_keys(&mut context, principal, known);
    Ok(context)
}

/// Every condition of the given policies, with where it is.
fn conditions<'a>(
    policies: &'a [&'a LoadedPolicy],
) -> impl Iterator<Item = (&'a LoadedPolicy, &'a Statement, &'a Condition)> + 'a {
    policies.iter().flat_map(|policy| {
        policy
            .document
            .statements
            .iter()
            .flat_map(move |statement| {
                statement
                    .conditions
                    .iter()
                    .map(move |condition| (*policy, statement, condition))
            })
    })
}

/// Does a condition of the policies compare `key` with `ForAnyValue:`/`ForAllValues:`, so
/// that the policies treat it as multivalued?
fn compared_as_set(policies: &[&LoadedPolicy], key: &str) -> bool {
    conditions(policies).any(|(_, _, condition)| {
        condition.key.eq_ignore_ascii_case(key) && condition.operator.quantifier.is_some()
    })
}

/// An input error when a condition of the policies compares `key` as a type `value` cannot
/// be read as (a date, a number, a boolean, an IP address, base64 data): IAM would not match
/// such a value, so a `Deny` would be skipped silently.
/// (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html>)
fn check_context_value(policies: &[&LoadedPolicy], key: &str, value: &str) -> anyhow::Result<()> {
    for (policy, statement, condition) in conditions(policies) {
        if !condition.key.eq_ignore_ascii_case(key) || condition.operator.base == OperatorBase::Null
        {
            continue;
        }
        if let Err(expected) = validate_value(condition.operator.base, value) {
            let sid = statement
                .sid
                .as_deref()
                .map(|sid| format!(" (`{sid}`)"))
                .unwrap_or_default();
            return Err(InputError::wrap(format!(
                "`--context {key}={value}`: `{}` in policy `{}` statement {}{sid} compares `{key}` as {expected}, and `{value}` is not one; give {expected} (e.g. {})",
                condition.operator,
                policy.name,
                statement.number(),
                example_of(condition.operator.base),
            )));
        }
    }
    Ok(())
}

/// A value of the type an operator compares, for error messages.
fn example_of(base: OperatorBase) -> &'static str {
    match base.family() {
        OperatorFamily::Numeric => "`10`",
        OperatorFamily::Date => "`2026-06-01T00:00:00Z`",
        OperatorFamily::Bool | OperatorFamily::Null => "`true`",
        OperatorFamily::Binary => "`QmluYXJ5`",
        OperatorFamily::IpAddress => "`203.0.113.7`",
        OperatorFamily::String | OperatorFamily::Arn => "`text`",
    }
}

/// What the snapshot's inventory knows of the principal: the role (with its path) of a
/// session, the unique id of a user or role. `None` when the snapshot does not hold it.
fn known_principal(snapshot: &Path, principal: &Arn<'_>) -> anyhow::Result<Found> {
    let opened = crate::snapshot::Snapshot::open(snapshot).map_err(InputError::wrap)?;
    let inventories = opened.aws_inventories().map_err(InputError::wrap)?;
    let Some(account) = inventories
        .iter()
        .find(|inventory| inventory.account_id == principal.account)
    else {
        return Ok(Found::Nothing);
    };
    let known = |role: &crate::aws::inventory::AwsRole| {
        Found::Known(KnownPrincipal {
            role_arn: Some(role.arn.clone()),
            unique_id: Some(role.role_id.clone()),
        })
    };
    // A session ARN names its role without the path: the name is all there is to match.
    if let Some(name) = principal.assumed_role_name() {
        return Ok(account
            .roles
            .iter()
            .find(|role| role.name == name)
            .map_or(Found::Nothing, known));
    }
    let arn = format!(
        "arn:{}:{}:{}:{}:{}",
        principal.partition,
        principal.service,
        principal.region,
        principal.account,
        principal.resource
    );
    // A role ARN carries its path: only the exact ARN is that role.
    if let Some(name) = principal.role_name() {
        if let Some(role) = account.roles.iter().find(|role| role.arn == arn) {
            return Ok(known(role));
        }
        return Ok(account
            .roles
            .iter()
            .find(|role| role.name == name)
            .map_or(Found::Nothing, |role| Found::SameName(role.arn.clone())));
    }
    Ok(account
        .users
        .iter()
        .find(|user| user.arn == arn)
        .map_or(Found::Nothing, |user| {
            Found::Known(KnownPrincipal {
                role_arn: None,
                unique_id: Some(user.user_id.clone()),
            })
        }))
}

/// What a snapshot holds of the principal.
enum Found {
    Known(KnownPrincipal),
    /// Not there, but a role of the same name is, at this ARN (another path).
    SameName(String),
    Nothing,
}

/// An input error when `--principal` cannot name a principal: an IAM or STS ARN whose
/// account is not 12 digits, or a role session without a session name
/// (`arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`,
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-arns>).
fn check_principal(text: &str, arn: &Arn<'_>) -> anyhow::Result<()> {
    if matches!(arn.service, "iam" | "sts") && !is_account_id(arn.account) {
        return Err(InputError::wrap(format!(
            "`--principal {text}`: the account `{}` is not an AWS account id; give its 12 digits, e.g. `arn:aws:iam::111122223333:role/deploy`",
            arn.account
        )));
    }
    if arn.service == "sts"
        && let Some(rest) = arn.resource.strip_prefix("assumed-role/")
    {
        let mut parts = rest.splitn(2, '/');
        let role = parts.next().unwrap_or_default();
        let session = parts.next().unwrap_or_default();
        if role.is_empty() || session.is_empty() {
            return Err(InputError::wrap(format!(
                "`--principal {text}`: a role session ARN needs the role and the session name, `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`"
            )));
        }
    }
    Ok(())
}

/// The key policy every KMS key has when it was created without one: it lets the account's
/// IAM policies grant access to the key
/// (<https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html>).
fn default_key_policy(partition: &str, account: &str) -> anyhow::Result<PolicyDocument> {
    let text = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{{"AWS":"arn:{partition}:iam::{account}:root"}},"Action":"kms:*","Resource":"*"}}]}}"#
    );
    parse_policy(&text).map_err(|error| anyhow::anyhow!("the default key policy: {error}"))
}

pub fn run(args: SimulateArgs, out: &mut dyn std::io::Write) -> anyhow::Result<Exit> {
    if !args.action.contains(':') && args.action != "*" {
        return Err(InputError::wrap(format!(
            "`--action {}` must be `service:Action`, e.g. `s3:GetObject`",
            args.action
        )));
    }
    if args.action.contains(['*', '?']) {
        return Err(InputError::wrap(format!(
            "`--action {}` has a wildcard, but a request is one action: give one, e.g. `s3:GetObject`",
            args.action
        )));
    }
    let principal = Arn::parse(&args.principal).ok_or_else(|| {
        InputError::wrap(format!(
            "`--principal {}` is not an ARN; give e.g. `arn:aws:iam::111122223333:role/deploy`",
            args.principal
        ))
    })?;
    check_principal(&args.principal, &principal)?;
    if let Some(account) = &args.resource_account
        && !is_account_id(account)
    {
        return Err(InputError::wrap(format!(
            "`--resource-account {account}` is not an AWS account id: give its 12 digits, e.g. `111122223333`"
        )));
    }
    let principal_account = principal.account.to_string();
    let mut notes = Vec::new();
    let catalog = crate::catalog::Catalog::aws()?;
    if catalog.action(&args.action).is_none() {
        notes.push(format!(
            "unknown action `{}`: not in the catalog; check the spelling (the catalog may also lag a new action)",
            args.action
        ));
    }
    let known = match &args.snapshot {
        Some(snapshot) => match known_principal(snapshot, &principal)? {
            Found::Known(known) => known,
            Found::Nothing => {
                notes.push(format!(
                    "`{}` is not in snapshot `{}`: the keys that need its role path or unique id are unknown",
                    args.principal,
                    snapshot.display()
                ));
                KnownPrincipal::default()
            }
            Found::SameName(arn) => {
                notes.push(format!(
                    "no identity `{}` in snapshot `{}`; a role of that name exists at `{arn}`: the keys that need its role path or unique id are unknown (give that ARN as `--principal` if it is the one meant)",
                    args.principal,
                    snapshot.display()
                ));
                KnownPrincipal::default()
            }
        },
        None => KnownPrincipal::default(),
    };

    let identity = args
        .policies
        .iter()
        .map(|path| load(path, PolicyKind::Identity))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let boundary = args
        .boundary
        .as_ref()
        .map(|path| load(path, PolicyKind::PermissionsBoundary))
        .transpose()?;
    let mut scp_levels = Vec::new();
    for level in &args.scps {
        let files = level
            .split(',')
            .filter(|file| !file.is_empty())
            .map(|file| load(Path::new(file), PolicyKind::ServiceControl))
            .collect::<anyhow::Result<Vec<_>>>()?;
        scp_levels.push(files);
    }
    let mut resource_policy = args
        .resource_policy
        .as_ref()
        .map(|path| load(path, PolicyKind::Resource))
        .transpose()?;
    let session = args
        .session_policies
        .iter()
        .map(|path| load(path, PolicyKind::Session))
        .collect::<anyhow::Result<Vec<_>>>()?;

    let resource_arn = Arn::parse(&args.resource);
    let resource_account = args.resource_account.clone().or_else(|| {
        resource_arn
            .filter(|arn| !arn.account.is_empty())
            .map(|arn| arn.account.to_string())
    });
    // A key policy or trust policy must itself allow; without one, say what is assumed.
    let mut missing_trust_policy = false;
    if resource_policy.is_none() {
        match RequiredResourcePolicy::of(&args.action, &args.resource) {
            Some(RequiredResourcePolicy::KmsKeyPolicy) => {
                let key = resource_arn.as_ref();
                let partition = key.map_or("aws", |arn| arn.partition);
                let key_account = resource_account.as_deref().unwrap_or(&principal_account);
                notes.push(format!(
                    "no `--resource-policy`: assumed the key's default key policy, which lets IAM policies of account `{key_account}` grant access to it (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html)"
                ));
                resource_policy = Some(LoadedPolicy {
                    name: "default key policy (assumed)".to_string(),
                    kind: PolicyKind::Resource,
                    document: default_key_policy(partition, key_account)?,
                });
            }
            Some(RequiredResourcePolicy::RoleTrustPolicy) => {
                notes.push(
                    "no `--resource-policy`: a role's trust policy must allow the principal, and none was given; give the role's trust policy to decide".to_string(),
                );
                missing_trust_policy = true;
            }
            None => {}
        }
    }

    let policies = PolicySet {
        identity: identity.iter().map(named).collect(),
        boundary: boundary.as_ref().map(named),
        scps: scp_levels
            .iter()
            .map(|level| level.iter().map(named).collect())
            .collect(),
        resource: resource_policy.as_ref().map(named),
        session: session.iter().map(named).collect(),
    };
    let loaded: Vec<&LoadedPolicy> = identity
        .iter()
        .chain(&boundary)
        .chain(scp_levels.iter().flatten())
        .chain(&resource_policy)
        .chain(&session)
        .collect();
    let context = request_context(&args.context, &args.principal, &known, &loaded)?;
    let request = Request {
        principal_arn: args.principal.clone(),
        principal_account: principal_account.clone(),
        action: args.action.clone(),
        resource: args.resource.clone(),
        resource_account,
        context,
    };
    let mut compiled = CompiledPolicySet::new(&policies);
    if missing_trust_policy {
        // No trust policy: nothing in it allows the principal.
        compiled.resource = Some(Arc::new(CompiledPolicy::empty(
            "no trust policy given",
            PolicyKind::Resource,
        )));
    }
    let decision = compiled.evaluate(&request);
    // Say how to settle a decision that waits on a key derived from the principal.
    if let DecisionKind::Conditional { missing_keys } = &decision.outcome {
        let waits_on = |key: &str| {
            missing_keys
                .iter()
                .any(|missing| missing.eq_ignore_ascii_case(key))
        };
        if waits_on("aws:PrincipalArn") && principal.assumed_role_name().is_some() {
            notes.push(format!(
                "`aws:PrincipalArn` of a role session is its role's ARN with the role's path, which `{}` does not carry: it is unknown; give `--snapshot DIR` or `--context aws:PrincipalArn=<role ARN>`",
                args.principal
            ));
        }
        if waits_on("aws:userid") {
            notes.push(
                "`aws:userid` needs the unique id of the user or role: give `--snapshot DIR` or `--context aws:userid=…`".to_string(),
            );
        }
    }
    match args.format {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(
                &mut *out,
                &SimulationView::new(&request, &decision, &notes, missing_trust_policy),
            )?;
            writeln!(out)?;
        }
        OutputFormat::Table => print_table(&request, &decision, &notes, missing_trust_policy, out)?,
    }
    Ok(if decision.is_allowed() {
        Exit::Clean
    } else {
        Exit::Findings
    })
}

fn decision_name(outcome: &DecisionKind) -> &'static str {
    match outcome {
        DecisionKind::Allowed => "allowed",
        DecisionKind::ExplicitDeny => "explicitly denied",
        DecisionKind::ImplicitDeny => "implicitly denied",
        DecisionKind::Conditional { .. } => "conditional",
    }
}

fn print_table(
    request: &Request,
    decision: &Decision,
    notes: &[String],
    trust_policy_missing: bool,
    out: &mut dyn std::io::Write,
) -> anyhow::Result<()> {
    writeln!(
        out,
        "{}: `{}` on `{}` by `{}`",
        decision_name(&decision.outcome),
        request.action,
        request.resource,
        request.principal_arn
    )?;
    if let DecisionKind::Conditional { missing_keys } = &decision.outcome {
        writeln!(
            out,
            "depends on context keys that are absent or not known: {}",
            missing_keys.join(", ")
        )?;
    }
    if decision.layers.cross_account {
        writeln!(
            out,
            "cross-account: both the identity side and the resource policy must allow"
        )?;
    }
    if let Some(required) = decision.layers.resource_policy_required {
        writeln!(
            out,
            "the resource's {} must allow the principal itself, even within one account",
            required.as_str()
        )?;
    }
    for note in notes {
        writeln!(out, "note: {note}")?;
    }
    if !decision.reasons.is_empty() {
        let mut table = super::new_table(["effect", "policy", "kind", "statement", "sid"]);
        for reason in &decision.reasons {
            table.add_row([
                reason.effect.to_string(),
                reason.policy.clone(),
                reason.kind.to_string(),
                reason.statement.to_string(),
                reason.sid.clone().unwrap_or_default(),
            ]);
        }
        writeln!(out, "{table}")?;
    }
    // Each layer's Allow statements, as AWS checks them after looking for an explicit Deny
    // (IAM User Guide, "Policy evaluation logic",
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html).
    let mut layers = super::new_table(["layer", "its Allow statements"]);
    for (layer, result) in layer_rows(&decision.layers, trust_policy_missing) {
        layers.add_row([layer, result.to_string()]);
    }
    writeln!(out, "{layers}")?;
    if matches!(decision.outcome, DecisionKind::ExplicitDeny) {
        writeln!(
            out,
            "the Deny statement(s) above decide, whatever the layers' Allow statements say"
        )?;
    }
    Ok(())
}
