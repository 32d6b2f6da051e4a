//! `pipeleash policy simulate`: one request against a set of AWS policies, decided by the
//! project's own evaluator, with the statements behind the decision.

use super::policy::read_policy;
use super::{Exit, InputError, OutputFormat};
use crate::aws::eval::LayerResult;
use crate::aws::{
    Arn, Context, Decision, LayerSummary, NamedPolicy, Outcome, PolicyDocument, PolicyKind,
    PolicySet, Request, evaluate,
};
use serde::Serialize;
use std::path::{Path, PathBuf};

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
    #[arg(long, value_name = "ACCOUNT_ID")]
    pub resource_account: Option<String>,
    /// A request context key and value, `key=value`; repeat a key for a multi-valued key.
    /// The given context is the whole request: absent keys follow AWS's semantics.
    /// `aws:PrincipalArn` and `aws:PrincipalAccount` are filled in from `--principal`
    /// unless given.
    #[arg(long = "context", value_name = "KEY=VALUE")]
    pub context: Vec<String>,
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
fn request_context(pairs: &[String], principal: &str, account: &str) -> anyhow::Result<Context> {
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
            Some((_, list)) => list.push(value.to_string()),
            None => values.push((key.to_string(), vec![value.to_string()])),
        }
    }
    let mut context = Context::complete();
    for (key, default) in [
        ("aws:PrincipalArn", principal),
        ("aws:PrincipalAccount", account),
    ] {
        if !values
            .iter()
            .any(|(existing, _)| existing.eq_ignore_ascii_case(key))
        {
            context.insert(key, default);
        }
    }
    for (key, list) in values {
        context.set(&key, list);
    }
    Ok(context)
}

pub fn run(args: SimulateArgs, out: &mut dyn std::io::Write) -> anyhow::Result<Exit> {
    if args.policies.is_empty() && args.resource_policy.is_none() {
        return Err(InputError::wrap(
            "give at least one `--policy FILE` (identity policy) or a `--resource-policy FILE`",
        ));
    }
    if !args.action.contains(':') && args.action != "*" {
        return Err(InputError::wrap(format!(
            "`--action {}` must be `service:Action`, e.g. `s3:GetObject`",
            args.action
        )));
    }
    let principal = Arn::parse(&args.principal).ok_or_else(|| {
        InputError::wrap(format!(
            "`--principal {}` is not an ARN; give e.g. `arn:aws:iam::111122223333:role/deploy`",
            args.principal
        ))
    })?;
    let principal_account = principal.account.to_string();

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
    let resource_policy = args
        .resource_policy
        .as_ref()
        .map(|path| load(path, PolicyKind::Resource))
        .transpose()?;
    let session = args
        .session_policies
        .iter()
        .map(|path| load(path, PolicyKind::Session))
        .collect::<anyhow::Result<Vec<_>>>()?;

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
    let request = Request {
        principal_arn: args.principal.clone(),
        principal_account: principal_account.clone(),
        action: args.action.clone(),
        resource: args.resource.clone(),
        resource_account: args.resource_account.clone(),
        context: request_context(&args.context, &args.principal, &principal_account)?,
    };
    let decision = evaluate(&request, &policies);
    match args.format {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &SimulationV1::new(&request, &decision))?;
            writeln!(out)?;
        }
        OutputFormat::Table => print_table(&request, &decision, out)?,
    }
    Ok(if decision.is_allowed() {
        Exit::Clean
    } else {
        Exit::Findings
    })
}

fn decision_name(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Allowed => "allowed",
        Outcome::ExplicitDeny => "explicitly denied",
        Outcome::ImplicitDeny => "implicitly denied",
        Outcome::Conditional { .. } => "conditional",
    }
}

fn layer_name(result: LayerResult) -> &'static str {
    match result {
        LayerResult::Allows => "allows",
        LayerResult::DoesNotAllow => "does not allow",
        LayerResult::Unknown => "unknown",
    }
}

/// Which layers said what, in evaluation order; explains an implicit deny.
fn layer_rows(layers: &LayerSummary) -> Vec<(String, &'static str)> {
    let mut rows = vec![("identity policies".to_string(), layer_name(layers.identity))];
    if let Some(result) = layers.boundary {
        rows.push(("permissions boundary".into(), layer_name(result)));
    }
    for (level, result) in layers.service_control.iter().enumerate() {
        rows.push((format!("SCP level {}", level + 1), layer_name(*result)));
    }
    if let Some(result) = layers.session {
        rows.push(("session policies".into(), layer_name(result)));
    }
    if let Some(result) = layers.resource {
        rows.push(("resource policy".into(), layer_name(result)));
    }
    rows
}

fn print_table(
    request: &Request,
    decision: &Decision,
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
    if let Outcome::Conditional { missing_keys } = &decision.outcome {
        writeln!(
            out,
            "depends on absent context keys: {}",
            missing_keys.join(", ")
        )?;
    }
    if decision.layers.cross_account {
        writeln!(
            out,
            "cross-account: both the identity side and the resource policy must allow"
        )?;
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
    let mut layers = super::new_table(["layer", "result"]);
    for (layer, result) in layer_rows(&decision.layers) {
        layers.add_row([layer, result.to_string()]);
    }
    writeln!(out, "{layers}")?;
    Ok(())
}

/// The `--format json` shape of `policy simulate`: version 1, frozen.
#[derive(Serialize)]
struct SimulationV1 {
    version: u32,
    /// `allowed`, `explicitly-denied`, `implicitly-denied` or `conditional`.
    decision: &'static str,
    request: RequestV1,
    statements: Vec<StatementV1>,
    layers: Vec<LayerV1>,
    missing_context_keys: Vec<String>,
    cross_account: bool,
}

#[derive(Serialize)]
struct RequestV1 {
    principal: String,
    action: String,
    resource: String,
    resource_account: Option<String>,
}

#[derive(Serialize)]
struct StatementV1 {
    effect: String,
    policy: String,
    kind: String,
    statement: usize,
    sid: Option<String>,
}

#[derive(Serialize)]
struct LayerV1 {
    layer: String,
    result: &'static str,
}

impl SimulationV1 {
    fn new(request: &Request, decision: &Decision) -> Self {
        SimulationV1 {
            version: 1,
            decision: match decision.outcome {
                Outcome::Allowed => "allowed",
                Outcome::ExplicitDeny => "explicitly-denied",
                Outcome::ImplicitDeny => "implicitly-denied",
                Outcome::Conditional { .. } => "conditional",
            },
            request: RequestV1 {
                principal: request.principal_arn.clone(),
                action: request.action.clone(),
                resource: request.resource.clone(),
                resource_account: request.resource_account.clone(),
            },
            statements: decision
                .reasons
                .iter()
                .map(|reason| StatementV1 {
                    effect: reason.effect.to_string(),
                    policy: reason.policy.clone(),
                    kind: reason.kind.to_string(),
                    statement: reason.statement,
                    sid: reason.sid.clone(),
                })
                .collect(),
            layers: layer_rows(&decision.layers)
                .into_iter()
                .map(|(layer, result)| LayerV1 { layer, result })
                .collect(),
            missing_context_keys: match &decision.outcome {
                Outcome::Conditional { missing_keys } => missing_keys.clone(),
                _ => Vec::new(),
            },
            cross_account: decision.layers.cross_account,
        }
    }
}
