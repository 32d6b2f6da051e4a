//! Per-thread aggregation of CloudTrail records, and the merge that turns the per-thread maps
//! into one sorted [`CloudTrailUsage`].
//!
//! Each record is attributed, mapped and counted under a key of interned ids (identity,
//! action, resource, session key, service, outcome, basis). The session key — the temporary
//! access key that signed the call — is kept in the key rather than resolved on the spot,
//! because the `AssumeRoleWithWebIdentity` event that issued it may sit in a file another
//! thread reads later. Keys are resolved to CI workloads only after every file is merged, so
//! the result does not depend on file order.

use super::event_map::{EventMap, Mapping};
use super::implied::{ImpliedPermissions, ResourceForm};
use super::record::{Record, RequestParameters, UserIdentity};
use super::report::{
    AccessKeyUse, CloudTrailUsage, InstanceProfilePass, SetAsideReason, UnknownEvent,
    WebIdentitySession, workload_of_host,
};
use super::time::{TimeWindow, parse_event_time, to_datetime};
use crate::intern::{FxHashMap, Interner};
use crate::model::{
    CiWorkload, Coverage, IdentityId, Outcome, Permission, Provider, SkippedSource, Usage,
    UsageKey, UsageRecord,
};
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// Error codes that mean "not authorized": evidence of a missing permission.
const DENIED_CODES: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "Client.UnauthorizedOperation",
    "Client.AccessDenied",
    "UnauthorizedAccess",
    "AuthorizationError",
    "AuthorizationErrorException",
    "AccessDeniedFault",
    "Forbidden",
];

/// Error codes raised before authorization: the call proves neither use nor lack of a grant.
const UNAUTHENTICATED_CODES: &[&str] = &[
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "IncompleteSignature",
    "RequestExpired",
    "AuthFailure",
    "Client.AuthFailure",
];

/// S3 actions that need a different action when a specific object version is addressed.
const S3_VERSIONED: &[(&str, &str)] = &[
    ("s3:GetObject", "s3:GetObjectVersion"),
    ("s3:DeleteObject", "s3:DeleteObjectVersion"),
    ("s3:GetObjectAcl", "s3:GetObjectVersionAcl"),
    ("s3:PutObjectAcl", "s3:PutObjectVersionAcl"),
    ("s3:GetObjectTagging", "s3:GetObjectVersionTagging"),
    ("s3:PutObjectTagging", "s3:PutObjectVersionTagging"),
    ("s3:DeleteObjectTagging", "s3:DeleteObjectVersionTagging"),
];

/// What a worker counts calls under, in interned ids: finer than the neutral
/// [`crate::model::UsageKey`] (it keeps the session, the calling service, the outcome and the
/// basis apart until the merge resolves them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct CallKey {
    identity: u32,
    action: u32,
    resource: u32,
    /// Who made the call beyond the identity, as far as this worker knows yet.
    context: Context,
    /// The service that made the call with the identity's credentials (`invokedBy`), or 0.
    via: u32,
    denied: bool,
    /// 0 for a logged call; for a permission the call needed without logging it, the
    /// interned reason (`implied by PutObject x-amz-acl`).
    basis: u32,
}

/// The CI context of a call. A session whose origin this worker has already seen is stored as
/// its workload, which keeps the map bounded by workloads rather than by sessions; a session
/// whose origin is not known yet keeps its key and is resolved after the merge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Context {
    None,
    Session(u32),
    Workload { issuer: u32, subject: u32 },
}

#[derive(Debug, Clone, Copy)]
struct Stats {
    count: u64,
    first: i64,
    last: i64,
}

impl Stats {
    fn at(time: i64) -> Stats {
        Stats {
            count: 1,
            first: time,
            last: time,
        }
    }
    fn add(&mut self, other: Stats) {
        self.count += other.count;
        self.first = self.first.min(other.first);
        self.last = self.last.max(other.last);
    }
}

/// Where a temporary access key came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Origin {
    /// Issued by `AssumeRoleWithWebIdentity` to (issuer, subject).
    WebIdentity { issuer: u32, subject: u32 },
    /// Issued by `AssumeRole` called with another temporary key (role chaining).
    Chained { parent: u32 },
}

#[derive(Debug, Clone, Copy)]
enum Cached {
    Actions { start: u32, len: u32 },
    NoAction,
    Unknown,
}

/// One attributed call, as the inference of implied permissions needs it.
struct Call<'c> {
    record: &'c Record<'c>,
    source: &'c str,
    name: &'c str,
    identity: u32,
    /// The account of the identity, read from its ARN.
    caller_account: Option<&'c str>,
    context: Context,
    via: u32,
    /// The resource of the logged call.
    resource: u32,
    time: i64,
}

/// Everything one worker has seen so far.
#[derive(Debug, Default, Clone)]
pub struct Accumulator {
    strings: Interner,
    usage: FxHashMap<CallKey, Stats>,
    origins: FxHashMap<u32, Origin>,
    web_identity: FxHashMap<(u32, u32, u32, bool), Stats>,
    profile_passes: FxHashMap<(u32, u32), u64>,
    /// (IAM user ARN, access key id) → the calls the key signed.
    user_keys: FxHashMap<(u32, u32), Stats>,
    /// Recipient account → events in the window; the last one is cached, since a file holds
    /// one account's events.
    accounts: FxHashMap<u32, u64>,
    last_account: Option<u32>,
    unknown: FxHashMap<(u32, u32), u64>,
    set_aside: [u64; SetAsideReason::ALL.len()],
    no_action: u64,
    events_read: u64,
    events_in_window: u64,
    first_event: Option<i64>,
    last_event: Option<i64>,
    mapping_cache: FxHashMap<(u32, u32), Cached>,
    mapped_actions: Vec<u32>,
    scratch: String,
}

/// The principal a record is charged to, or why it is not.
enum Attribution<'r> {
    Principal {
        arn: Cow<'r, str>,
        session_key: Option<&'r str>,
        /// The service that made the call with the principal's credentials.
        via: Option<&'r str>,
    },
    SetAside(SetAsideReason),
}

