//! Subject grammars and the judge of trusted `sub` patterns.
//!
//! Each CI issuer builds the `sub` claim of its tokens from documented parts: owner and
//! repository, branch, tag, environment or pull request for GitHub Actions; group, project and
//! ref for GitLab; organization, project, workspace and run phase for HCP Terraform; and so on.
//! The grammars live in `providers/ci/subjects.tsv` (embedded), one row per part, with the
//! documentation page each comes from.
//!
//! A trust compares `sub` with patterns (`StringLike` globs, exact values). The judge reads a
//! pattern against its issuer's grammar and says which parts it leaves open to whoever runs a
//! pipeline. It is exhaustive: it walks the product of the pattern and the grammar as automata,
//! so every subject the grammar can produce is considered, including customised subjects and
//! wildcards that run across `:` and `/`. A part is *open* when, in some subject both admit, a
//! wildcard of the pattern — not a literal character — stands for a character of that part:
//! `repo:acme/web*` leaves the repository open (`repo:acme/web-evil:…`) and the context too
//! (`repo:acme/web:pull_request`).

use super::trust::{ClaimCondition, ClaimOperator, FederatedTrust};
use super::workload::CiIssuer;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Mutex, OnceLock};

/// The grammar table embedded from `providers/ci/subjects.tsv`.
pub const SUBJECTS_TSV: &str = include_str!("../../providers/ci/subjects.tsv");

/// Branch names taken as the reviewed default branch.
const DEFAULT_BRANCHES: [&str; 2] = ["main", "master"];

/// At most this many patterns are intersected (the judged value and the first other
/// positive conditions): dropping a condition only widens what is judged, never narrows it.
const MAX_PATTERNS: usize = 4;

/// The judge gives up past this many states and judges the pattern as of unknown format.
const STATE_BUDGET: usize = 400_000;

/// What a part of a subject stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FieldRole {
    /// The customer of the CI service: GitHub owner, GitLab top-level group, Terraform
    /// organization.
    Tenant,
    /// The customer's immutable id (GitHub owner id, GitLab namespace id).
    TenantId,
    /// A repository, project, workspace or pipeline the customer's members can create.
    Repository,
    /// A globally unique repository id: pins the customer too.
    RepositoryId,
    Branch,
    Tag,
    Environment,
    /// A run phase (HCP Terraform `plan`/`apply`).
    Phase,
    /// The reusable workflow that runs (GitHub `job_workflow_ref`).
    Workflow,
    /// Anything else (commit, step, user, run ids); may be empty.
    Detail,
}

impl FieldRole {
    fn parse(text: &str) -> Option<FieldRole> {
        Some(match text {
            "tenant" => FieldRole::Tenant,
            "tenant-id" => FieldRole::TenantId,
            "repository" => FieldRole::Repository,
            "repository-id" => FieldRole::RepositoryId,
            "branch" => FieldRole::Branch,
            "tag" => FieldRole::Tag,
            "environment" => FieldRole::Environment,
            "phase" => FieldRole::Phase,
            "workflow" => FieldRole::Workflow,
            "detail" => FieldRole::Detail,
            _ => return None,
        })
    }
}

/// The characters a field's value can hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Characters {
    Any,
    Digits,
    /// ASCII letters and digits, and these.
    Alphanumeric(Vec<char>),
    /// Every character but these.
    Not(Vec<char>),
}

impl Characters {
    fn parse(text: &str) -> Option<Characters> {
        match text {
            "any" => Some(Characters::Any),
            "digits" => Some(Characters::Digits),
            _ => {
                if let Some(extra) = text.strip_prefix("alphanumeric and ") {
                    return Some(Characters::Alphanumeric(extra.chars().collect()));
                }
                let excluded = text.strip_prefix("not ")?;
                (!excluded.is_empty()).then(|| Characters::Not(excluded.chars().collect()))
            }
        }
    }

    fn admits(&self, c: char) -> bool {
        match self {
            Characters::Any => true,
            Characters::Digits => c.is_ascii_digit(),
            Characters::Alphanumeric(extra) => c.is_ascii_alphanumeric() || extra.contains(&c),
            Characters::Not(excluded) => !excluded.contains(&c),
        }
    }
}

/// A part of a subject template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    pub role: FieldRole,
    pub characters: Characters,
}

/// Where a segment stands in a subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    /// A complete subject.
    Whole,
    /// A `key:value` part that opens a customised subject.
    First,
    /// A `key:value` part anywhere in a customised subject, joined to the others by `:`.
    Any,
}

/// What a segment says about the job's context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubjectContext {
    Branch,
    Tag,
    Environment,
    PullRequest,
}

/// One alternative part of a subject, from one row of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub position: Position,
    pub context: Option<SubjectContext>,
    /// The template as written (`repo:{owner}/{repository}`).
    pub template: String,
    /// The documentation page the template comes from.
    pub source: String,
    pieces: Vec<Piece>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Piece {
    Literal(char),
    Field(usize),
}

/// Where the customer is named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TenantNamedBy {
    /// In the subject (a shared issuer signs for every customer).
    Subject,
    /// By the issuer URL itself: one issuer per customer.
    Issuer,
}

/// How pull-request jobs appear in subjects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullRequests {
    /// As their own context (GitHub `pull_request`).
    Context,
    /// As jobs of their source branch: a pattern open on the branch admits them.
    Branch,
}

/// The subject grammar of one CI system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectGrammar {
    pub issuer: CiIssuer,
    /// `organisation`, `group`, `organization`, `workspace`.
    pub tenant_noun: String,
    /// `repository`, `project`, `workspace`, `pipeline`.
    pub repository_noun: String,
    pub tenant_named_by: TenantNamedBy,
    pub pull_requests: PullRequests,
    pub fields: Vec<Field>,
    pub segments: Vec<Segment>,
    automaton: Automaton,
}

/// A malformed line of the subject grammar table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubjectGrammarError {
    #[error("subject grammar line {line}: {reason}")]
    Line { line: usize, reason: String },
    #[error("subject grammar of `{kind}`: {reason}")]
    Grammar { kind: String, reason: String },
}

