//! The IAM policy language: the typed model of a policy document, the parser that builds it
//! from JSON (raw or URL-encoded, as the IAM API returns it), and canonical JSON output.
//!
//! Parsing is strict where IAM is strict: unknown or duplicate keys, a wrong `Effect`, both
//! `Action` and `NotAction`, an unknown condition operator or a value the operator cannot
//! read are errors that name the statement (1-based, with its `Sid`) and the field. The model
//! keeps the text of actions, resources and condition values as written; the evaluator
//! compiles them (see `eval.rs`).

use super::condition::{ConditionOperator, OperatorBase, OperatorNameError, validate_value};
use super::raw::{RawJson, percent_decode};
use crate::model::Effect;
use serde_json::{Map, Value};
use std::fmt;

/// The policy language version a document declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyVersion {
    /// `2012-10-17`: the current language, with policy variables.
    V2012_10_17,
    /// `2008-10-17`: the original language; `${...}` is literal text.
    V2008_10_17,
}

impl PolicyVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyVersion::V2012_10_17 => "2012-10-17",
            PolicyVersion::V2008_10_17 => "2008-10-17",
        }
    }
}

/// A parsed IAM policy document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyDocument {
    /// `None` when the document has no `Version` (IAM then uses `2008-10-17` rules).
    pub version: Option<PolicyVersion>,
    pub id: Option<String>,
    pub statements: Vec<Statement>,
}

impl PolicyDocument {
    /// Are policy variables substituted in this document? Only with `2012-10-17`.
    pub fn variables_enabled(&self) -> bool {
        self.version == Some(PolicyVersion::V2012_10_17)
    }
}

/// One statement. `index` is its 0-based position in the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub index: usize,
    pub sid: Option<String>,
    pub effect: Effect,
    pub action: ActionClause,
    /// Absent in trust policies and some resource policies.
    pub resource: Option<ResourceClause>,
    pub principal: Option<PrincipalClause>,
    pub conditions: Vec<Condition>,
}

impl Statement {
    /// The 1-based number used in messages and reports.
    pub fn number(&self) -> usize {
        self.index + 1
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionClause {
    Action(Vec<String>),
    NotAction(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceClause {
    Resource(Vec<String>),
    NotResource(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalClause {
    Principal(Principal),
    NotPrincipal(Principal),
}

/// `"*"` or a map of principal types to identifiers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    Everyone,
    Listed(PrincipalMap),
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PrincipalMap {
    pub aws: Vec<String>,
    pub federated: Vec<String>,
    pub service: Vec<String>,
    pub canonical_user: Vec<String>,
}

/// One condition key tested by one operator; its values are OR'd.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub operator: ConditionOperator,
    pub key: String,
    pub values: Vec<String>,
}

/// Where in a document a problem is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementLocation {
    /// 1-based statement number.
    pub number: usize,
    pub sid: Option<String>,
}

impl fmt::Display for StatementLocation {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "statement {}", self.number)?;
        if let Some(sid) = &self.sid {
            write!(formatter, " (`{sid}`)")?;
        }
        Ok(())
    }
}

/// Why a policy document was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("policy is url-encoded but cannot be decoded: {0}")]
    Encoding(String),
    #[error("policy is not valid json: {0}")]
    Json(String),
    #[error("policy: {0}")]
    Document(String),
    #[error("{location}: {message}")]
    Statement {
        location: StatementLocation,
        message: String,
    },
}

/// Parses an IAM policy document from JSON text, raw or URL-encoded.
pub fn parse_policy(text: &str) -> Result<PolicyDocument, PolicyError> {
    let trimmed = text.trim_start();
    let decoded;
    let json = if trimmed.starts_with('%') {
        decoded = percent_decode(trimmed).map_err(PolicyError::Encoding)?;
        decoded.as_str()
    } else {
        text
    };
    let raw: RawJson =
        serde_json::from_str(json).map_err(|error| PolicyError::Json(error.to_string()))?;
    document_from_raw(raw)
}

fn document_error(message: impl Into<String>) -> PolicyError {
    PolicyError::Document(message.into())
}

/// Rejects keys IAM does not know and keys given twice.
fn check_keys(
    entries: &[(String, RawJson)],
    known: &[&str],
    error: impl Fn(String) -> PolicyError,
) -> Result<(), PolicyError> {
    for (position, (key, _)) in entries.iter().enumerate() {
        if !known.contains(&key.as_str()) {
            let expected: Vec<String> = known.iter().map(|name| format!("`{name}`")).collect();
            return Err(error(format!(
                "unknown key `{key}`; expected one of {}",
                expected.join(", ")
            )));
        }
        if entries
            .iter()
            .take(position)
            .any(|(earlier, _)| earlier == key)
        {
            return Err(error(format!("key `{key}` appears more than once")));
        }
    }
    Ok(())
}

fn field<'r>(entries: &'r [(String, RawJson)], name: &str) -> Option<&'r RawJson> {
    entries
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value)
}