/// The tables a record is read with.
#[derive(Clone, Copy)]
pub struct Tables<'t> {
    pub events: &'t EventMap,
    pub implied: &'t ImpliedPermissions,
}

impl Accumulator {
    /// Counts one record, in steps: place it in the window ([`Accumulator::admit`]),
    /// attribute it to an identity, note the access key of a user, map it to IAM actions and
    /// count them ([`Accumulator::count_actions`]), then infer the permissions its request
    /// needed without logging them.
    pub fn add(&mut self, record: &Record<'_>, tables: Tables<'_>, window: &TimeWindow) {
        let Some(time) = self.admit(record, window) else {
            return;
        };
        let (Some(source), Some(name), Some(identity)) = (
            record.event_source.get(),
            record.event_name.get(),
            record.user_identity.as_ref(),
        ) else {
            self.set_aside(SetAsideReason::MissingFields);
            return;
        };
        if record.event_type.get() == Some("AwsServiceEvent") {
            self.set_aside(SetAsideReason::AwsServiceEvent);
            return;
        }
        if source == "sts.amazonaws.com" && name == "AssumeRoleWithWebIdentity" {
            self.add_web_identity(record, identity, time);
            return;
        }
        let (principal, session_key, via) = match attribute(identity) {
            Attribution::Principal {
                arn,
                session_key,
                via,
            } => (arn, session_key, via),
            Attribution::SetAside(reason) => {
                self.set_aside(reason);
                return;
            }
        };
        let denied = match record.error_code.get() {
            None => false,
            Some(code) if DENIED_CODES.contains(&code) => true,
            Some(code) if UNAUTHENTICATED_CODES.contains(&code) => {
                self.set_aside(SetAsideReason::Unauthenticated);
                return;
            }
            // Failed for another reason (NoSuchKey, ValidationException, throttling):
            // authorization already succeeded, so the permission was used.
            Some(_) => false,
        };
        // Any authenticated call by a user, even one that needs no action or was denied,
        // shows which of its keys is live.
        if identity.kind.get() == Some("IAMUser")
            && let Some(key) = identity.access_key_id.get()
        {
            let user = self.strings.intern(&principal);
            let key = self.strings.intern(key);
            self.user_keys
                .entry((user, key))
                .and_modify(|stats| stats.add(Stats::at(time)))
                .or_insert(Stats::at(time));
        }

        let source_id = self.strings.intern(source);
        let name_id = self.strings.intern(name);
        let (start, len) = match self.mapping(tables.events, source_id, name_id) {
            Cached::Actions { start, len } => (start as usize, len as usize),
            Cached::NoAction => {
                self.no_action += 1;
                return;
            }
            // Reported as unknown; what its request implies (a role it passes) is still read.
            Cached::Unknown => {
                *self.unknown.entry((source_id, name_id)).or_insert(0) += 1;
                (0, 0)
            }
        };

        let identity_id = self.strings.intern(&principal);
        let session = session_key.map_or(0, |key| self.strings.intern(key));
        let via = via.map_or(0, |service| self.strings.intern(service));
        let context = self.context_for(session);
        let parameters = record.request_parameters.as_ref();
        let resource = self.resource_for(record, source, name, parameters);
        let versioned = source == "s3.amazonaws.com"
            && parameters.is_some_and(|parameters| parameters.version_id.get().is_some());
        let key = CallKey {
            identity: identity_id,
            action: 0,
            resource,
            context,
            via,
            denied,
            basis: 0,
        };
        self.count_actions(key, start..start + len, versioned, time);

        if name == "AssumeRole" && source == "sts.amazonaws.com" && !denied && session != 0 {
            self.add_chained_session(record, session);
        }
        // A refused call says nothing of how far its authorization got.
        if !denied
            && let Some(parameters) = parameters.filter(|parameters| !parameters.values.is_empty())
        {
            let call = Call {
                record,
                source,
                name,
                identity: identity_id,
                caller_account: account_of(&principal),
                context,
                via,
                resource,
                time,
            };
            self.infer(&call, parameters, tables.implied);
        }
    }

    /// Counts the record as read and returns its time (Unix seconds) when it falls in the
    /// window, counting it there by the account whose trail logged it. A record without a
    /// time, or with one that does not parse, is set aside as malformed: it says nothing
    /// about the window, so it is not "outside" it.
    #[inline]
    fn admit(&mut self, record: &Record<'_>, window: &TimeWindow) -> Option<i64> {
        self.events_read += 1;
        let Some(time_text) = record.event_time.get() else {
            self.set_aside(SetAsideReason::MissingFields);
            return None;
        };
        let Some(time) = parse_event_time(time_text) else {
            self.set_aside(SetAsideReason::MalformedEventTime);
            return None;
        };
        if !window.contains_seconds(time) {
            return None;
        }
        self.events_in_window += 1;
        if let Some(account) = record.recipient_account_id.get() {
            let id = match self.last_account {
                Some(id) if self.strings.get(id) == account => id,
                _ => {
                    let id = self.strings.intern(account);
                    self.last_account = Some(id);
                    id
                }
            };
            *self.accounts.entry(id).or_insert(0) += 1;
        }
        self.first_event = Some(self.first_event.map_or(time, |first| first.min(time)));
        self.last_event = Some(self.last_event.map_or(time, |last| last.max(time)));
        Some(time)
    }

    /// Counts a call under each of its mapped actions (`actions`, positions in the mapped
    /// action list); `key` gives everything but the action. A request that addresses one S3
    /// object version (`versioned`) needs the version form of the object actions.
    #[inline]
    fn count_actions(
        &mut self,
        key: CallKey,
        actions: std::ops::Range<usize>,
        versioned: bool,
        time: i64,
    ) {
        for index in actions {
            let mut action = self.mapped_actions[index];
            if versioned {
                let plain = self.strings.get(action);
                if let Some((_, with_version)) =
                    S3_VERSIONED.iter().find(|(from, _)| *from == plain)
                {
                    action = self.strings.intern(with_version);
                }
            }
            self.count(CallKey { action, ..key }, time);
        }
    }

