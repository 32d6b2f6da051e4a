//! One Activity Log record, read from either of its two shapes, and what it says about a
//! permission check.
//!
//! The shapes, from "Azure Activity Log event schema"
//! (<https://learn.microsoft.com/en-us/azure/azure-monitor/essentials/activity-log-schema>):
//!
//! - **Storage account / event hub export** (a diagnostic setting; one record per line of
//!   `PT1H.json`): `time`, `operationName` (a string, often upper case), `category`,
//!   `resultType` (`Start`, `Accept`, `Success`, `Failure`), `resultSignature`,
//!   `correlationId`, `identity.authorization.{action,scope}`, `identity.claims`, and
//!   `properties` (`statusCode`, `statusMessage`, `eventCategory`, `operationId`…). The
//!   schema's mapping table says that when `properties.eventCategory` is absent the category
//!   is `Administrative` (older exports put the operation type `Write`/`Delete`/`Action` in
//!   `category`).
//! - **REST / `az monitor activity-log list`**: `eventTimestamp`, `operationName.value`,
//!   `category.value`, `status.value` (`Started`, `Accepted`, `Succeeded`, `Failed`),
//!   `subStatus.value`, `correlationId`, `operationId`, `authorization.{action,scope}`,
//!   `claims`, `caller`, `properties`.
//!
//! Raw records are read with borrowed strings; [`classify`] turns one into a
//! [`Classified`] record or the reason it is set aside, once.

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use std::borrow::Cow;
use std::fmt;

/// The object id claim as ARM writes it in Activity Log claims.
pub const OBJECT_ID_CLAIM: &str = "http://schemas.microsoft.com/identity/claims/objectidentifier";

/// A string field that is either a plain string (storage export) or a localizable string
/// `{"value": …, "localizedValue": …}` (REST). Any other JSON value reads as absent, so an
/// unexpected shape in a field pipeleash only reads for evidence never rejects a record.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Text<'a>(pub Option<Cow<'a, str>>);

impl<'a> Text<'a> {
    pub fn as_str(&self) -> Option<&str> {
        self.0.as_deref().filter(|text| !text.is_empty())
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;
            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("a string or an object with a `value` string")
            }
            fn visit_borrowed_str<E: de::Error>(self, value: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Some(Cow::Borrowed(value))))
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
                Ok(Text(Some(Cow::Owned(value.to_owned()))))
            }
            fn visit_string<E: de::Error>(self, value: String) -> Result<Self::Value, E> {
                Ok(Text(Some(Cow::Owned(value))))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Text(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Text(None))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Text(None))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Text(None))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Text(None))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Text(None))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Text(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut value = Text(None);
                while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                    if key == "value" {
                        value = map.next_value::<Text<'de>>()?;
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(value)
            }
        }
        deserializer.deserialize_any(TextVisitor)
    }
}

/// `authorization`: the permission ARM checked and where.
#[derive(Debug, Default, Deserialize)]
pub struct RawAuthorization<'a> {
    #[serde(borrow, default)]
    pub action: Text<'a>,
    #[serde(borrow, default)]
    pub scope: Text<'a>,
}

/// The claims of the caller's token (only those pipeleash reads).
#[derive(Debug, Default, Deserialize)]
pub struct RawClaims<'a> {
    #[serde(
        borrow,
        default,
        rename = "http://schemas.microsoft.com/identity/claims/objectidentifier"
    )]
    pub object_id_uri: Text<'a>,
    #[serde(borrow, default)]
    pub oid: Text<'a>,
    #[serde(borrow, default)]
    pub appid: Text<'a>,
    #[serde(borrow, default)]
    pub azp: Text<'a>,
    /// `app` for applications (service principals, managed identities), `user` for users.
    #[serde(borrow, default)]
    pub idtyp: Text<'a>,
    /// The ARM id of a managed identity; present only in managed identities' tokens.
    #[serde(borrow, default)]
    pub xms_mirid: Text<'a>,
    /// A user's principal name; present only in user tokens.
    #[serde(
        borrow,
        default,
        alias = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"
    )]
    pub upn: Text<'a>,
}

/// The storage export's `identity` block.
#[derive(Debug, Default, Deserialize)]
pub struct RawIdentity<'a> {
    #[serde(borrow, default)]
    pub authorization: Option<RawAuthorization<'a>>,
    #[serde(borrow, default)]
    pub claims: Option<RawClaims<'a>>,
}