fn document_from_raw(raw: RawJson) -> Result<PolicyDocument, PolicyError> {
    let RawJson::Object(entries) = raw else {
        return Err(document_error(format!(
            "the document must be a json object, found {}",
            raw.kind()
        )));
    };
    check_keys(&entries, &["Version", "Id", "Statement"], document_error)?;
    let version = match field(&entries, "Version") {
        None => None,
        Some(RawJson::String(text)) if text == "2012-10-17" => Some(PolicyVersion::V2012_10_17),
        Some(RawJson::String(text)) if text == "2008-10-17" => Some(PolicyVersion::V2008_10_17),
        Some(RawJson::String(text)) => {
            return Err(document_error(format!(
                "`Version` must be `2012-10-17` or `2008-10-17`, found `{text}`"
            )));
        }
        Some(other) => {
            return Err(document_error(format!(
                "`Version` must be a string, found {}",
                other.kind()
            )));
        }
    };
    let id = match field(&entries, "Id") {
        None => None,
        Some(RawJson::String(text)) => Some(text.clone()),
        Some(other) => {
            return Err(document_error(format!(
                "`Id` must be a string, found {}",
                other.kind()
            )));
        }
    };
    let raw_statements: Vec<&RawJson> = match field(&entries, "Statement") {
        None => return Err(document_error("`Statement` is missing")),
        Some(single @ RawJson::Object(_)) => vec![single],
        Some(RawJson::Array(items)) if items.is_empty() => {
            return Err(document_error(
                "`Statement` must contain at least one statement",
            ));
        }
        Some(RawJson::Array(items)) => items.iter().collect(),
        Some(other) => {
            return Err(document_error(format!(
                "`Statement` must be an object or an array of objects, found {}",
                other.kind()
            )));
        }
    };
    let statements = raw_statements
        .into_iter()
        .enumerate()
        .map(|(index, raw)| statement_from_raw(index, raw))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(PolicyDocument {
        version,
        id,
        statements,
    })
}

/// Builds errors for one statement.
struct StatementErrors {
    location: StatementLocation,
}

impl StatementErrors {
    fn error(&self, message: impl Into<String>) -> PolicyError {
        PolicyError::Statement {
            location: self.location.clone(),
            message: message.into(),
        }
    }
}