    /// The context of a call signed with `session`, resolved now if this worker already knows
    /// where the session came from.
    fn context_for(&self, session: u32) -> Context {
        if session == 0 {
            return Context::None;
        }
        let mut current = session;
        // Role chains are short; the bound only guards against a malformed cycle.
        for _ in 0..16 {
            match self.origins.get(&current) {
                Some(Origin::WebIdentity { issuer, subject }) => {
                    return Context::Workload {
                        issuer: *issuer,
                        subject: *subject,
                    };
                }
                Some(Origin::Chained { parent }) => current = *parent,
                None => break,
            }
        }
        Context::Session(session)
    }

    fn set_aside(&mut self, reason: SetAsideReason) {
        self.set_aside[reason as usize] += 1;
    }

    fn count(&mut self, key: CallKey, time: i64) {
        self.usage
            .entry(key)
            .and_modify(|stats| stats.add(Stats::at(time)))
            .or_insert(Stats::at(time));
    }

    /// Looks up (and caches) the actions of an event; derived names are built once per
    /// distinct (source, name) seen by this worker.
    fn mapping(&mut self, map: &EventMap, source_id: u32, name_id: u32) -> Cached {
        if let Some(cached) = self.mapping_cache.get(&(source_id, name_id)) {
            return *cached;
        }
        let start = self.mapped_actions.len() as u32;
        let cached = {
            let source = self.strings.get(source_id).to_owned();
            let name = self.strings.get(name_id).to_owned();
            match map.map(&source, &name) {
                Mapping::Actions { actions, .. } => {
                    for action in actions {
                        let id = self.strings.intern(action);
                        self.mapped_actions.push(id);
                    }
                    Cached::Actions {
                        start,
                        len: actions.len() as u32,
                    }
                }
                Mapping::Derived { prefix, name } => {
                    let id = self.strings.intern(&format!("{prefix}:{name}"));
                    self.mapped_actions.push(id);
                    Cached::Actions { start, len: 1 }
                }
                Mapping::NoAction => Cached::NoAction,
                Mapping::Unknown => Cached::Unknown,
            }
        };
        self.mapping_cache.insert((source_id, name_id), cached);
        cached
    }

    /// The resource of a call: `resources[].ARN` when the record has it, else an ARN built
    /// from the request for common services, else `*`.
    fn resource_for(
        &mut self,
        record: &Record<'_>,
        source: &str,
        name: &str,
        parameters: Option<&RequestParameters<'_>>,
    ) -> u32 {
        let resources = record.resources.as_deref().unwrap_or(&[]);
        let partition = partition(record.aws_region.get().unwrap_or(""));
        if source == "s3.amazonaws.com" {
            let bucket = parameters.and_then(|parameters| parameters.bucket_name.get());
            let key = parameters.and_then(|parameters| parameters.key.get());
            if name == "DeleteObjects" {
                // The deleted keys travel in the body and are not logged.
                if let Some(bucket) = bucket {
                    return self.build(|out| write!(out, "arn:{partition}:s3:::{bucket}/*"));
                }
            }
            let wanted = if key.is_some() {
                "AWS::S3::Object"
            } else {
                "AWS::S3::Bucket"
            };
            if let Some(arn) = resources
                .iter()
                .find(|resource| resource.kind.get() == Some(wanted))
                .and_then(|resource| resource.arn.get())
            {
                return self.strings.intern(arn);
            }
            return match (bucket, key) {
                (Some(bucket), Some(key)) => {
                    self.build(|out| write!(out, "arn:{partition}:s3:::{bucket}/{key}"))
                }
                (Some(bucket), None) => {
                    self.build(|out| write!(out, "arn:{partition}:s3:::{bucket}"))
                }
                _ => self.strings.intern("*"),
            };
        }
        if let Some(arn) = resources
            .iter()
            .filter(|resource| resource.kind.get() != Some("AWS::IAM::AccessKey"))
            .find_map(|resource| resource.arn.get())
        {
            return self.strings.intern(arn);
        }
        let Some(parameters) = parameters else {
            return self.strings.intern("*");
        };
        let region = record.aws_region.get().unwrap_or("");
        let account = record
            .recipient_account_id
            .get()
            .or_else(|| {
                record
                    .user_identity
                    .as_ref()
                    .and_then(|identity| identity.account_id.get())
            })
            .unwrap_or("");
        fn named(text: Option<&str>) -> Option<&str> {
            text.filter(|text| !text.starts_with("arn:"))
        }
        fn arn(text: Option<&str>) -> Option<&str> {
            text.filter(|text| text.starts_with("arn:"))
        }
        let service = source.strip_suffix(".amazonaws.com").unwrap_or(source);
        let direct = match service {
            "lambda" => arn(parameters.function_name.get()),
            "dynamodb" => arn(parameters.table_name.get()),
            "sns" => arn(parameters.topic_arn.get()),
            "kms" => arn(parameters.key_id.get()),
            "cloudformation" => arn(parameters.stack_name.get()),
            "iam" => arn(parameters.policy_arn.get()),
            "sts" => arn(parameters.role_arn.get()),
            _ => None,
        };
        if let Some(direct) = direct {
            return self.strings.intern(direct);
        }
        if region.is_empty() || account.is_empty() {
            return self.strings.intern("*");
        }
        match service {
            "lambda" => {
                if let Some(function) = named(parameters.function_name.get()) {
                    return self.build(|out| {
                        write!(
                            out,
                            "arn:{partition}:lambda:{region}:{account}:function:{function}"
                        )
                    });
                }
            }
            "dynamodb" => {
                if let Some(table) = named(parameters.table_name.get()) {
                    return self.build(|out| {
                        write!(
                            out,
                            "arn:{partition}:dynamodb:{region}:{account}:table/{table}"
                        )
                    });
                }
            }
            "ecr" => {
                if let Some(repository) = named(parameters.repository_name.get()) {
                    return self.build(|out| {
                        write!(
                            out,
                            "arn:{partition}:ecr:{region}:{account}:repository/{repository}"
                        )
                    });
                }
            }
            "cloudformation" => {
                if let Some(stack) = named(parameters.stack_name.get()) {
                    return self.build(|out| {
                        write!(
                            out,
                            "arn:{partition}:cloudformation:{region}:{account}:stack/{stack}/*"
                        )
                    });
                }
            }
            _ => {}
        }
        self.strings.intern("*")
    }