/// Parses a table in the `providers/ci/subjects.tsv` format.
pub fn parse_subject_grammars(text: &str) -> Result<Vec<SubjectGrammar>, SubjectGrammarError> {
    struct Draft {
        issuer: CiIssuer,
        tenant_noun: String,
        repository_noun: String,
        tenant_named_by: TenantNamedBy,
        pull_requests: PullRequests,
        fields: Vec<Field>,
        segments: Vec<(Position, Option<SubjectContext>, String, String, usize)>,
    }
    let mut drafts: Vec<Draft> = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let error = |reason: &str| SubjectGrammarError::Line {
            line,
            reason: reason.to_string(),
        };
        let columns: Vec<&str> = trimmed.split('\t').map(str::trim).collect();
        let kind = columns.get(1).copied().unwrap_or_default();
        let issuer = CiIssuer::from_kind(kind)
            .ok_or_else(|| error(&format!("unknown issuer kind `{kind}`")))?;
        let draft = |drafts: &mut Vec<Draft>| -> Result<usize, SubjectGrammarError> {
            drafts
                .iter()
                .position(|draft| draft.issuer == issuer)
                .ok_or_else(|| error("an `issuer` row must come before its fields and segments"))
        };
        match columns.as_slice() {
            ["issuer", _, tenant, repository, named_by, pull_requests] => {
                if drafts.iter().any(|draft| draft.issuer == issuer) {
                    return Err(error("a second `issuer` row for the same kind"));
                }
                let tenant_named_by = match *named_by {
                    "subject" => TenantNamedBy::Subject,
                    "issuer" => TenantNamedBy::Issuer,
                    _ => return Err(error("the tenant is named by `subject` or `issuer`")),
                };
                let pull_requests = match *pull_requests {
                    "context" => PullRequests::Context,
                    "branch" => PullRequests::Branch,
                    _ => return Err(error("pull requests are a `context` or a `branch`")),
                };
                drafts.push(Draft {
                    issuer: issuer.clone(),
                    tenant_noun: tenant.to_string(),
                    repository_noun: repository.to_string(),
                    tenant_named_by,
                    pull_requests,
                    fields: Vec::new(),
                    segments: Vec::new(),
                });
            }
            ["field", _, name, role, characters] => {
                let position = draft(&mut drafts)?;
                let role = FieldRole::parse(role)
                    .ok_or_else(|| error(&format!("unknown field role `{role}`")))?;
                let characters = Characters::parse(characters).ok_or_else(|| {
                    error(
                        "characters are `any`, `digits`, `alphanumeric and <characters>` or `not <characters>`",
                    )
                })?;
                let fields = &mut drafts[position].fields;
                if fields.iter().any(|field| field.name == *name) {
                    return Err(error(&format!("field `{name}` is defined twice")));
                }
                fields.push(Field {
                    name: name.to_string(),
                    role,
                    characters,
                });
            }
            ["segment", _, position, context, template, source] => {
                let draft_index = draft(&mut drafts)?;
                let position = match *position {
                    "whole" => Position::Whole,
                    "first" => Position::First,
                    "any" => Position::Any,
                    _ => return Err(error("a segment position is `whole`, `first` or `any`")),
                };
                let context = match *context {
                    "-" => None,
                    "branch" => Some(SubjectContext::Branch),
                    "tag" => Some(SubjectContext::Tag),
                    "environment" => Some(SubjectContext::Environment),
                    "pull-request" => Some(SubjectContext::PullRequest),
                    _ => {
                        return Err(error(
                            "a segment context is `branch`, `tag`, `environment`, `pull-request` or `-`",
                        ));
                    }
                };
                if !source.starts_with("https://") {
                    return Err(error("a segment's source must be the documentation URL"));
                }
                drafts[draft_index].segments.push((
                    position,
                    context,
                    template.to_string(),
                    source.to_string(),
                    line,
                ));
            }
            _ => {
                return Err(error(
                    "expected `issuer`, `field` or `segment` with its tab-separated columns",
                ));
            }
        }
    }
    drafts
        .into_iter()
        .map(|draft| {
            let mut segments = Vec::new();
            for (position, context, template, source, line) in draft.segments {
                let pieces = parse_template(&template, &draft.fields)
                    .map_err(|reason| SubjectGrammarError::Line { line, reason })?;
                segments.push(Segment {
                    position,
                    context,
                    template,
                    source,
                    pieces,
                });
            }
            let kind = draft.issuer.kind().to_string();
            let automaton = Automaton::build(&segments)
                .map_err(|reason| SubjectGrammarError::Grammar { kind, reason })?;
            Ok(SubjectGrammar {
                issuer: draft.issuer,
                tenant_noun: draft.tenant_noun,
                repository_noun: draft.repository_noun,
                tenant_named_by: draft.tenant_named_by,
                pull_requests: draft.pull_requests,
                fields: draft.fields,
                segments,
                automaton,
            })
        })
        .collect()
}

fn parse_template(template: &str, fields: &[Field]) -> Result<Vec<Piece>, String> {
    let mut pieces = Vec::new();
    let mut rest = template;
    while let Some(c) = rest.chars().next() {
        if c == '{' {
            let end = rest
                .find('}')
                .ok_or_else(|| format!("unclosed `{{` in `{template}`"))?;
            let name = &rest[1..end];
            let field = fields
                .iter()
                .position(|field| field.name == name)
                .ok_or_else(|| format!("template `{template}` names unknown field `{name}`"))?;
            if matches!(pieces.last(), Some(Piece::Field(_))) {
                return Err(format!(
                    "template `{template}` puts two fields side by side"
                ));
            }
            pieces.push(Piece::Field(field));
            rest = &rest[end + 1..];
        } else {
            pieces.push(Piece::Literal(c));
            rest = &rest[c.len_utf8()..];
        }
    }
    if pieces.is_empty() {
        return Err("an empty template".to_string());
    }
    Ok(pieces)
}

/// The embedded grammars, parsed once.
pub fn subject_grammars() -> Result<&'static [SubjectGrammar], &'static SubjectGrammarError> {
    static TABLE: OnceLock<Result<Vec<SubjectGrammar>, SubjectGrammarError>> = OnceLock::new();
    TABLE
        .get_or_init(|| parse_subject_grammars(SUBJECTS_TSV))
        .as_ref()
        .map(Vec::as_slice)
}

/// The grammar of an issuer's subjects, when pipeleash knows it. A broken embedded table is
/// caught by its tests; at run time the honest answer is "unknown format", which the judge
/// treats with suspicion rather than as safe.
pub fn grammar_for(issuer: &CiIssuer) -> Option<&'static SubjectGrammar> {
    subject_grammars()
        .ok()?
        .iter()
        .find(|grammar| grammar.issuer == *issuer)
}

/// The grammar as a nondeterministic automaton over characters.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Automaton {
    nodes: Vec<Node>,
    start: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    Literal(char, usize),
    /// A field: one or more characters (zero or more for `detail`), then `next`.
    Field(usize, usize),
    Split(Vec<usize>),
    Enter(usize, usize),
    Leave(usize, usize),
    Accept,
}