fn statement_from_raw(index: usize, raw: &RawJson) -> Result<Statement, PolicyError> {
    let mut errors = StatementErrors {
        location: StatementLocation {
            number: index + 1,
            sid: None,
        },
    };
    let RawJson::Object(entries) = raw else {
        return Err(errors.error(format!(
            "a statement must be a json object, found {}",
            raw.kind()
        )));
    };
    // The `Sid` first, so that every later message can name it.
    let sid = match field(entries, "Sid") {
        None => None,
        Some(RawJson::String(text)) => Some(text.clone()),
        Some(other) => {
            return Err(errors.error(format!("`Sid` must be a string, found {}", other.kind())));
        }
    };
    errors.location.sid = sid.clone();
    const KNOWN: [&str; 9] = [
        "Sid",
        "Effect",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Principal",
        "NotPrincipal",
        "Condition",
    ];
    check_keys(entries, &KNOWN, |message| errors.error(message))?;

    let effect = match field(entries, "Effect") {
        None => return Err(errors.error("`Effect` is missing; it must be `Allow` or `Deny`")),
        Some(RawJson::String(text)) if text == "Allow" => Effect::Allow,
        Some(RawJson::String(text)) if text == "Deny" => Effect::Deny,
        Some(RawJson::String(text)) => {
            return Err(errors.error(format!(
                "`Effect` must be `Allow` or `Deny`, found `{text}`"
            )));
        }
        Some(other) => {
            return Err(errors.error(format!(
                "`Effect` must be `Allow` or `Deny`, found {}",
                other.kind()
            )));
        }
    };

    let action = match (field(entries, "Action"), field(entries, "NotAction")) {
        (Some(_), Some(_)) => {
            return Err(errors.error("has both `Action` and `NotAction`; use exactly one"));
        }
        (None, None) => return Err(errors.error("needs `Action` or `NotAction`")),
        (Some(raw), None) => ActionClause::Action(actions(&errors, "Action", raw)?),
        (None, Some(raw)) => ActionClause::NotAction(actions(&errors, "NotAction", raw)?),
    };

    let resource = match (field(entries, "Resource"), field(entries, "NotResource")) {
        (Some(_), Some(_)) => {
            return Err(errors.error("has both `Resource` and `NotResource`; use at most one"));
        }
        (None, None) => None,
        (Some(raw), None) => Some(ResourceClause::Resource(resources(
            &errors, "Resource", raw,
        )?)),
        (None, Some(raw)) => Some(ResourceClause::NotResource(resources(
            &errors,
            "NotResource",
            raw,
        )?)),
    };

    let principal = match (field(entries, "Principal"), field(entries, "NotPrincipal")) {
        (Some(_), Some(_)) => {
            return Err(errors.error("has both `Principal` and `NotPrincipal`; use at most one"));
        }
        (None, None) => None,
        (Some(raw), None) => Some(PrincipalClause::Principal(principal(
            &errors,
            "Principal",
            raw,
        )?)),
        (None, Some(raw)) => Some(PrincipalClause::NotPrincipal(principal(
            &errors,
            "NotPrincipal",
            raw,
        )?)),
    };

    // IAM refuses a statement that names neither what it applies to nor whom: identity,
    // session and service control policies need `Resource`/`NotResource`; only a trust
    // policy (which names a `Principal`) goes without (IAM JSON policy elements: Resource,
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html).
    // Read as matching everything, it would allow what AWS never would.
    if resource.is_none() && principal.is_none() {
        return Err(errors.error(
            "needs `Resource` or `NotResource` (IAM refuses a statement that names neither \
             resources nor a `Principal`); write `\"Resource\": \"*\"` for every resource",
        ));
    }

    let conditions = match field(entries, "Condition") {
        None => Vec::new(),
        Some(raw) => conditions(&errors, raw)?,
    };

    Ok(Statement {
        index,
        sid,
        effect,
        action,
        resource,
        principal,
        conditions,
    })
}

/// A string or a non-empty array of strings.
fn string_list(
    errors: &StatementErrors,
    name: &str,
    raw: &RawJson,
) -> Result<Vec<String>, PolicyError> {
    match raw {
        RawJson::String(text) => Ok(vec![text.clone()]),
        RawJson::Array(items) if items.is_empty() => {
            Err(errors.error(format!("`{name}` must not be an empty array")))
        }
        RawJson::Array(items) => items
            .iter()
            .map(|item| match item {
                RawJson::String(text) => Ok(text.clone()),
                other => Err(errors.error(format!(
                    "`{name}` must contain only strings, found {}",
                    other.kind()
                ))),
            })
            .collect(),
        other => Err(errors.error(format!(
            "`{name}` must be a string or an array of strings, found {}",
            other.kind()
        ))),
    }
}

fn actions(
    errors: &StatementErrors,
    name: &str,
    raw: &RawJson,
) -> Result<Vec<String>, PolicyError> {
    let list = string_list(errors, name, raw)?;
    for action in &list {
        let valid = action == "*"
            || action
                .split_once(':')
                .is_some_and(|(service, operation)| !service.is_empty() && !operation.is_empty());
        if !valid {
            return Err(errors.error(format!(
                "`{name}` entry `{action}` must be `*` or `service:action` (for example `s3:GetObject`)"
            )));
        }
    }
    Ok(list)
}