    /// Interns a string built in a reused buffer, so a repeated ARN costs no allocation.
    fn build(&mut self, write: impl FnOnce(&mut String) -> std::fmt::Result) -> u32 {
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        let id = match write(&mut scratch) {
            Ok(()) => self.strings.intern(&scratch),
            Err(_) => self.strings.intern("*"),
        };
        self.scratch = scratch;
        id
    }

    /// Permissions the call needed but CloudTrail does not log as events of their own, by the
    /// rules of the implied-permission table; each (permission, resource) counts once per call.
    fn infer(
        &mut self,
        call: &Call<'_>,
        parameters: &RequestParameters<'_>,
        table: &ImpliedPermissions,
    ) {
        let record = call.record;
        let partition = partition(record.aws_region.get().unwrap_or(""));
        let region = record.aws_region.get();
        let account = record
            .recipient_account_id
            .get()
            .or(call.caller_account)
            .or_else(|| {
                record
                    .user_identity
                    .as_ref()
                    .and_then(|identity| identity.account_id.get())
            });
        let mut found: Vec<(u32, u32, u32)> = Vec::new();
        let mut profiles: Vec<u32> = Vec::new();
        for parameter in &parameters.values {
            let value: &str = &parameter.value;
            for implied in table.implied(
                call.source,
                call.name,
                &parameter.path,
                value,
                call.caller_account,
            ) {
                let mut permission = implied.permission;
                let resource = match implied.resource {
                    ResourceForm::Request => call.resource,
                    ResourceForm::Value => self.strings.intern(value),
                    ResourceForm::CopySource => {
                        let (object, versioned) = parse_copy_source(value);
                        if versioned
                            && let Some((_, with_version)) =
                                S3_VERSIONED.iter().find(|(from, _)| *from == permission)
                        {
                            permission = *with_version;
                        }
                        self.build(|out| write!(out, "arn:{partition}:s3:::{object}"))
                    }
                    ResourceForm::InstanceProfileRole => {
                        // A name is a profile of the account the call was made in; without that
                        // account the role stays unknown, and the permission is kept broad.
                        let profile = if value.starts_with("arn:") {
                            Some(self.strings.intern(value))
                        } else {
                            account.map(|account| {
                                self.build(|out| {
                                    write!(
                                        out,
                                        "arn:{partition}:iam::{account}:instance-profile/{value}"
                                    )
                                })
                            })
                        };
                        match profile {
                            Some(profile) => {
                                profiles.push(profile);
                                profile
                            }
                            None => self.strings.intern("*"),
                        }
                    }
                    ResourceForm::Template(template) => {
                        let needs = |placeholder: &str| template.contains(placeholder);
                        match (region, account) {
                            (None, _) if needs("{region}") => self.strings.intern("*"),
                            (_, None) if needs("{account}") => self.strings.intern("*"),
                            _ => self.build(|out| {
                                out.push_str(
                                    &template
                                        .replace("{partition}", partition)
                                        .replace("{region}", region.unwrap_or(""))
                                        .replace("{account}", account.unwrap_or(""))
                                        .replace("{value}", value),
                                );
                                Ok(())
                            }),
                        }
                    }
                };
                let action = self.strings.intern(permission);
                let name = call.name;
                let path = &parameter.path;
                let basis = self.build(|out| write!(out, "implied by {name} {path}"));
                found.push((action, resource, basis));
            }
        }
        // One count per (permission, resource) and call, whichever parameters implied it; the
        // reason kept is the first by text, so that it does not depend on interning order.
        let strings = &self.strings;
        found.sort_unstable_by(|a, b| {
            (a.0, a.1)
                .cmp(&(b.0, b.1))
                .then_with(|| strings.get(a.2).cmp(strings.get(b.2)))
        });
        found.dedup_by_key(|(action, resource, _)| (*action, *resource));
        profiles.sort_unstable();
        profiles.dedup();
        for profile in profiles {
            *self
                .profile_passes
                .entry((call.identity, profile))
                .or_insert(0) += 1;
        }
        for (action, resource, basis) in found {
            self.count(
                CallKey {
                    identity: call.identity,
                    action,
                    resource,
                    context: call.context,
                    via: call.via,
                    denied: false,
                    basis,
                },
                call.time,
            );
        }
    }

    fn add_web_identity(&mut self, record: &Record<'_>, identity: &UserIdentity<'_>, time: i64) {
        let response = record.response_elements.as_ref();
        let issuer = identity
            .identity_provider
            .get()
            .or_else(|| response.and_then(|response| response.provider.get()))
            .map(normalize_issuer)
            .unwrap_or("unknown");
        let subject = identity
            .user_name
            .get()
            .or_else(|| {
                response.and_then(|response| response.subject_from_web_identity_token.get())
            })
            .unwrap_or("unknown");
        let role = record
            .request_parameters
            .as_ref()
            .and_then(|parameters| parameters.role_arn.get())
            .unwrap_or("unknown");
        let denied = record.error_code.get().is_some();
        let issuer = self.strings.intern(issuer);
        let subject = self.strings.intern(subject);
        let role = self.strings.intern(role);
        self.web_identity
            .entry((role, issuer, subject, denied))
            .and_modify(|stats| stats.add(Stats::at(time)))
            .or_insert(Stats::at(time));
        if denied {
            return;
        }
        let key = response
            .and_then(|response| response.credentials.0.as_ref())
            .and_then(|credentials| credentials.access_key_id.get());
        if let Some(key) = key {
            let key = self.strings.intern(key);
            self.record_origin(key, Origin::WebIdentity { issuer, subject });
        }
    }

    fn add_chained_session(&mut self, record: &Record<'_>, parent: u32) {
        let key = record
            .response_elements
            .as_ref()
            .and_then(|response| response.credentials.0.as_ref())
            .and_then(|credentials| credentials.access_key_id.get());
        if let Some(key) = key {
            let key = self.strings.intern(key);
            self.record_origin(key, Origin::Chained { parent });
        }
    }