/// `properties` (only the fields pipeleash reads).
#[derive(Debug, Default, Deserialize)]
pub struct RawProperties<'a> {
    #[serde(borrow, default, rename = "statusCode")]
    pub status_code: Text<'a>,
    #[serde(borrow, default, rename = "statusMessage")]
    pub status_message: Text<'a>,
    #[serde(borrow, default, rename = "eventCategory")]
    pub event_category: Text<'a>,
    #[serde(borrow, default, rename = "operationId")]
    pub operation_id: Text<'a>,
}

/// One record in either shape. Unknown fields are ignored.
#[derive(Debug, Default, Deserialize)]
pub struct RawRecord<'a> {
    // Storage export.
    #[serde(borrow, default)]
    pub time: Text<'a>,
    #[serde(borrow, default, rename = "resultType")]
    pub result_type: Text<'a>,
    #[serde(borrow, default, rename = "resultSignature")]
    pub result_signature: Text<'a>,
    #[serde(borrow, default)]
    pub identity: Option<RawIdentity<'a>>,
    // REST.
    #[serde(borrow, default, rename = "eventTimestamp", alias = "event_timestamp")]
    pub event_timestamp: Text<'a>,
    #[serde(borrow, default)]
    pub status: Text<'a>,
    #[serde(borrow, default, rename = "subStatus", alias = "sub_status")]
    pub sub_status: Text<'a>,
    #[serde(borrow, default)]
    pub authorization: Option<RawAuthorization<'a>>,
    #[serde(borrow, default)]
    pub claims: Option<RawClaims<'a>>,
    #[serde(borrow, default, rename = "operationId", alias = "operation_id")]
    pub operation_id: Text<'a>,
    // Both.
    #[serde(borrow, default, rename = "operationName", alias = "operation_name")]
    pub operation_name: Text<'a>,
    #[serde(borrow, default)]
    pub category: Text<'a>,
    #[serde(borrow, default, rename = "correlationId", alias = "correlation_id")]
    pub correlation_id: Text<'a>,
    #[serde(borrow, default)]
    pub caller: Text<'a>,
    #[serde(borrow, default, alias = "Properties")]
    pub properties: Option<RawProperties<'a>>,
}

/// The `{"records": [...]}` wrapper of early storage exports and the `{"value": [...]}` page of
/// the REST API.
#[derive(Debug, Deserialize)]
pub struct RawWrapper<'a> {
    #[serde(borrow, default, alias = "value")]
    pub records: Option<Vec<RawRecord<'a>>>,
}

/// The operation phase a record logs. Storage exports say `Start`/`Accept`/`Success`/
/// `Failure`; REST says `Started`/`Accepted`/`Succeeded`/`Failed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    Started,
    Accepted,
    Succeeded,
    Failed,
    Canceled,
    /// Another status (`Active`, `Resolved`, `InProgress`, `Updated`…) or none.
    Other,
}

impl Phase {
    pub fn parse(text: Option<&str>) -> Phase {
        let Some(text) = text else {
            return Phase::Other;
        };
        let text = text.trim();
        let is = |name: &str| text.eq_ignore_ascii_case(name);
        if is("Start") || is("Started") {
            Phase::Started
        } else if is("Accept") || is("Accepted") {
            Phase::Accepted
        } else if is("Success") || is("Succeeded") {
            Phase::Succeeded
        } else if is("Failure") || is("Failed") {
            Phase::Failed
        } else if is("Cancel") || is("Canceled") || is("Cancelled") {
            Phase::Canceled
        } else {
            Phase::Other
        }
    }

    /// Whether this phase ends an operation (the record that pairs with a `Started`).
    pub fn is_end(self) -> bool {
        matches!(self, Phase::Succeeded | Phase::Failed | Phase::Canceled)
    }
}

/// What a record says about the permission check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The permission check passed.
    Allowed,
    /// The permission check passed as far as the log shows, but the operation failed or the
    /// record is unusual; counted as used, with the reason as evidence.
    AllowedWithNote(String),
    /// Azure RBAC refused the call (`AuthorizationFailed`, HTTP 403 Forbidden).
    Denied,
}

/// The source of the decision rules in [`verdict`].
pub const ARM_AUTHORIZATION_DOC: &str =
    "https://learn.microsoft.com/en-us/azure/azure-resource-manager/management/overview";