fn resources(
    errors: &StatementErrors,
    name: &str,
    raw: &RawJson,
) -> Result<Vec<String>, PolicyError> {
    let list = string_list(errors, name, raw)?;
    for resource in &list {
        if !(resource.starts_with('*') || resource.starts_with("arn:")) {
            return Err(errors.error(format!(
                "`{name}` entry `{resource}` must be `*` or an ARN starting with `arn:`"
            )));
        }
    }
    Ok(list)
}

fn principal(
    errors: &StatementErrors,
    name: &str,
    raw: &RawJson,
) -> Result<Principal, PolicyError> {
    let entries = match raw {
        RawJson::String(text) if text == "*" => return Ok(Principal::Everyone),
        RawJson::Object(entries) if !entries.is_empty() => entries,
        RawJson::Object(_) => {
            return Err(errors.error(format!("`{name}` must not be an empty object")));
        }
        RawJson::String(text) => {
            return Err(errors.error(format!(
                "`{name}` must be `*` or an object such as {{\"AWS\": ...}}, found `{text}`"
            )));
        }
        other => {
            return Err(errors.error(format!(
                "`{name}` must be `*` or an object, found {}",
                other.kind()
            )));
        }
    };
    check_keys(
        entries,
        &["AWS", "Federated", "Service", "CanonicalUser"],
        |message| errors.error(format!("`{name}`: {message}")),
    )?;
    let mut map = PrincipalMap::default();
    for (key, value) in entries {
        let list = string_list(errors, &format!("{name}.{key}"), value)?;
        let slot = match key.as_str() {
            "AWS" => &mut map.aws,
            "Federated" => &mut map.federated,
            "Service" => &mut map.service,
            _ => &mut map.canonical_user,
        };
        *slot = list;
    }
    Ok(Principal::Listed(map))
}

fn conditions(errors: &StatementErrors, raw: &RawJson) -> Result<Vec<Condition>, PolicyError> {
    let RawJson::Object(operators) = raw else {
        return Err(errors.error(format!(
            "`Condition` must be an object of operators, found {}",
            raw.kind()
        )));
    };
    let mut conditions = Vec::new();
    for (position, (operator_name, block)) in operators.iter().enumerate() {
        if operators
            .iter()
            .take(position)
            .any(|(earlier, _)| earlier == operator_name)
        {
            return Err(errors.error(format!(
                "`Condition` operator `{operator_name}` appears more than once"
            )));
        }
        let operator = match ConditionOperator::parse(operator_name) {
            Ok(operator) => operator,
            Err(OperatorNameError::Unknown) => {
                return Err(errors.error(format!(
                    "`Condition` has unknown operator `{operator_name}`"
                )));
            }
            Err(OperatorNameError::NullWithIfExists) => {
                return Err(errors.error(format!(
                    "`Condition` operator `{operator_name}` is invalid: `Null` has no `IfExists` form"
                )));
            }
        };
        let RawJson::Object(keys) = block else {
            return Err(errors.error(format!(
                "`Condition` operator `{operator_name}` must map condition keys to values, found {}",
                block.kind()
            )));
        };
        for (position, (key, value)) in keys.iter().enumerate() {
            if key.is_empty() {
                return Err(errors.error(format!(
                    "`Condition` operator `{operator_name}` has an empty condition key"
                )));
            }
            if keys
                .iter()
                .take(position)
                .any(|(earlier, _)| earlier.eq_ignore_ascii_case(key))
            {
                return Err(errors.error(format!(
                    "`Condition` key `{key}` appears more than once under `{operator_name}`"
                )));
            }
            let values = condition_values(errors, operator_name, key, value)?;
            for text in &values {
                // A value containing a variable is only known at evaluation time.
                if text.contains("${") {
                    continue;
                }
                if let Err(expected) = validate_value(operator.base, text) {
                    return Err(errors.error(format!(
                        "`Condition` `{operator_name}` `{key}`: value `{text}` must be {expected}"
                    )));
                }
            }
            if operator.base == OperatorBase::Null && values.iter().any(|text| text.contains("${"))
            {
                return Err(errors.error(format!(
                    "`Condition` `{operator_name}` `{key}`: values must be `true` or `false`"
                )));
            }
            conditions.push(Condition {
                operator,
                key: key.clone(),
                values,
            });
        }
    }
    Ok(conditions)
}