    /// Keeps one origin per key; should two records disagree, the smaller wins so that the
    /// answer does not depend on which file was read first.
    fn record_origin(&mut self, key: u32, origin: Origin) {
        let strings = &self.strings;
        let rank = |origin: &Origin| match *origin {
            Origin::WebIdentity { issuer, subject } => {
                (0u8, strings.get(issuer), strings.get(subject))
            }
            Origin::Chained { parent } => (1u8, strings.get(parent), ""),
        };
        self.origins
            .entry(key)
            .and_modify(|existing| {
                if rank(&origin) < rank(existing) {
                    *existing = origin;
                }
            })
            .or_insert(origin);
    }

    /// Folds another worker's counts into this one, re-interning its strings.
    pub fn merge(&mut self, other: Accumulator) {
        let mut translate: Vec<u32> = Vec::with_capacity(other.strings.count());
        for id in 0..other.strings.count() {
            translate.push(self.strings.intern(other.strings.get(id as u32)));
        }
        let tr = |id: u32| translate[id as usize];
        for (key, stats) in other.usage {
            let key = CallKey {
                identity: tr(key.identity),
                action: tr(key.action),
                resource: tr(key.resource),
                context: match key.context {
                    Context::None => Context::None,
                    Context::Session(session) => Context::Session(tr(session)),
                    Context::Workload { issuer, subject } => Context::Workload {
                        issuer: tr(issuer),
                        subject: tr(subject),
                    },
                },
                via: if key.via == 0 { 0 } else { tr(key.via) },
                basis: if key.basis == 0 { 0 } else { tr(key.basis) },
                ..key
            };
            self.usage
                .entry(key)
                .and_modify(|existing| existing.add(stats))
                .or_insert(stats);
        }
        for (key, origin) in other.origins {
            let origin = match origin {
                Origin::WebIdentity { issuer, subject } => Origin::WebIdentity {
                    issuer: tr(issuer),
                    subject: tr(subject),
                },
                Origin::Chained { parent } => Origin::Chained { parent: tr(parent) },
            };
            self.record_origin(tr(key), origin);
        }
        for ((role, issuer, subject, denied), stats) in other.web_identity {
            self.web_identity
                .entry((tr(role), tr(issuer), tr(subject), denied))
                .and_modify(|existing| existing.add(stats))
                .or_insert(stats);
        }
        for ((identity, profile), count) in other.profile_passes {
            *self
                .profile_passes
                .entry((tr(identity), tr(profile)))
                .or_insert(0) += count;
        }
        for (account, events) in other.accounts {
            *self.accounts.entry(tr(account)).or_insert(0) += events;
        }
        for ((user, key), stats) in other.user_keys {
            self.user_keys
                .entry((tr(user), tr(key)))
                .and_modify(|existing| existing.add(stats))
                .or_insert(stats);
        }
        for ((source, name), count) in other.unknown {
            *self.unknown.entry((tr(source), tr(name))).or_insert(0) += count;
        }
        for (mine, theirs) in self.set_aside.iter_mut().zip(other.set_aside) {
            *mine += theirs;
        }
        self.no_action += other.no_action;
        self.events_read += other.events_read;
        self.events_in_window += other.events_in_window;
        self.first_event = min_option(self.first_event, other.first_event);
        self.last_event = max_option(self.last_event, other.last_event);
    }

    /// Resolves session keys to CI workloads and produces the sorted result: the usage
    /// ([`Accumulator::usage_records`]), then the web identity sessions, instance profile
    /// passes, access keys and unknown events, each sorted, then the coverage.
    pub fn finish(
        self,
        window: TimeWindow,
        files_read: u64,
        mut skipped: Vec<SkippedSource>,
    ) -> CloudTrailUsage {
        let strings = &self.strings;
        let (allowed, denied) = self.usage_records();
        let web_identity_sessions = self.web_identity_sessions();
        let instance_profile_passes = self.instance_profile_passes();
        let access_keys = self.access_keys();
        let unknown_events = self.unknown_events();
        let set_aside = SetAsideReason::ALL
            .iter()
            .filter(|reason| self.set_aside[**reason as usize] > 0)
            .map(|reason| (*reason, self.set_aside[*reason as usize]))
            .collect();
        skipped.sort();
        CloudTrailUsage {
            window,
            allowed,
            denied,
            web_identity_sessions,
            instance_profile_passes,
            access_keys,
            unknown_events,
            set_aside,
            no_action_events: self.no_action,
            coverage: Coverage {
                sources_read: files_read,
                sources_skipped: skipped,
                events_read: self.events_read,
                events_in_window: self.events_in_window,
                first_event: self.first_event.map(to_datetime),
                last_event: self.last_event.map(to_datetime),
                containers: self
                    .accounts
                    .iter()
                    .map(|(&account, &events)| (strings.get(account).to_owned(), events))
                    .collect(),
            },
            trail_overlaps: Vec::new(),
        }
    }