/// Decides what a record says about the permission check.
///
/// - `Started`, `Accepted`, `Succeeded`: the check passed. Resource Manager "authenticates and
///   authorizes the request before forwarding it to the appropriate Azure service"
///   (<https://learn.microsoft.com/en-us/azure/azure-resource-manager/management/overview>),
///   and the Activity Log records the start of write, delete and action operations only once
///   they are received by Resource Manager.
/// - `Failed` with the error code `AuthorizationFailed`, or with HTTP status `Forbidden` and no
///   error code: denied by Azure RBAC (the error a missing role assignment gives:
///   <https://learn.microsoft.com/en-us/azure/role-based-access-control/troubleshooting>).
/// - `Failed` with `LinkedAuthorizationFailed`: the client holds the logged action on its
///   scope but not an action on a linked resource; the logged action was allowed.
/// - `Failed` with `RequestDisallowedByPolicy`: Azure Policy refused the request after RBAC
///   (<https://learn.microsoft.com/en-us/azure/governance/policy/concepts/effect-deny>); the
///   permission was needed.
/// - Any other failure or status: the call got past the permission check as far as the log
///   shows, so the permission is counted as used (a false "unused" breaks a deploy), with the
///   failure named in the evidence.
pub fn verdict(
    phase: Phase,
    status_code: Option<&str>,
    sub_status: Option<&str>,
    status_message: Option<&str>,
) -> Verdict {
    match phase {
        Phase::Started | Phase::Accepted | Phase::Succeeded => Verdict::Allowed,
        Phase::Canceled => Verdict::AllowedWithNote("canceled after the permission check".into()),
        Phase::Other => {
            Verdict::AllowedWithNote("logged with an unrecognised status; counted as used".into())
        }
        Phase::Failed => {
            let code = status_message.and_then(error_code);
            let forbidden = [status_code, sub_status]
                .into_iter()
                .flatten()
                .any(|text| text.to_ascii_lowercase().contains("forbidden"));
            match code.as_deref() {
                Some("AuthorizationFailed") => Verdict::Denied,
                Some("LinkedAuthorizationFailed") => Verdict::AllowedWithNote(
                    "failed with `LinkedAuthorizationFailed`: the action was allowed on its \
                     scope, a linked resource's was not"
                        .into(),
                ),
                Some("RequestDisallowedByPolicy") => Verdict::AllowedWithNote(
                    "refused by Azure Policy (`RequestDisallowedByPolicy`) after the RBAC check"
                        .into(),
                ),
                None if forbidden => Verdict::Denied,
                Some(code) => Verdict::AllowedWithNote(format!(
                    "failed with `{code}`{}: not an RBAC denial, counted as used",
                    if forbidden { " (403)" } else { "" }
                )),
                None => Verdict::AllowedWithNote(format!(
                    "failed ({}): not an RBAC denial, counted as used",
                    status_code.or(sub_status).unwrap_or("no status code")
                )),
            }
        }
    }
}

/// The `error.code` of a `statusMessage` (a JSON document in a string:
/// `{"error":{"code":"AuthorizationFailed","message":"…"}}`), or of its `code` field.
pub fn error_code(message: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Message<'a> {
        #[serde(borrow, default)]
        error: Option<ErrorBody<'a>>,
        #[serde(borrow, default)]
        code: Text<'a>,
    }
    #[derive(Deserialize)]
    struct ErrorBody<'a> {
        #[serde(borrow, default)]
        code: Text<'a>,
    }
    let message: Message<'_> = serde_json::from_str(message).ok()?;
    message
        .error
        .and_then(|error| error.code.as_str().map(str::to_owned))
        .or_else(|| message.code.as_str().map(str::to_owned))
}

/// The Activity Log category of a record.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Category {
    Administrative,
    /// Any other category (`ServiceHealth`, `ResourceHealth`, `Alert`, `Autoscale`,
    /// `Recommendation`, `Security`, `Policy`), as spelled in the record.
    Other(String),
}

/// Why a record is not counted as usage. Every reason says why the identity's permissions
/// were not evaluated for that record, or why the record cannot be attributed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SetAsideReason {
    /// A category other than Administrative: service and resource health, alerts, autoscale,
    /// recommendations and security alerts are written by Azure itself, and a Policy record
    /// repeats the evaluation of a request whose Administrative record is counted.
    Category(String),
    /// No claims, or no `oid` claim: the record names no principal to attribute it to.
    NoCallerClaims,
    /// No `authorization` block (or no action in it): no permission was named.
    NoAuthorization,
    /// No time, or one that cannot be read: the record cannot be placed in the window.
    NoTime,
    /// None of the Activity Log's own fields (`operationName`, `category`, `resultType`,
    /// `identity`, `claims`, `authorization`, `eventTimestamp`, `status`,
    /// `properties.eventCategory`): every Activity Log record carries an operation and a
    /// category (Azure Monitor, "Azure Activity Log event schema",
    /// <https://learn.microsoft.com/azure/azure-monitor/essentials/activity-log-schema>), so
    /// this is another kind of record (another cloud's log, a diagnostic log).
    NotActivityLog,
}