impl Automaton {
    fn build(segments: &[Segment]) -> Result<Automaton, String> {
        let whole = segments.iter().any(|s| s.position == Position::Whole);
        let parts = segments.iter().any(|s| s.position != Position::Whole);
        if whole && parts {
            return Err("mixes `whole` segments with `first`/`any` ones".to_string());
        }
        if !segments
            .iter()
            .any(|s| matches!(s.position, Position::Whole | Position::Any))
        {
            return Err("has no `whole` or `any` segment".to_string());
        }
        let mut nodes = vec![Node::Accept];
        let accept = 0;
        // Appends the chain of a segment ending at `next`; returns its entry.
        let chain = |nodes: &mut Vec<Node>, index: usize, next: usize| -> usize {
            let leave = nodes.len();
            nodes.push(Node::Leave(index, next));
            let mut following = leave;
            for piece in segments[index].pieces.iter().rev() {
                let node = match *piece {
                    Piece::Literal(c) => Node::Literal(c, following),
                    Piece::Field(field) => Node::Field(field, following),
                };
                nodes.push(node);
                following = nodes.len() - 1;
            }
            nodes.push(Node::Enter(index, following));
            nodes.len() - 1
        };
        let of = |position: Position| -> Vec<usize> {
            (0..segments.len())
                .filter(|&index| segments[index].position == position)
                .collect()
        };
        if whole {
            let entries: Vec<usize> = of(Position::Whole)
                .into_iter()
                .map(|index| chain(&mut nodes, index, accept))
                .collect();
            nodes.push(Node::Split(entries));
            let start = nodes.len() - 1;
            return Ok(Automaton { nodes, start });
        }
        // After a part: the end, or `:` and another `any` part.
        let after = nodes.len();
        nodes.push(Node::Split(Vec::new()));
        let any_entries: Vec<usize> = of(Position::Any)
            .into_iter()
            .map(|index| chain(&mut nodes, index, after))
            .collect();
        nodes.push(Node::Split(any_entries.clone()));
        let any_split = nodes.len() - 1;
        nodes.push(Node::Literal(':', any_split));
        let colon = nodes.len() - 1;
        nodes[after] = Node::Split(vec![accept, colon]);
        let first: Vec<usize> = of(Position::First);
        let start = if first.is_empty() {
            any_split
        } else {
            let entries: Vec<usize> = first
                .into_iter()
                .map(|index| chain(&mut nodes, index, after))
                .collect();
            nodes.push(Node::Split(entries));
            nodes.len() - 1
        };
        Ok(Automaton { nodes, start })
    }
}

/// One compared `sub` value: a `StringLike` glob (`wildcards`: `*` and `?` are wildcards) or an
/// exact value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubjectPattern<'a> {
    pub value: &'a str,
    pub wildcards: bool,
    pub ignore_case: bool,
}

impl SubjectPattern<'_> {
    /// Does the pattern admit this concrete subject, as the cloud compares?
    pub fn admits(&self, subject: &str) -> bool {
        let case = if self.ignore_case {
            crate::matching::Case::Insensitive
        } else {
            crate::matching::Case::Sensitive
        };
        if self.wildcards {
            crate::matching::glob_match(self.value, subject, case)
        } else if self.ignore_case {
            self.value.to_lowercase() == subject.to_lowercase()
        } else {
            self.value == subject
        }
    }

    /// A `StringLike` pattern with `*` or `?` in it.
    pub fn has_wildcard(&self) -> bool {
        self.wildcards && self.value.contains(['*', '?'])
    }

    fn tokens(&self) -> Vec<Token> {
        self.value
            .chars()
            .map(|c| match c {
                '*' if self.wildcards => Token::Many,
                '?' if self.wildcards => Token::One,
                c => Token::Char(c),
            })
            .collect()
    }
}

/// What a trusted subject pattern admits, judged against its issuer's grammar.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SubjectScope {
    /// Some subject of the issuer's documented grammar matches the pattern.
    pub fits_grammar: bool,
    /// Any repository of any owner: in some admitted subject neither the owner, nor the
    /// repository, nor a reusable workflow is pinned (`repo:*`, `*`).
    pub any_repository: bool,
    /// The owner is left open in some admitted subject (`repo:*/infra:…`): on a shared issuer,
    /// any customer of the CI service can present it.
    pub tenant_open: bool,
    /// A named repository under any owner: the owner is open, the repository name pinned
    /// (`repo:*/infra:…`, `organization:*:project:p:workspace:w:…`).
    pub named_under_any_owner: bool,
    /// The owner is left open but a reusable workflow is pinned (`job_workflow_ref:…` alone):
    /// any repository that may call the workflow.
    pub workflow_callers: bool,
    /// Any repository of one owner (`repo:acme/*`, `project_path:acme/*:…`).
    pub any_in_owner: bool,
    /// Some admitted subject names no branch, tag, environment or pull request (a customised
    /// subject without its context): every job of the repository.
    pub no_context: bool,
    /// Pull-request jobs (GitHub `pull_request`; for CI systems that run them as branch jobs,
    /// any branch).
    pub pull_request: bool,
    /// A branch named by whoever pushes it.
    pub any_branch: bool,
    pub any_environment: bool,
    pub any_tag: bool,
    pub any_run_phase: bool,
    /// A named branch other than `main`/`master`.
    pub other_branch: bool,
    /// Every job of the repository: pull requests, any branch and any environment.
    pub any_context: bool,
    /// A wildcard in a subject whose format pipeleash does not know (no grammar for the
    /// issuer, or the pattern fits none of its forms, or it is too complex to judge).
    pub unknown_wildcard: bool,
    /// Every subject of an issuer whose format pipeleash does not know (`*`).
    pub every_subject: bool,
}