    /// The allowed and the denied usage, with session keys resolved to the CI workloads that
    /// obtained them (through role chains). Each distinct workload is built once.
    fn usage_records(&self) -> (Usage, Usage) {
        let strings = &self.strings;
        // A session key to the (issuer, subject) ids of the workload that started its chain.
        let resolve = |key: u32| -> Option<(u32, u32)> {
            let mut current = key;
            // Role chains are short; the bound only guards against a malformed cycle.
            for _ in 0..16 {
                match self.origins.get(&current)? {
                    Origin::WebIdentity { issuer, subject } => return Some((*issuer, *subject)),
                    Origin::Chained { parent } => current = *parent,
                }
            }
            None
        };
        let mut session_workload: FxHashMap<u32, Option<(u32, u32)>> = FxHashMap::default();
        let mut workloads: FxHashMap<(u32, u32), CiWorkload> = FxHashMap::default();
        let mut records: BTreeMap<(bool, u32, u32, u32), RecordBuilder> = BTreeMap::new();
        for (key, stats) in &self.usage {
            let record = records
                .entry((key.denied, key.identity, key.action, key.resource))
                .or_insert_with(|| RecordBuilder::new(*stats));
            record.stats_first_last(*stats);
            if key.basis == 0 {
                record.logged += stats.count;
            } else {
                record.inferred += stats.count;
                record.evidence.insert(strings.get(key.basis).to_owned());
            }
            if key.via != 0 {
                record
                    .evidence
                    .insert(format!("via {}", strings.get(key.via)));
            }
            let workload = match key.context {
                Context::None => continue,
                Context::Workload { issuer, subject } => Some((issuer, subject)),
                Context::Session(session) => *session_workload
                    .entry(session)
                    .or_insert_with(|| resolve(session)),
            };
            match workload {
                Some((issuer, subject)) => {
                    let workload = workloads.entry((issuer, subject)).or_insert_with(|| {
                        workload_of_host(strings.get(issuer), strings.get(subject))
                    });
                    record.workloads.insert(workload.clone());
                }
                None => record.unlinked += stats.count,
            }
        }
        let mut allowed = Usage::new();
        let mut denied = Usage::new();
        for ((is_denied, identity, action, resource), record) in records {
            let key = UsageKey {
                identity: IdentityId::new(Provider::Aws, strings.get(identity)),
                permission: Permission::new(Provider::Aws, strings.get(action)),
                resource: strings.get(resource).to_owned(),
            };
            let record = UsageRecord {
                count: record.logged + record.inferred,
                inferred: record.inferred,
                denied_count: 0,
                first_seen: to_datetime(record.first),
                last_seen: to_datetime(record.last),
                workloads: record.workloads,
                unlinked_calls: record.unlinked,
                sources: BTreeSet::new(),
                evidence: record.evidence,
            };
            if is_denied {
                denied.add_record(key, record);
            } else {
                allowed.add_record(key, record);
            }
        }
        (allowed, denied)
    }

    fn web_identity_sessions(&self) -> Vec<WebIdentitySession> {
        let strings = &self.strings;
        let mut web_identity_sessions: Vec<WebIdentitySession> = self
            .web_identity
            .iter()
            .map(
                |(&(role, issuer, subject, is_denied), stats)| WebIdentitySession {
                    role: strings.get(role).to_owned(),
                    workload: workload_of_host(strings.get(issuer), strings.get(subject)),
                    outcome: if is_denied {
                        Outcome::Denied
                    } else {
                        Outcome::Allowed
                    },
                    count: stats.count,
                    first_seen: to_datetime(stats.first),
                    last_seen: to_datetime(stats.last),
                },
            )
            .collect();
        // By issuer host (the URL's common `https://` prefix keeps that order), not by the
        // model's CI system order: the order the outputs have always listed.
        web_identity_sessions.sort_by(|a, b| session_order(a).cmp(&session_order(b)));
        web_identity_sessions
    }

    fn instance_profile_passes(&self) -> Vec<InstanceProfilePass> {
        let strings = &self.strings;
        let mut instance_profile_passes: Vec<InstanceProfilePass> = self
            .profile_passes
            .iter()
            .map(|(&(identity, profile), &count)| InstanceProfilePass {
                identity: strings.get(identity).to_owned(),
                instance_profile: strings.get(profile).to_owned(),
                count,
            })
            .collect();
        instance_profile_passes.sort_by(|a, b| {
            (&a.identity, &a.instance_profile).cmp(&(&b.identity, &b.instance_profile))
        });
        instance_profile_passes
    }

    fn access_keys(&self) -> Vec<AccessKeyUse> {
        let strings = &self.strings;
        let mut access_keys: Vec<AccessKeyUse> = self
            .user_keys
            .iter()
            .map(|(&(user, key), stats)| AccessKeyUse {
                user_arn: strings.get(user).to_owned(),
                access_key_id: strings.get(key).to_owned(),
                calls: stats.count,
                first_seen: to_datetime(stats.first),
                last_seen: to_datetime(stats.last),
            })
            .collect();
        access_keys
            .sort_by(|a, b| (&a.user_arn, &a.access_key_id).cmp(&(&b.user_arn, &b.access_key_id)));
        access_keys
    }

    fn unknown_events(&self) -> Vec<UnknownEvent> {
        let strings = &self.strings;
        let mut unknown_events: Vec<UnknownEvent> = self
            .unknown
            .iter()
            .map(|(&(source, name), &count)| UnknownEvent {
                event_source: strings.get(source).to_owned(),
                event_name: strings.get(name).to_owned(),
                count,
            })
            .collect();
        unknown_events.sort();
        unknown_events
    }
}

/// Role, issuer URL, subject, outcome.
fn session_order(session: &WebIdentitySession) -> (&str, &str, &str, Outcome) {
    let workload = &session.workload;
    (
        &session.role,
        &workload.issuer_url,
        &workload.subject,
        session.outcome,
    )
}

struct RecordBuilder {
    logged: u64,
    inferred: u64,
    first: i64,
    last: i64,
    workloads: BTreeSet<CiWorkload>,
    unlinked: u64,
    evidence: BTreeSet<String>,
}

impl RecordBuilder {
    fn new(stats: Stats) -> RecordBuilder {
        RecordBuilder {
            logged: 0,
            inferred: 0,
            first: stats.first,
            last: stats.last,
            workloads: BTreeSet::new(),
            unlinked: 0,
            evidence: BTreeSet::new(),
        }
    }
    fn stats_first_last(&mut self, stats: Stats) {
        self.first = self.first.min(stats.first);
        self.last = self.last.max(stats.last);
    }
}