impl SetAsideReason {
    /// The stable spelling used in reports (`category:ServiceHealth`, `no-caller-claims`…).
    pub fn as_string(&self) -> String {
        match self {
            SetAsideReason::Category(category) => format!("category:{category}"),
            SetAsideReason::NoCallerClaims => "no-caller-claims".into(),
            SetAsideReason::NoAuthorization => "no-authorization".into(),
            SetAsideReason::NoTime => "no-time".into(),
            SetAsideReason::NotActivityLog => "not-an-activity-log-record".into(),
        }
    }
}

/// The kind of principal, read from the token's claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PrincipalKind {
    /// `xms_mirid` present: a managed identity (system- or user-assigned).
    ManagedIdentity,
    /// An application token (`idtyp: app` or an `appid` without user claims).
    ServicePrincipal,
    /// A user token (`idtyp: user`).
    User,
    Unknown,
}

impl PrincipalKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalKind::ManagedIdentity => "managed-identity",
            PrincipalKind::ServicePrincipal => "service-principal",
            PrincipalKind::User => "user",
            PrincipalKind::Unknown => "unknown",
        }
    }
}

/// A record that names a principal, a permission and a scope, with borrowed strings.
#[derive(Debug, Clone)]
pub struct Classified<'a> {
    /// Unix time in microseconds.
    pub time_micros: i64,
    pub object_id: Cow<'a, str>,
    pub kind: PrincipalKind,
    pub app_id: Option<Cow<'a, str>>,
    pub caller: Option<Cow<'a, str>>,
    pub action: Cow<'a, str>,
    /// The scope ARM checked the action on; the resource id when the record has no scope.
    pub scope: Cow<'a, str>,
    /// `operationId` (REST) or `properties.operationId`, else `correlationId`: what ties the
    /// phases of one operation together. `None` when the record has neither.
    pub operation: Option<Cow<'a, str>>,
    pub phase: Phase,
    pub verdict: Verdict,
}

/// Reads one record into a [`Classified`] record or the reason it is set aside.
pub fn classify<'a>(record: RawRecord<'a>) -> Result<Classified<'a>, SetAsideReason> {
    let RawRecord {
        time,
        result_type,
        result_signature,
        identity,
        event_timestamp,
        status,
        sub_status,
        authorization,
        claims,
        operation_id,
        operation_name,
        category,
        correlation_id,
        caller,
        properties,
    } = record;
    let properties = properties.unwrap_or_default();
    let own_fields = [
        &operation_name,
        &category,
        &result_type,
        &event_timestamp,
        &status,
        &properties.event_category,
    ];
    if own_fields.iter().all(|field| field.as_str().is_none())
        && identity.is_none()
        && claims.is_none()
        && authorization.is_none()
    {
        return Err(SetAsideReason::NotActivityLog);
    }
    let category = category_of(
        category.as_str(),
        properties.event_category.as_str(),
        event_timestamp.as_str().is_some(),
    );
    if let Category::Other(name) = category {
        return Err(SetAsideReason::Category(name));
    }
    let (identity_authorization, identity_claims) = match identity {
        Some(identity) => (identity.authorization, identity.claims),
        None => (None, None),
    };
    let claims = claims.or(identity_claims);
    let authorization = authorization.or(identity_authorization);
    let Some(claims) = claims else {
        return Err(SetAsideReason::NoCallerClaims);
    };
    let Some(object_id) = claims
        .object_id_uri
        .0
        .or(claims.oid.0)
        .filter(|id| !id.is_empty())
    else {
        return Err(SetAsideReason::NoCallerClaims);
    };
    let Some(authorization) = authorization else {
        return Err(SetAsideReason::NoAuthorization);
    };
    let Some(action) = authorization.action.0.filter(|action| !action.is_empty()) else {
        return Err(SetAsideReason::NoAuthorization);
    };
    let scope = authorization
        .scope
        .0
        .filter(|scope| !scope.is_empty())
        .unwrap_or(Cow::Borrowed("*"));
    let time_text = event_timestamp.0.or(time.0);
    let Some(time_micros) = time_text.as_deref().and_then(parse_time_micros) else {
        return Err(SetAsideReason::NoTime);
    };
    let kind = if claims.xms_mirid.as_str().is_some() {
        PrincipalKind::ManagedIdentity
    } else {
        match claims.idtyp.as_str() {
            Some(kind) if kind.eq_ignore_ascii_case("app") => PrincipalKind::ServicePrincipal,
            Some(kind) if kind.eq_ignore_ascii_case("user") => PrincipalKind::User,
            // A user's token names the client application too (`appid` of the Azure CLI):
            // the user claims decide.
            _ if claims.upn.as_str().is_some() => PrincipalKind::User,
            _ if claims.appid.as_str().is_some() => PrincipalKind::ServicePrincipal,
            _ => PrincipalKind::Unknown,
        }
    };
    let phase_text = status.0.or(result_type.0);
    let phase = Phase::parse(phase_text.as_deref());
    let sub_status = sub_status.0.or(result_signature.0);
    let verdict = verdict(
        phase,
        properties.status_code.as_str(),
        sub_status.as_deref(),
        properties.status_message.as_str(),
    );
    let operation = operation_id
        .0
        .filter(|id| !id.is_empty())
        .or(properties.operation_id.0.filter(|id| !id.is_empty()))
        .or(correlation_id.0.filter(|id| !id.is_empty()));
    Ok(Classified {
        time_micros,
        object_id,
        kind,
        app_id: claims.appid.0.or(claims.azp.0).filter(|id| !id.is_empty()),
        caller: caller.0.filter(|caller| !caller.is_empty()),
        action,
        scope,
        operation,
        phase,
        verdict,
    })
}