/// Judges `pattern`, a `sub` value of a trust of `issuer`, given that the token must also
/// match one pattern of each group in `also` (the trust's other positive `sub` conditions).
///
/// The judgment is a pure function of its inputs; the same trusted patterns recur across many
/// roles and every trust check asks, so answers are kept in a bounded process-wide memo.
pub fn judge(
    issuer: &CiIssuer,
    pattern: SubjectPattern<'_>,
    also: &[Vec<SubjectPattern<'_>>],
) -> SubjectScope {
    type Key = (CiIssuer, Vec<Vec<(String, bool, bool)>>);
    static MEMO: OnceLock<Mutex<HashMap<Key, SubjectScope>>> = OnceLock::new();
    const MEMO_LIMIT: usize = 4096;
    let owned = |patterns: &[SubjectPattern<'_>]| -> Vec<(String, bool, bool)> {
        patterns
            .iter()
            .map(|pattern| {
                (
                    pattern.value.to_string(),
                    pattern.wildcards,
                    pattern.ignore_case,
                )
            })
            .collect()
    };
    let mut key_patterns = vec![owned(&[pattern])];
    key_patterns.extend(also.iter().map(|group| owned(group)));
    let key: Key = (issuer.clone(), key_patterns);
    let memo = MEMO.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(scope) = memo.lock().ok().and_then(|memo| memo.get(&key).copied()) {
        return scope;
    }
    let scope = judge_uncached(issuer, pattern, also);
    // A poisoned memo only costs the caching.
    if let Ok(mut memo) = memo.lock() {
        if memo.len() >= MEMO_LIMIT {
            memo.clear();
        }
        memo.insert(key, scope);
    }
    scope
}

fn judge_uncached(
    issuer: &CiIssuer,
    pattern: SubjectPattern<'_>,
    also: &[Vec<SubjectPattern<'_>>],
) -> SubjectScope {
    let unknown = || SubjectScope {
        unknown_wildcard: pattern.has_wildcard(),
        every_subject: pattern.wildcards
            && !pattern.value.is_empty()
            && pattern.value.chars().all(|c| c == '*'),
        ..SubjectScope::default()
    };
    let Some(grammar) = grammar_for(issuer) else {
        return unknown();
    };
    let alone = [Component::new(&[pattern])];
    let mut components = vec![Component::new(&[pattern])];
    components.extend(
        also.iter()
            .filter(|group| !group.is_empty())
            .take(MAX_PATTERNS - 1)
            .map(|group| Component::new(group)),
    );
    let too_long = components.iter().any(|component| {
        component.alternatives.len() >= usize::from(u16::MAX)
            || component
                .alternatives
                .iter()
                .any(|(tokens, _)| tokens.len() >= usize::from(u16::MAX))
    });
    if too_long {
        return unknown();
    }
    let judged = Product {
        grammar,
        components: &components,
    }
    .scope();
    match judged {
        Some(scope) if scope.fits_grammar => scope,
        // The other conditions exclude every subject this value admits: it admits nothing.
        Some(_)
            if components.len() > 1
                && Product {
                    grammar,
                    components: &alone,
                }
                .scope()
                .is_some_and(|scope| scope.fits_grammar) =>
        {
            SubjectScope {
                fits_grammar: true,
                ..SubjectScope::default()
            }
        }
        _ => unknown(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Char(char),
    One,
    Many,
}

/// One pattern side of the product: a union of globs (a condition's values are ORed).
struct Component {
    alternatives: Vec<(Vec<Token>, bool)>,
}

impl Component {
    fn new(patterns: &[SubjectPattern<'_>]) -> Component {
        Component {
            alternatives: patterns
                .iter()
                .map(|pattern| (pattern.tokens(), pattern.ignore_case))
                .collect(),
        }
    }
}

/// A position in a component: which alternative, which token; `NOT_STARTED` before choosing.
type Cursor = (u16, u16);
const NOT_STARTED: Cursor = (u16::MAX, 0);

// Path facts, recorded when a field or segment ends.
const TENANT: u16 = 1;
const REPOSITORY: u16 = 1 << 1;
const WORKFLOW: u16 = 1 << 2;
const CONTEXT: u16 = 1 << 3;
const PULL_REQUEST: u16 = 1 << 4;
const BRANCH_OPEN: u16 = 1 << 5;
const BRANCH_OTHER: u16 = 1 << 6;
const TAG_OPEN: u16 = 1 << 7;
const ENVIRONMENT_OPEN: u16 = 1 << 8;
const PHASE_OPEN: u16 = 1 << 9;
const WHO: u16 = TENANT | REPOSITORY | WORKFLOW;

// Per-segment bits, folded into the facts when the segment ends.
const SEGMENT_TENANT: u8 = 1;
const SEGMENT_HAS_REPOSITORY: u8 = 1 << 1;
const SEGMENT_REPOSITORY_OPEN: u8 = 1 << 2;
const SEGMENT_REPOSITORY_ID: u8 = 1 << 3;
const SEGMENT_WORKFLOW: u8 = 1 << 4;

/// A multiply-rotate hasher for the search's small, trusted states: the default SipHash
/// guards against adversarial keys, which these (built here from bounded counters) are not.
#[derive(Default)]
struct StateHasher(u64);

impl Hasher for StateHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.write_u64(u64::from(byte));
        }
    }

    fn write_u8(&mut self, value: u8) {
        self.write_u64(u64::from(value));
    }

    fn write_u16(&mut self, value: u16) {
        self.write_u64(u64::from(value));
    }

    fn write_u32(&mut self, value: u32) {
        self.write_u64(u64::from(value));
    }

    fn write_usize(&mut self, value: usize) {
        self.write_u64(value as u64);
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = (self.0.rotate_left(5) ^ value).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct State {
    cursors: [Cursor; MAX_PATTERNS],
    node: u32,
    /// At least one character of the current field consumed.
    in_field: bool,
    /// A wildcard stood for a character of the current field.
    touched: bool,
    /// For a branch field: which default branch names still match, and how many characters.
    defaults: u8,
    consumed: u8,
    segment: u8,
    /// A branch, tag, environment or pull request is already in the subject.
    seen_context: bool,
    facts: u16,
}

struct Product<'a> {
    grammar: &'a SubjectGrammar,
    components: &'a [Component],
}

impl Product<'_> {
    /// The scope, or `None` when the judge ran out of budget.
    fn scope(&self) -> Option<SubjectScope> {
        let who = self.search(WHO)?;
        if who.is_empty() {
            return Some(SubjectScope::default());
        }
        // A subject holds at most one context, so the context facts of the accepted paths are
        // few whatever the pattern: one search finds them all.
        let contexts = self.search(
            CONTEXT
                | PULL_REQUEST
                | BRANCH_OPEN
                | BRANCH_OTHER
                | TAG_OPEN
                | ENVIRONMENT_OPEN
                | PHASE_OPEN,
        )?;
        let exists = |bit: u16| contexts.iter().any(|facts| facts & bit != 0);
        let no_context = self.grammar.segments[0].position != Position::Whole
            && contexts.iter().any(|facts| facts & CONTEXT == 0);
        let any_branch = no_context || exists(BRANCH_OPEN);
        let any_environment = no_context || exists(ENVIRONMENT_OPEN);
        let pull_request = no_context
            || exists(PULL_REQUEST)
            || (self.grammar.pull_requests == PullRequests::Branch && any_branch);
        let tenant_open = who.iter().any(|facts| facts & TENANT == 0);
        Some(SubjectScope {
            fits_grammar: true,
            any_repository: who.iter().any(|facts| facts & WHO == 0),
            tenant_open,
            named_under_any_owner: who
                .iter()
                .any(|facts| facts & TENANT == 0 && facts & REPOSITORY != 0),
            workflow_callers: who
                .iter()
                .any(|facts| facts & TENANT == 0 && facts & WORKFLOW != 0),
            any_in_owner: who
                .iter()
                .any(|facts| facts & TENANT != 0 && facts & REPOSITORY == 0),
            no_context,
            pull_request,
            any_branch,
            any_environment,
            any_tag: exists(TAG_OPEN),
            any_run_phase: exists(PHASE_OPEN),
            other_branch: exists(BRANCH_OTHER),
            any_context: no_context || (pull_request && any_branch && any_environment),
            unknown_wildcard: false,
            every_subject: false,
        })
    }

    /// The distinct facts (restricted to `mask`) of the accepted paths.
    fn search(&self, mask: u16) -> Option<HashSet<u16>> {
        let track_segments = mask & WHO != 0;
        let initial_facts = match self.grammar.tenant_named_by {
            TenantNamedBy::Issuer => TENANT & mask,
            TenantNamedBy::Subject => 0,
        };
        let mut cursors = [NOT_STARTED; MAX_PATTERNS];
        for cursor in cursors.iter_mut().skip(self.components.len()) {
            *cursor = (0, 0);
        }
        let start = State {
            cursors,
            node: self.grammar.automaton.start as u32,
            in_field: false,
            touched: false,
            defaults: 0,
            consumed: 0,
            segment: 0,
            seen_context: false,
            facts: initial_facts,
        };
        let mut visited: HashSet<State, BuildHasherDefault<StateHasher>> = HashSet::default();
        let mut work = vec![start];
        visited.insert(start);
        let mut accepted = HashSet::new();
        let mut next = Vec::new();
        while let Some(state) = work.pop() {
            if self.accepts(&state) {
                accepted.insert(state.facts);
            }
            next.clear();
            self.successors(&state, mask, track_segments, &mut next);
            for successor in next.drain(..) {
                if visited.insert(successor) {
                    if visited.len() > STATE_BUDGET {
                        return None;
                    }
                    work.push(successor);
                }
            }
        }
        Some(accepted)
    }

    fn token(&self, index: usize, cursor: Cursor) -> Option<Token> {
        let (alternative, position) = cursor;
        let (tokens, _) = &self.components[index].alternatives[alternative as usize];
        tokens.get(position as usize).copied()
    }

    fn ignores_case(&self, index: usize, cursor: Cursor) -> bool {
        self.components[index].alternatives[cursor.0 as usize].1
    }

    fn accepts(&self, state: &State) -> bool {
        matches!(
            self.grammar.automaton.nodes[state.node as usize],
            Node::Accept
        ) && (0..self.components.len()).all(|index| {
            state.cursors[index] != NOT_STARTED && self.token(index, state.cursors[index]).is_none()
        })
    }

    fn successors(&self, state: &State, mask: u16, track_segments: bool, out: &mut Vec<State>) {
        // Pattern side: choose an alternative, or let a `*` stand for nothing.
        for index in 0..self.components.len() {
            let cursor = state.cursors[index];
            if cursor == NOT_STARTED {
                for alternative in 0..self.components[index].alternatives.len() {
                    let mut next = *state;
                    next.cursors[index] = (alternative as u16, 0);
                    out.push(next);
                }
            } else if self.token(index, cursor) == Some(Token::Many) {
                let mut next = *state;
                next.cursors[index] = (cursor.0, cursor.1 + 1);
                out.push(next);
            }
        }
        let nodes = &self.grammar.automaton.nodes;
        match &nodes[state.node as usize] {
            Node::Accept => {}
            Node::Split(targets) => {
                for &target in targets {
                    let mut next = *state;
                    next.node = target as u32;
                    out.push(next);
                }
            }
            &Node::Enter(segment, following) => {
                let mut next = *state;
                next.node = following as u32;
                next.segment = 0;
                if let Some(context) = self.grammar.segments[segment].context {
                    // One context per subject: GitHub's `context` is a branch, a tag, an
                    // environment or `pull_request`, never two of them.
                    if state.seen_context {
                        return;
                    }
                    next.seen_context = true;
                    next.facts |= CONTEXT & mask;
                    if context == SubjectContext::PullRequest {
                        next.facts |= PULL_REQUEST & mask;
                    }
                }
                out.push(next);
            }
            &Node::Leave(_, following) => {
                let mut next = *state;
                next.node = following as u32;
                let bits = state.segment;
                let mut facts = 0;
                if bits & (SEGMENT_TENANT | SEGMENT_REPOSITORY_ID) != 0 {
                    facts |= TENANT;
                }
                if bits & SEGMENT_REPOSITORY_ID != 0
                    || (bits & SEGMENT_HAS_REPOSITORY != 0 && bits & SEGMENT_REPOSITORY_OPEN == 0)
                {
                    facts |= REPOSITORY;
                }
                if bits & SEGMENT_WORKFLOW != 0 {
                    facts |= WORKFLOW;
                }
                next.facts |= facts & mask;
                next.segment = 0;
                out.push(next);
            }
            &Node::Literal(expected, following) => {
                if let Some(mut next) = self.step(state, Some(expected), None) {
                    next.node = following as u32;
                    out.push(next);
                }
            }
            &Node::Field(field, following) => {
                let role = self.grammar.fields[field].role;
                // Leave the field: after at least one character, or at once for a detail.
                if state.in_field || role == FieldRole::Detail {
                    let mut next = *state;
                    next.node = following as u32;
                    next.in_field = false;
                    next.touched = false;
                    next.defaults = 0;
                    next.consumed = 0;
                    if state.in_field {
                        self.leave_field(state, role, mask, track_segments, &mut next);
                    }
                    out.push(next);
                }
                if let Some(mut next) = self.step(state, None, Some(field)) {
                    next.in_field = true;
                    out.push(next);
                }
            }
        }
    }

    /// Records what a field that just ended says.
    fn leave_field(
        &self,
        state: &State,
        role: FieldRole,
        mask: u16,
        track_segments: bool,
        next: &mut State,
    ) {
        let open = state.touched;
        let mut segment = 0;
        let mut facts = 0;
        match role {
            FieldRole::Tenant | FieldRole::TenantId if !open => segment |= SEGMENT_TENANT,
            FieldRole::Repository => {
                segment |= SEGMENT_HAS_REPOSITORY;
                if open {
                    segment |= SEGMENT_REPOSITORY_OPEN;
                }
            }
            FieldRole::RepositoryId if !open => segment |= SEGMENT_REPOSITORY_ID,
            FieldRole::Workflow if !open => segment |= SEGMENT_WORKFLOW,
            FieldRole::Branch if open => facts |= BRANCH_OPEN,
            FieldRole::Branch => {
                let default = DEFAULT_BRANCHES.iter().enumerate().any(|(index, name)| {
                    state.defaults & (1 << index) != 0 && name.len() == state.consumed as usize
                });
                if !default {
                    facts |= BRANCH_OTHER;
                }
            }
            FieldRole::Tag if open => facts |= TAG_OPEN,
            FieldRole::Environment if open => facts |= ENVIRONMENT_OPEN,
            FieldRole::Phase if open => facts |= PHASE_OPEN,
            _ => {}
        }
        if track_segments {
            next.segment |= segment;
        }
        next.facts |= facts & mask;
    }

    /// One character consumed by every pattern and by the grammar (`literal`, or a character
    /// of `field`), if some character can do it.
    fn step(&self, state: &State, literal: Option<char>, field: Option<usize>) -> Option<State> {
        let mut next = *state;
        // The character, when some side pins it, and whether any pattern side pins it.
        let mut pinned: Option<(char, bool)> = literal.map(|c| (c, false));
        let mut pattern_literal = false;
        for index in 0..self.components.len() {
            let cursor = state.cursors[index];
            if cursor == NOT_STARTED {
                return None;
            }
            match self.token(index, cursor)? {
                Token::Many => {}
                Token::One => next.cursors[index] = (cursor.0, cursor.1 + 1),
                Token::Char(c) => {
                    let ignore_case = self.ignores_case(index, cursor);
                    match pinned {
                        Some((existing, existing_ignore)) => {
                            let same = if ignore_case || existing_ignore {
                                existing.to_lowercase().eq(c.to_lowercase())
                            } else {
                                existing == c
                            };
                            if !same {
                                return None;
                            }
                        }
                        None => pinned = Some((c, ignore_case)),
                    }
                    pattern_literal = true;
                    next.cursors[index] = (cursor.0, cursor.1 + 1);
                }
            }
        }
        if let Some(field) = field {
            let definition = &self.grammar.fields[field];
            if let Some((c, _)) = pinned
                && !definition.characters.admits(c)
            {
                return None;
            }
            let wildcard = !pattern_literal;
            next.touched = state.touched || wildcard;
            if definition.role == FieldRole::Branch {
                let mut defaults = if state.in_field {
                    state.defaults
                } else {
                    (1u8 << DEFAULT_BRANCHES.len()) - 1
                };
                match pinned {
                    Some((c, _)) if !wildcard => {
                        for (index, name) in DEFAULT_BRANCHES.iter().enumerate() {
                            if name.chars().nth(state.consumed as usize) != Some(c) {
                                defaults &= !(1 << index);
                            }
                        }
                    }
                    _ => defaults = 0,
                }
                next.defaults = defaults;
                // Once no default name matches, the count no longer matters: keep it at zero
                // so that states do not multiply along a long branch name.
                next.consumed = if defaults == 0 {
                    0
                } else {
                    state.consumed.saturating_add(1)
                };
            }
        }
        Some(next)
    }
}

/// What a federated trust's conditions say about the `sub` claim. Only positive string
/// comparisons (`StringEquals`, `StringLike`, their `IgnoreCase`, `ForAnyValue:`,
/// `ForAllValues:` and `…IfExists` forms) narrow who is admitted; a negated operator
/// (`StringNotLike`) leaves every other subject admitted, and an expression pipeleash does not
/// evaluate narrows nothing it can show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectConstraint<'a> {
    /// Positive conditions on `sub`: all must hold, each by any of its values.
    pub positive: Vec<&'a ClaimCondition>,
    /// Other conditions on `sub`, which pipeleash does not read as narrowing.
    pub other: Vec<&'a ClaimCondition>,
}

impl<'a> SubjectConstraint<'a> {
    pub fn of(trust: &'a FederatedTrust) -> SubjectConstraint<'a> {
        let (positive, other) = trust
            .conditions
            .iter()
            .filter(|condition| condition.claim == "sub")
            .partition(|condition| {
                matches!(
                    condition.operator,
                    ClaimOperator::Equals | ClaimOperator::Like
                )
            });
        SubjectConstraint { positive, other }
    }

    /// No positive condition on `sub`: every subject of the issuer is admitted.
    pub fn is_open(&self) -> bool {
        self.positive.is_empty()
    }

    /// The positive conditions that also hold for a token without a `sub` claim
    /// (`ForAllValues:` and `…IfExists`). OpenID Connect makes `sub` required, so this only
    /// matters for an issuer that breaks the standard; it is reported, never relied on.
    pub fn holding_without_claim(&self) -> Vec<&'a ClaimCondition> {
        self.positive
            .iter()
            .copied()
            .filter(|condition| condition.holds_when_absent())
            .collect()
    }

    /// Every positive value with the pattern it compares as.
    pub fn values(&self) -> Vec<(usize, SubjectPattern<'a>)> {
        self.positive
            .iter()
            .copied()
            .enumerate()
            .flat_map(|(index, condition)| {
                condition
                    .values
                    .iter()
                    .map(move |value| (index, pattern_of(condition, value)))
            })
            .collect()
    }

    /// Does a concrete subject satisfy every positive condition?
    pub fn admits(&self, subject: &str) -> bool {
        self.positive.iter().all(|condition| {
            condition
                .values
                .iter()
                .any(|value| pattern_of(condition, value).admits(subject))
        })
    }
}

fn pattern_of<'a>(condition: &ClaimCondition, value: &'a str) -> SubjectPattern<'a> {
    SubjectPattern {
        value,
        wildcards: condition.operator == ClaimOperator::Like,
        ignore_case: condition.ignore_case,
    }
}