fn min_option(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

fn max_option(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

/// Decides who a record is charged to: the principal whose credentials made the call, whoever
/// sent it. A service that calls with a principal's credentials — the session of a role it
/// was given (a CloudFormation service role, `invokedBy: cloudformation.amazonaws.com`), or a
/// forward access session for the caller (S3 calling KMS) — is evaluated against that
/// principal's policies, so the call is the principal's, with the service kept as evidence.
/// Only what a service does as itself is set aside: an `AWSService` identity, a
/// service-linked role, or an `invokedBy` with no IAM principal named. CloudTrail User Guide,
/// "CloudTrail userIdentity element":
/// <https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html>;
/// IAM User Guide, "Forward access sessions":
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/access_forward_access_sessions.html>.
fn attribute<'r>(identity: &'r UserIdentity<'r>) -> Attribution<'r> {
    let via = identity.invoked_by.get();
    let session_key = identity
        .access_key_id
        .get()
        .filter(|key| key.starts_with("ASIA"));
    let principal = |arn: Cow<'r, str>, session_key: Option<&'r str>| Attribution::Principal {
        arn,
        session_key,
        via,
    };
    let named = |arn: Option<&'r str>| match arn {
        Some(arn) => principal(Cow::Borrowed(arn), None),
        None => Attribution::SetAside(SetAsideReason::MissingFields),
    };
    match identity.kind.get() {
        Some("AWSService") => Attribution::SetAside(SetAsideReason::AwsService),
        Some("AWSAccount") => Attribution::SetAside(SetAsideReason::OtherAccount),
        Some("AssumedRole") => {
            let issuer = identity
                .session_context
                .as_ref()
                .and_then(|context| context.session_issuer.as_ref())
                .and_then(|issuer| Some((issuer.kind.get()?, issuer.arn.get()?)));
            let role = match issuer {
                Some(("Role", arn)) => Some(Cow::Borrowed(arn)),
                Some(_) => None,
                // Some records carry no session context; the session ARN still names the role
                // (without its path, which identities are matched without).
                None => identity.arn.get().and_then(role_of_session),
            };
            match role {
                Some(role) if is_service_linked_role(&role) => {
                    Attribution::SetAside(SetAsideReason::ServiceLinkedRole)
                }
                Some(role) => principal(role, session_key),
                None => Attribution::SetAside(SetAsideReason::MissingFields),
            }
        }
        Some("IAMUser") | Some("Root") | Some("FederatedUser") => named(identity.arn.get()),
        // No principal type at all: a service acting as itself when it says so.
        None if via.is_some() => Attribution::SetAside(SetAsideReason::InvokedByService),
        _ => Attribution::SetAside(SetAsideReason::OtherIdentityType),
    }
}

/// `arn:aws:sts::<account>:assumed-role/<name>/<session>` → `arn:aws:iam::<account>:role/<name>`.
fn role_of_session(arn: &str) -> Option<Cow<'_, str>> {
    let rest = arn.strip_prefix("arn:")?;
    let mut parts = rest.splitn(5, ':');
    let (partition, service, _region, account, resource) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    let name = resource.strip_prefix("assumed-role/")?.split('/').next()?;
    (service == "sts" && !name.is_empty() && !account.is_empty())
        .then(|| Cow::Owned(format!("arn:{partition}:iam::{account}:role/{name}")))
}

/// A service-linked role lives under the path `/aws-service-role/`; a role named from its
/// session alone has no path, but its name starts `AWSServiceRoleFor`.
fn is_service_linked_role(arn: &str) -> bool {
    arn.contains(":role/aws-service-role/") || arn.contains(":role/AWSServiceRoleFor")
}

/// The account field of an ARN.
fn account_of(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|account| !account.is_empty())
}

/// `arn:aws:iam::<account>:oidc-provider/token.actions.githubusercontent.com` →
/// `token.actions.githubusercontent.com`; an issuer URL loses its scheme.
fn normalize_issuer(provider: &str) -> &str {
    if let Some((_, host)) = provider.split_once(":oidc-provider/") {
        return host;
    }
    provider.strip_prefix("https://").unwrap_or(provider)
}

fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// `x-amz-copy-source` is `bucket/key` (sometimes with a leading `/`), URL-encoded, with an
/// optional `?versionId=`.
fn parse_copy_source(copy_source: &str) -> (String, bool) {
    let trimmed = copy_source.trim_start_matches('/');
    let (object, query) = match trimmed.split_once('?') {
        Some((object, query)) => (object, Some(query)),
        None => (trimmed, None),
    };
    let decoded = percent_encoding::percent_decode_str(object)
        .decode_utf8_lossy()
        .into_owned();
    let versioned =
        query.is_some_and(|query| query.split('&').any(|pair| pair.starts_with("versionId=")));
    (decoded, versioned)
}

/// One counted call key as stored: (identity, action, resource, context, via, denied, basis,
/// count, first, last); times in Unix seconds; context is `[]`, `[session]` or
/// `[issuer, subject]`.
type StoredCall = (u32, u32, u32, Vec<u32>, u32, bool, u32, u64, i64, i64);

/// An [`Accumulator`] as stored between incremental reads (`usage/aws-read-state.json.gz`):
/// the interned strings in id order, then every map as a sorted list of tuples of ids into
/// them. Only what [`Accumulator::merge`] and [`Accumulator::finish`] read is kept; the
/// per-worker caches are rebuilt on use.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StoredAccumulator {
    /// Interned strings; the id of a string is its index (index 0 is the empty string).
    strings: Vec<String>,
    usage: Vec<StoredCall>,
    /// (access key, origin): origin `[issuer, subject]` (web identity) or `[parent key]`.
    origins: Vec<(u32, Vec<u32>)>,
    /// (role, issuer, subject, denied, count, first, last).
    web_identity: Vec<(u32, u32, u32, bool, u64, i64, i64)>,
    /// (identity, instance profile, count).
    profile_passes: Vec<(u32, u32, u64)>,
    /// (user, access key, count, first, last).
    user_keys: Vec<(u32, u32, u64, i64, i64)>,
    /// (recipient account, events).
    accounts: Vec<(u32, u64)>,
    /// (event source, event name, count).
    unknown: Vec<(u32, u32, u64)>,
    /// Counts by [`SetAsideReason`] name.
    set_aside: Vec<(String, u64)>,
    no_action: u64,
    events_read: u64,
    events_in_window: u64,
    first_event: Option<i64>,
    last_event: Option<i64>,
}

impl Accumulator {
    /// Records read so far (in the window or not).
    pub fn events_read(&self) -> u64 {
        self.events_read
    }

    /// Replaces the count of records read: an assembly of stored parts counts the records of
    /// every part it read, including parts whose events fall outside the window.
    pub fn set_events_read(&mut self, events_read: u64) {
        self.events_read = events_read;
    }