/// The category of a record. REST records (`rest`) carry it in `category.value`. Storage
/// exports carry it in `properties.eventCategory` and in `category`; when `eventCategory` is
/// absent and `category` is an operation type (`Write`, `Delete`, `Action`), the category is
/// Administrative, as the schema's mapping table says. A record with no category at all is
/// read as Administrative for the same reason.
fn category_of(category: Option<&str>, event_category: Option<&str>, rest: bool) -> Category {
    let name = if rest {
        category.or(event_category)
    } else {
        event_category.or(category.filter(|category| {
            !["Write", "Delete", "Action"]
                .iter()
                .any(|kind| category.eq_ignore_ascii_case(kind))
        }))
    };
    match name {
        None => Category::Administrative,
        Some(name) if name.eq_ignore_ascii_case("Administrative") => Category::Administrative,
        Some(name) => Category::Other(name.to_owned()),
    }
}

/// Parses an RFC 3339 time (`2026-10-01T10:00:00.1234567Z`, `…+00:00`) into Unix microseconds.
pub fn parse_time_micros(text: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(text.trim())
        .ok()
        .map(|time| time.timestamp_micros())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<Classified<'_>, SetAsideReason> {
        classify(serde_json::from_str(line).unwrap())
    }

    #[test]
    fn storage_record_with_uri_object_id_claim_is_read() {
        let line = r#"{"time":"2026-10-01T10:00:00.1234567Z","operationName":"MICROSOFT.WEB/SITES/WRITE","category":"Administrative","resultType":"Start","correlationId":"c1","identity":{"authorization":{"action":"Microsoft.Web/sites/write","scope":"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Web/sites/a"},"claims":{"http://schemas.microsoft.com/identity/claims/objectidentifier":"oid-1","appid":"app-1","idtyp":"app"}},"properties":{"statusCode":"Created","eventCategory":"Administrative"}}"#;
        let record = parse(line).unwrap();
        assert_eq!(record.object_id, "oid-1");
        assert_eq!(record.kind, PrincipalKind::ServicePrincipal);
        assert_eq!(record.action, "Microsoft.Web/sites/write");
        assert_eq!(record.phase, Phase::Started);
        assert_eq!(record.verdict, Verdict::Allowed);
        assert_eq!(record.operation.as_deref(), Some("c1"));
    }

    #[test]
    fn rest_record_with_localizable_strings_is_read() {
        let json = r#"{"eventTimestamp":"2026-10-01T10:00:00.5+00:00","category":{"value":"Administrative","localizedValue":"Administrative"},"status":{"value":"Failed"},"subStatus":{"value":"Forbidden"},"operationId":"op-9","correlationId":"c9","authorization":{"action":"Microsoft.Storage/storageAccounts/listKeys/action","scope":"/subscriptions/s"},"claims":{"oid":"oid-2","xms_mirid":"/subscriptions/s/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id"},"properties":{"statusCode":"Forbidden"}}"#;
        let record = parse(json).unwrap();
        assert_eq!(record.kind, PrincipalKind::ManagedIdentity);
        assert_eq!(record.verdict, Verdict::Denied);
        assert_eq!(record.operation.as_deref(), Some("op-9"));
    }

    #[test]
    fn failure_verdicts_follow_the_error_code() {
        let message = |code: &str| format!(r#"{{"error":{{"code":"{code}","message":"m"}}}}"#);
        let cases = [
            (
                Some("Forbidden"),
                Some(message("AuthorizationFailed")),
                true,
            ),
            (Some("Forbidden"), None, true),
            (None, Some(message("AuthorizationFailed")), true),
            (
                Some("Forbidden"),
                Some(message("LinkedAuthorizationFailed")),
                false,
            ),
            (
                Some("Forbidden"),
                Some(message("RequestDisallowedByPolicy")),
                false,
            ),
            (Some("Conflict"), Some(message("ScopeLocked")), false),
            (Some("BadRequest"), None, false),
            (None, None, false),
        ];
        for (status, message, denied) in cases {
            let verdict = verdict(Phase::Failed, status, None, message.as_deref());
            assert_eq!(verdict == Verdict::Denied, denied, "{status:?} {message:?}");
        }
    }

    #[test]
    fn old_exports_with_operation_type_category_are_administrative() {
        assert_eq!(
            category_of(Some("Write"), None, false),
            Category::Administrative
        );
        assert_eq!(
            category_of(Some("Write"), Some("Policy"), false),
            Category::Other("Policy".into())
        );
        assert_eq!(
            category_of(Some("ServiceHealth"), None, false),
            Category::Other("ServiceHealth".into())
        );
        assert_eq!(category_of(None, None, true), Category::Administrative);
    }

    #[test]
    fn records_of_other_logs_are_set_aside_as_not_activity_log_records() {
        // A Cloud Audit Logs entry and a CloudTrail record: no operation, no category.
        let gcp = r#"{"logName":"projects/p/logs/cloudaudit.googleapis.com%2Factivity","timestamp":"2026-10-01T10:00:00Z","protoPayload":{"methodName":"SetIamPolicy"}}"#;
        let aws = r#"{"eventTime":"2026-10-01T10:00:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject"}"#;
        for line in [gcp, aws] {
            assert_eq!(parse(line).unwrap_err(), SetAsideReason::NotActivityLog);
        }
        // An operation name alone, or a category alone, is still an Activity Log record.
        let named =
            r#"{"time":"2026-10-01T10:00:00Z","operationName":"Microsoft.Web/sites/write"}"#;
        assert_eq!(parse(named).unwrap_err(), SetAsideReason::NoCallerClaims);
    }

    #[test]
    fn records_without_claims_or_authorization_are_set_aside_with_a_reason() {
        let no_claims = r#"{"time":"2026-10-01T10:00:00Z","category":"Administrative","resultType":"Success","identity":{"authorization":{"action":"a/b/write","scope":"/s"}}}"#;
        assert_eq!(
            parse(no_claims).unwrap_err(),
            SetAsideReason::NoCallerClaims
        );
        let no_oid = r#"{"time":"2026-10-01T10:00:00Z","resultType":"Success","identity":{"authorization":{"action":"a/b/write","scope":"/s"},"claims":{"appid":"x"}}}"#;
        assert_eq!(parse(no_oid).unwrap_err(), SetAsideReason::NoCallerClaims);
        let no_authorization = r#"{"time":"2026-10-01T10:00:00Z","resultType":"Success","identity":{"claims":{"oid":"o"}}}"#;
        assert_eq!(
            parse(no_authorization).unwrap_err(),
            SetAsideReason::NoAuthorization
        );
        let no_time = r#"{"resultType":"Success","identity":{"authorization":{"action":"a/b/write"},"claims":{"oid":"o"}}}"#;
        assert_eq!(parse(no_time).unwrap_err(), SetAsideReason::NoTime);
    }

    #[test]
    fn seven_digit_fractions_and_offsets_parse() {
        assert_eq!(
            parse_time_micros("2026-10-01T00:00:01.1234567Z"),
            parse_time_micros("2026-10-01T00:00:01.123456+00:00")
        );
        assert!(parse_time_micros("yesterday").is_none());
    }
}