/// One `sub` value of a trust and what it admits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JudgedSubject<'a> {
    pub pattern: SubjectPattern<'a>,
    pub scope: SubjectScope,
}

/// The judgment of a federated trust's `sub` conditions: what each positive value admits,
/// given the trust's other positive `sub` conditions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectJudgment<'a> {
    pub issuer: CiIssuer,
    pub constraint: SubjectConstraint<'a>,
    pub subjects: Vec<JudgedSubject<'a>>,
}

impl SubjectJudgment<'_> {
    /// `organisation`, `group`…: the word for the customer, from the issuer's grammar.
    pub fn tenant_noun(&self) -> &str {
        grammar_for(&self.issuer).map_or("owner", |grammar| grammar.tenant_noun.as_str())
    }

    /// `repository`, `project`…
    pub fn repository_noun(&self) -> &str {
        grammar_for(&self.issuer).map_or("repository", |grammar| grammar.repository_noun.as_str())
    }

    /// Whether the issuer gives pull-request jobs a subject of their own (GitHub's
    /// `pull_request` context): there, a job that names an environment gets the environment
    /// subject whatever triggered it, pull requests included, and naming a missing
    /// environment creates it
    /// (<https://docs.github.com/en/actions/reference/security/oidc#filtering-for-a-specific-environment>,
    /// <https://docs.github.com/en/actions/how-tos/deploy/configure-and-manage-deployments/manage-environments>).
    pub fn pull_requests_have_context(&self) -> bool {
        grammar_for(&self.issuer)
            .is_some_and(|grammar| grammar.pull_requests == PullRequests::Context)
    }
}