    /// The stored form, every list sorted so that equal accumulators store equal bytes.
    pub fn to_stored(&self) -> StoredAccumulator {
        let context = |context: Context| match context {
            Context::None => Vec::new(),
            Context::Session(session) => vec![session],
            Context::Workload { issuer, subject } => vec![issuer, subject],
        };
        let origin = |origin: Origin| match origin {
            Origin::WebIdentity { issuer, subject } => vec![issuer, subject],
            Origin::Chained { parent } => vec![parent],
        };
        let mut stored = StoredAccumulator {
            strings: (0..self.strings.count())
                .map(|id| self.strings.get(id as u32).to_owned())
                .collect(),
            usage: self
                .usage
                .iter()
                .map(|(key, stats)| {
                    (
                        key.identity,
                        key.action,
                        key.resource,
                        context(key.context),
                        key.via,
                        key.denied,
                        key.basis,
                        stats.count,
                        stats.first,
                        stats.last,
                    )
                })
                .collect(),
            origins: self
                .origins
                .iter()
                .map(|(&key, &value)| (key, origin(value)))
                .collect(),
            web_identity: self
                .web_identity
                .iter()
                .map(|(&(role, issuer, subject, denied), stats)| {
                    (
                        role,
                        issuer,
                        subject,
                        denied,
                        stats.count,
                        stats.first,
                        stats.last,
                    )
                })
                .collect(),
            profile_passes: self
                .profile_passes
                .iter()
                .map(|(&(identity, profile), &count)| (identity, profile, count))
                .collect(),
            user_keys: self
                .user_keys
                .iter()
                .map(|(&(user, key), stats)| (user, key, stats.count, stats.first, stats.last))
                .collect(),
            accounts: self.accounts.iter().map(|(&id, &n)| (id, n)).collect(),
            unknown: self
                .unknown
                .iter()
                .map(|(&(source, name), &count)| (source, name, count))
                .collect(),
            set_aside: SetAsideReason::ALL
                .iter()
                .filter(|reason| self.set_aside[**reason as usize] > 0)
                .map(|reason| (reason.as_str().to_owned(), self.set_aside[*reason as usize]))
                .collect(),
            no_action: self.no_action,
            events_read: self.events_read,
            events_in_window: self.events_in_window,
            first_event: self.first_event,
            last_event: self.last_event,
        };
        stored.usage.sort_unstable();
        stored.origins.sort_unstable();
        stored.web_identity.sort_unstable();
        stored.profile_passes.sort_unstable();
        stored.user_keys.sort_unstable();
        stored.accounts.sort_unstable();
        stored.unknown.sort_unstable();
        stored
    }

    /// Rebuilds an accumulator from its stored form; a reference to a string that is not
    /// there, an unknown set-aside reason or a malformed context is an error (the file is
    /// damaged), never a silently different count.
    pub fn from_stored(stored: StoredAccumulator) -> Result<Accumulator, String> {
        let mut accumulator = Accumulator::default();
        for (index, text) in stored.strings.iter().enumerate() {
            if accumulator.strings.intern(text) as usize != index {
                return Err(format!(
                    "string {index} (`{text}`) is listed twice or the list does not start with \
                     the empty string"
                ));
            }
        }
        let count = accumulator.strings.count();
        let id = |id: u32| {
            if (id as usize) < count {
                Ok(id)
            } else {
                Err(format!(
                    "string id {id} is out of range (there are {count})"
                ))
            }
        };
        let context = |ids: &[u32]| match *ids {
            [] => Ok(Context::None),
            [session] => Ok(Context::Session(id(session)?)),
            [issuer, subject] => Ok(Context::Workload {
                issuer: id(issuer)?,
                subject: id(subject)?,
            }),
            _ => Err(format!("a call context has {} ids, not 0 to 2", ids.len())),
        };
        let stats = |count, first, last| Stats { count, first, last };
        for (identity, action, resource, ctx, via, denied, basis, n, first, last) in stored.usage {
            let key = CallKey {
                identity: id(identity)?,
                action: id(action)?,
                resource: id(resource)?,
                context: context(&ctx)?,
                via: id(via)?,
                denied,
                basis: id(basis)?,
            };
            accumulator.usage.insert(key, stats(n, first, last));
        }
        for (key, origin) in stored.origins {
            let origin = match *origin.as_slice() {
                [issuer, subject] => Origin::WebIdentity {
                    issuer: id(issuer)?,
                    subject: id(subject)?,
                },
                [parent] => Origin::Chained {
                    parent: id(parent)?,
                },
                _ => return Err(format!("an origin has {} ids, not 1 or 2", origin.len())),
            };
            accumulator.origins.insert(id(key)?, origin);
        }
        for (role, issuer, subject, denied, n, first, last) in stored.web_identity {
            accumulator.web_identity.insert(
                (id(role)?, id(issuer)?, id(subject)?, denied),
                stats(n, first, last),
            );
        }
        for (identity, profile, n) in stored.profile_passes {
            accumulator
                .profile_passes
                .insert((id(identity)?, id(profile)?), n);
        }
        for (user, key, n, first, last) in stored.user_keys {
            accumulator
                .user_keys
                .insert((id(user)?, id(key)?), stats(n, first, last));
        }
        for (account, n) in stored.accounts {
            accumulator.accounts.insert(id(account)?, n);
        }
        for (source, name, n) in stored.unknown {
            accumulator.unknown.insert((id(source)?, id(name)?), n);
        }
        for (name, n) in stored.set_aside {
            let reason = SetAsideReason::ALL
                .iter()
                .find(|reason| reason.as_str() == name)
                .ok_or_else(|| format!("unknown set-aside reason `{name}`"))?;
            accumulator.set_aside[*reason as usize] = n;
        }
        accumulator.no_action = stored.no_action;
        accumulator.events_read = stored.events_read;
        accumulator.events_in_window = stored.events_in_window;
        accumulator.first_event = stored.first_event;
        accumulator.last_event = stored.last_event;
        Ok(accumulator)
    }
}