fn condition_values(
    errors: &StatementErrors,
    operator: &str,
    key: &str,
    raw: &RawJson,
) -> Result<Vec<String>, PolicyError> {
    let scalar = |item: &RawJson| {
        match item {
        RawJson::String(text) => Ok(text.clone()),
        RawJson::Number(text) => Ok(text.clone()),
        RawJson::Bool(value) => Ok(value.to_string()),
        other => Err(errors.error(format!(
            "`Condition` `{operator}` `{key}`: values must be strings, numbers or booleans, found {}",
            other.kind()
        ))),
    }
    };
    match raw {
        RawJson::Array(items) if items.is_empty() => Err(errors.error(format!(
            "`Condition` `{operator}` `{key}`: value list must not be empty"
        ))),
        RawJson::Array(items) => items.iter().map(scalar).collect(),
        other => scalar(other).map(|value| vec![value]),
    }
}

impl PolicyDocument {
    /// Writes the document as canonical IAM JSON: keys in IAM's usual order, `Statement`
    /// always an array, one-element lists as a plain string, condition values as strings.
    pub fn to_json(&self) -> Value {
        let mut document = Map::new();
        if let Some(version) = self.version {
            document.insert("Version".into(), Value::from(version.as_str()));
        }
        if let Some(id) = &self.id {
            document.insert("Id".into(), Value::from(id.as_str()));
        }
        let statements = self.statements.iter().map(Statement::to_json).collect();
        document.insert("Statement".into(), Value::Array(statements));
        Value::Object(document)
    }
}

fn list_json(items: &[String]) -> Value {
    match items {
        [single] => Value::from(single.as_str()),
        many => Value::Array(many.iter().map(|item| Value::from(item.as_str())).collect()),
    }
}

fn principal_json(principal: &Principal) -> Value {
    match principal {
        Principal::Everyone => Value::from("*"),
        Principal::Listed(map) => {
            let mut object = Map::new();
            for (name, list) in [
                ("AWS", &map.aws),
                ("Federated", &map.federated),
                ("Service", &map.service),
                ("CanonicalUser", &map.canonical_user),
            ] {
                if !list.is_empty() {
                    object.insert(name.into(), list_json(list));
                }
            }
            Value::Object(object)
        }
    }
}

impl Statement {
    pub fn to_json(&self) -> Value {
        let mut statement = Map::new();
        if let Some(sid) = &self.sid {
            statement.insert("Sid".into(), Value::from(sid.as_str()));
        }
        statement.insert("Effect".into(), Value::from(self.effect.to_string()));
        match &self.principal {
            Some(PrincipalClause::Principal(principal)) => {
                statement.insert("Principal".into(), principal_json(principal));
            }
            Some(PrincipalClause::NotPrincipal(principal)) => {
                statement.insert("NotPrincipal".into(), principal_json(principal));
            }
            None => {}
        }
        match &self.action {
            ActionClause::Action(list) => statement.insert("Action".into(), list_json(list)),
            ActionClause::NotAction(list) => statement.insert("NotAction".into(), list_json(list)),
        };
        match &self.resource {
            Some(ResourceClause::Resource(list)) => {
                statement.insert("Resource".into(), list_json(list));
            }
            Some(ResourceClause::NotResource(list)) => {
                statement.insert("NotResource".into(), list_json(list));
            }
            None => {}
        }
        if !self.conditions.is_empty() {
            let mut blocks = Map::new();
            for condition in &self.conditions {
                let block = blocks
                    .entry(condition.operator.to_string())
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(keys) = block {
                    keys.insert(condition.key.clone(), list_json(&condition.values));
                }
            }
            statement.insert("Condition".into(), Value::Object(blocks));
        }
        Value::Object(statement)
    }
}