/// Judges every positive `sub` value of a trust.
pub fn judge_trust(trust: &FederatedTrust) -> SubjectJudgment<'_> {
    let issuer = CiIssuer::from_issuer_url(&trust.issuer);
    let constraint = SubjectConstraint::of(trust);
    let groups: Vec<Vec<SubjectPattern<'_>>> = constraint
        .positive
        .iter()
        .copied()
        .map(|condition| {
            condition
                .values
                .iter()
                .map(|value| pattern_of(condition, value))
                .collect()
        })
        .collect();
    let subjects = constraint
        .values()
        .into_iter()
        .map(|(index, pattern)| {
            let others: Vec<Vec<SubjectPattern<'_>>> = groups
                .iter()
                .enumerate()
                .filter(|(other, _)| *other != index)
                .map(|(_, group)| group.clone())
                .collect();
            JudgedSubject {
                pattern,
                scope: judge(&issuer, pattern, &others),
            }
        })
        .collect();
    SubjectJudgment {
        issuer,
        constraint,
        subjects,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The most serious thing a scope says, as the trust checks rank them.
    fn class(scope: &SubjectScope) -> &'static str {
        if scope.every_subject {
            "every-subject"
        } else if scope.any_repository {
            "any-owner"
        } else if scope.named_under_any_owner {
            "named-under-any-owner"
        } else if scope.workflow_callers {
            "workflow-callers"
        } else if scope.any_in_owner {
            "any-in-owner"
        } else if scope.any_context {
            "any-context"
        } else if scope.any_branch {
            "any-branch"
        } else if scope.pull_request {
            "pull-request"
        } else if scope.other_branch {
            "other-branch"
        } else if scope.any_environment {
            "any-environment"
        } else if scope.unknown_wildcard {
            "unknown-wildcard"
        } else {
            "safe"
        }
    }

    fn scope(issuer: &CiIssuer, value: &str, wildcards: bool) -> SubjectScope {
        judge(
            issuer,
            SubjectPattern {
                value,
                wildcards,
                ignore_case: false,
            },
            &[],
        )
    }

    /// `(pattern, compared as StringLike, expected class)` for one issuer.
    fn table(issuer: CiIssuer, rows: &[(&str, bool, &str)]) {
        for &(value, wildcards, expected) in rows {
            let scope = scope(&issuer, value, wildcards);
            assert_eq!(class(&scope), expected, "{issuer} `{value}`: {scope:#?}");
        }
    }

    #[test]
    fn embedded_grammars_parse_and_cover_every_known_issuer() {
        let grammars = subject_grammars().unwrap();
        for kind in [
            "github-actions",
            "gitlab",
            "terraform-cloud",
            "circleci",
            "bitbucket",
            "azure-devops",
            "buildkite",
        ] {
            let issuer = CiIssuer::from_kind(kind).unwrap();
            let grammar = grammars.iter().find(|grammar| grammar.issuer == issuer);
            let grammar = grammar.unwrap_or_else(|| panic!("no grammar for `{kind}`"));
            assert!(!grammar.segments.is_empty(), "{kind}");
            for segment in &grammar.segments {
                assert!(segment.source.starts_with("https://"), "{segment:?}");
            }
        }
        assert!(grammar_for(&CiIssuer::Other("https://example.com".into())).is_none());
    }

    #[test]
    fn grammar_errors_name_the_line() {
        for (text, line) in [
            ("field\tgitlab\tgroup\ttenant\tnot :\n", 1),
            (
                "issuer\tgitlab\tg\tp\tsubject\tbranch\nfield\tgitlab\tx\towner\tany\n",
                2,
            ),
            (
                "issuer\tgitlab\tg\tp\tsubject\tbranch\nfield\tgitlab\tx\ttenant\tsome\n",
                2,
            ),
            (
                "issuer\tgitlab\tg\tp\tsubject\tbranch\nsegment\tgitlab\tany\t-\tx:{y}\thttps://d\n",
                2,
            ),
            ("issuer\tjenkins\tg\tp\tsubject\tbranch\n", 1),
            (
                "issuer\tgitlab\tg\tp\tsubject\tbranch\nsegment\tgitlab\tany\t-\tx\tnot-a-url\n",
                2,
            ),
        ] {
            match parse_subject_grammars(text) {
                Err(SubjectGrammarError::Line { line: found, .. }) => {
                    assert_eq!(found, line, "{text}")
                }
                other => panic!("{text}: {other:?}"),
            }
        }
        assert!(matches!(
            parse_subject_grammars(
                "issuer\tgitlab\tg\tp\tsubject\tbranch\nfield\tgitlab\tx\tdetail\tany\nsegment\tgitlab\twhole\t-\ta{x}\thttps://d\nsegment\tgitlab\tany\t-\tb{x}\thttps://d\n"
            ),
            Err(SubjectGrammarError::Grammar { .. })
        ));
    }

    #[test]
    fn github_subjects() {
        table(
            CiIssuer::GitHubActions,
            &[
                // Owner open: any repository of any owner.
                ("*", true, "any-owner"),
                ("repo:*", true, "any-owner"),
                ("repo:acme*", true, "any-owner"),
                (
                    "repo:ac?e/web:ref:refs/heads/main",
                    true,
                    "named-under-any-owner",
                ),
                ("*:environment:production", true, "any-owner"),
                // A customised subject with only a context names no owner at all.
                ("environment:production", false, "any-owner"),
                // Repository open: any repository of the organisation.
                ("repo:acme/*", true, "any-in-owner"),
                ("repo:acme/*:ref:refs/heads/main", true, "any-in-owner"),
                ("repo:acme/web*", true, "any-in-owner"),
                ("repo:acme/we?:ref:refs/heads/main", true, "any-in-owner"),
                ("repo:acme/*-site:ref:refs/heads/main", true, "any-in-owner"),
                ("repository_owner:acme", false, "any-in-owner"),
                ("repository_owner_id:1234:*", true, "any-in-owner"),
                ("repo:acme@1234/*", true, "any-in-owner"),
                // Context open: every job of one repository.
                ("repo:acme/web:*", true, "any-context"),
                ("repo:acme@1/web@2:*", true, "any-context"),
                ("repo:acme/web", false, "any-context"),
                ("repository_id:5678", false, "any-context"),
                // Branch open.
                ("repo:acme/web:ref:refs/heads/*", true, "any-branch"),
                ("repo:acme/web:ref:refs/heads/main*", true, "any-branch"),
                ("repo:acme/web:ref:refs/heads/release/?", true, "any-branch"),
                ("repo:acme/web:ref:*", true, "any-branch"),
                // Pull requests, named branches.
                ("repo:acme/web:pull_request", false, "pull-request"),
                ("repo:acme@1/web@2:pull_request", false, "pull-request"),
                (
                    "repo:acme/web:ref:refs/heads/develop",
                    false,
                    "other-branch",
                ),
                (
                    "repo:acme/web:ref:refs/heads/mainline",
                    false,
                    "other-branch",
                ),
                // Safe: exact protected branch, environment, tags, immutable form.
                ("repo:acme/web:ref:refs/heads/main", false, "safe"),
                ("repo:acme/web:ref:refs/heads/master", false, "safe"),
                ("repo:acme/web:environment:production", false, "safe"),
                // An open environment part: a job names its environment (pull requests
                // included) and naming a missing one creates it.
                ("repo:acme/web:environment:prod*", true, "any-environment"),
                ("repo:acme/web:ref:refs/tags/v*", true, "safe"),
                ("repo:acme/web:ref:refs/tags/*", true, "safe"),
                ("repo:acme@1/web@2:ref:refs/heads/main", false, "safe"),
                (
                    "repo:acme/web:environment:prod:job_workflow_ref:acme/wf/.github/workflows/d.yml@refs/heads/main",
                    false,
                    "safe",
                ),
                (
                    "repository_owner_id:1:repository_id:2:environment:production",
                    false,
                    "safe",
                ),
                // A reusable workflow alone: the caller is not pinned.
                (
                    "job_workflow_ref:acme/wf/.github/workflows/d.yml@refs/heads/main",
                    false,
                    "workflow-callers",
                ),
                // Outside every documented form.
                ("repo:acme/web:ref:refs/pull/*", true, "unknown-wildcard"),
                ("acme/web", false, "safe"),
            ],
        );
    }

    /// A wildcard counts by the parts it can stand for, including the parts of other shapes it
    /// reaches across `:` and `/`.
    #[test]
    fn github_wildcards_spanning_parts() {
        let scope = scope(&CiIssuer::GitHubActions, "repo:acme/web*", true);
        assert!(scope.any_in_owner && scope.pull_request && scope.any_branch);
        let scope = scope_of("repo:*/infra:ref:refs/heads/main");
        assert!(scope.tenant_open && scope.named_under_any_owner);
        // A free-text part (a workflow name) can carry `/infra`: any owner's repository.
        assert!(scope.any_repository);
        let scope = scope_of("repo:acme/web:ref:refs/tags/*");
        assert!(scope.any_tag && !scope.pull_request && !scope.any_environment);
        let scope = scope_of("repo:acme/web:environment:*");
        assert!(scope.any_environment && !scope.any_branch && !scope.any_context);
    }

    fn scope_of(value: &str) -> SubjectScope {
        scope(&CiIssuer::GitHubActions, value, true)
    }

    #[test]
    fn gitlab_subjects() {
        table(
            CiIssuer::GitLab,
            &[
                ("*", true, "any-owner"),
                ("project_path:*", true, "any-owner"),
                // `*` also reaches into the project path (`evil/x/docs`).
                (
                    "project_path:*/docs:ref_type:branch:ref:main",
                    true,
                    "any-owner",
                ),
                (
                    "project_path:acme/*:ref_type:branch:ref:main",
                    true,
                    "any-in-owner",
                ),
                ("project_path:acme/*", true, "any-in-owner"),
                (
                    "project_path:acme/platform/*:ref_type:branch:ref:main",
                    true,
                    "any-in-owner",
                ),
                (
                    "project_path:acme/docs*:ref_type:branch:ref:main",
                    true,
                    "any-in-owner",
                ),
                ("project_path:acme/docs:*", true, "any-context"),
                ("project_path:acme/docs", false, "any-context"),
                (
                    "project_path:acme/docs:ref_type:branch:ref:*",
                    true,
                    "any-branch",
                ),
                ("project_path:acme/docs:ref_type:*", true, "any-branch"),
                (
                    "project_path:acme/docs:ref_type:branch:ref:develop",
                    false,
                    "other-branch",
                ),
                (
                    "project_path:acme/docs:ref_type:branch:ref:main",
                    false,
                    "safe",
                ),
                (
                    "project_path:acme/platform/docs:ref_type:branch:ref:main",
                    false,
                    "safe",
                ),
                ("project_path:acme/docs:ref_type:tag:ref:v*", true, "safe"),
                (
                    "project_path:acme/docs:ref_type:tag:ref:v1.0.0",
                    false,
                    "safe",
                ),
            ],
        );
        // Merge request pipelines run for their source branch: any branch admits them.
        let scope = scope(
            &CiIssuer::GitLab,
            "project_path:acme/docs:ref_type:branch:ref:*",
            true,
        );
        assert!(scope.pull_request);
    }

    #[test]
    fn terraform_cloud_subjects() {
        table(
            CiIssuer::TerraformCloud,
            &[
                ("*", true, "any-owner"),
                ("organization:*", true, "any-owner"),
                (
                    "organization:*:project:p:workspace:w:run_phase:apply",
                    true,
                    "named-under-any-owner",
                ),
                ("organization:acme:*", true, "any-in-owner"),
                (
                    "organization:acme:project:*:workspace:*:run_phase:apply",
                    true,
                    "any-in-owner",
                ),
                (
                    "organization:acme:project:infra:workspace:prod-*:run_phase:apply",
                    true,
                    "any-in-owner",
                ),
                (
                    "organization:acme:project:infra:workspace:prod:run_phase:apply",
                    false,
                    "safe",
                ),
                // HashiCorp's own example: both run phases of one workspace.
                ("organization:acme:workspace:prod:run_phase:*", true, "safe"),
                (
                    "organization:acme:project:Default Project:workspace:prod:run_phase:*",
                    true,
                    "safe",
                ),
            ],
        );
        let scope = scope(
            &CiIssuer::TerraformCloud,
            "organization:acme:workspace:prod:run_phase:*",
            true,
        );
        assert!(scope.any_run_phase);
    }

    #[test]
    fn buildkite_subjects() {
        table(
            CiIssuer::Buildkite,
            &[
                ("*", true, "any-owner"),
                (
                    "organization:*:pipeline:deploy:*",
                    true,
                    "named-under-any-owner",
                ),
                ("organization:acme:*", true, "any-in-owner"),
                ("organization:acme:pipeline:deploy:*", true, "any-branch"),
                (
                    "organization:acme:pipeline:deploy:ref:refs/heads/*:commit:*:step:*",
                    true,
                    "any-branch",
                ),
                (
                    "organization:acme:pipeline:deploy:ref:refs/heads/main:commit:*:step:*",
                    true,
                    "safe",
                ),
                (
                    "organization:acme:pipeline:deploy:ref:refs/tags/*:commit:*:step:*",
                    true,
                    "safe",
                ),
            ],
        );
    }

    /// CircleCI, Bitbucket and Azure DevOps issue one issuer per customer: the owner is pinned
    /// by the issuer URL, never open in the subject.
    #[test]
    fn per_customer_issuer_subjects() {
        table(
            CiIssuer::CircleCi,
            &[
                ("*", true, "any-in-owner"),
                ("org/o-1/project/*", true, "any-in-owner"),
                // The first token form names no branch, so any user of the project on any
                // branch; the second names the ref, but a wildcard before it spans into it.
                ("org/o-1/project/p-1/user/*", true, "any-branch"),
                (
                    "org/o-1/project/p-1/user/*/vcs-origin/github.com/acme/web/vcs-ref/refs/heads/*",
                    true,
                    "any-branch",
                ),
                (
                    "org/o-1/project/p-1/user/*/vcs-origin/*/vcs-ref/refs/heads/main",
                    true,
                    "any-branch",
                ),
                (
                    "org/o-1/project/p-1/user/u-1/vcs-origin/github.com/acme/web/vcs-ref/refs/heads/main",
                    false,
                    "safe",
                ),
            ],
        );
        table(
            CiIssuer::Bitbucket,
            &[
                ("*", true, "any-in-owner"),
                // Every step of the repository, with or without an environment.
                ("{repo-1}:*", true, "any-environment"),
                ("{repo-1}:{env-1}:*", true, "safe"),
            ],
        );
        table(
            CiIssuer::AzureDevOps,
            &[
                ("sc://acme/*", true, "any-in-owner"),
                ("sc://acme/web/*", true, "any-in-owner"),
                ("sc://acme/web/deploy-prod", false, "safe"),
            ],
        );
    }

    #[test]
    fn issuers_without_a_grammar() {
        let other = CiIssuer::Other("https://ci.example.com".into());
        table(
            other,
            &[
                ("*", true, "every-subject"),
                ("**", true, "every-subject"),
                ("team-a:*", true, "unknown-wildcard"),
                ("team-a:deploy", false, "safe"),
                ("*", false, "safe"),
            ],
        );
    }

    /// The token must match one value of every positive condition: a second condition narrows
    /// what the first admits.
    #[test]
    fn conditions_on_sub_are_intersected() {
        let pattern = |value| SubjectPattern {
            value,
            wildcards: true,
            ignore_case: false,
        };
        let narrowed = judge(
            &CiIssuer::GitHubActions,
            pattern("repo:acme/*"),
            &[vec![pattern("*:ref:refs/heads/main")]],
        );
        assert!(
            narrowed.any_in_owner && !narrowed.pull_request,
            "{narrowed:?}"
        );
        let exact = judge(
            &CiIssuer::GitHubActions,
            pattern("repo:acme/*"),
            &[vec![SubjectPattern {
                value: "repo:acme/web:ref:refs/heads/main",
                wildcards: false,
                ignore_case: false,
            }]],
        );
        assert_eq!(class(&exact), "safe", "{exact:?}");
        let ignore_case = judge(
            &CiIssuer::GitHubActions,
            SubjectPattern {
                value: "REPO:ACME/WEB:ENVIRONMENT:PRODUCTION",
                wildcards: false,
                ignore_case: true,
            },
            &[],
        );
        assert_eq!(class(&ignore_case), "safe");
        assert!(ignore_case.fits_grammar);
    }
}
