//! A deterministic generator of Cloud Audit Logs in a sink's Cloud Storage layout, with ground
//! truth, for recall tests, demos and benchmarks.
//!
//! Output: `cloudaudit.googleapis.com/{activity,data_access,system_event}/YYYY/MM/DD/HH:00:00_HH:59:59_S0.json`
//! (newline-delimited `LogEntry` JSON; `.json.gz` with `gzip`) plus `ground-truth.json`: for
//! every principal, the permissions it used (allowed) and the ones it was refused, and the CI
//! subjects that made its calls. The ground truth is written from the scenario tables below,
//! never from the reader, so a recall test compares two independent descriptions.
//!
//! The scenario: CI service accounts used through Workload Identity Federation from GitHub
//! Actions, one impersonated by another, a service account with a key, a workload that uses
//! its federated principal directly, multi-permission calls, denied calls (`granted: false`,
//! status 7 without `granted`), one call refused for one permission and granted the other,
//! Data Access and Admin Activity entries, and noise: Google service agents, System Event
//! entries without a principal, entries without `authorizationInfo`.
//!
//! Each hour of the period is generated from its own RNG seeded by (seed, hour), in parallel,
//! so the set is byte-identical for a given seed and size.

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use flate2::Compression;
use flate2::write::GzEncoder;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenerateOptions {
    /// Total number of log entries.
    pub entries: u64,
    pub seed: u64,
    /// First day of the period (UTC).
    pub start: NaiveDate,
    pub days: u32,
    /// Write `.json.gz` instead of `.json`.
    pub gzip: bool,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        GenerateOptions {
            entries: 10_000,
            seed: 1,
            start: NaiveDate::from_ymd_opt(2026, 11, 1).unwrap_or_default(),
            days: 7,
            gzip: false,
        }
    }
}

/// A generation failure (only I/O can fail).
#[derive(Debug, thiserror::Error)]
#[error("cannot write `{path}`: {source}; check that the output directory is writable")]
pub struct GenerateError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// File name of the ground truth inside the output directory.
pub const GROUND_TRUTH_FILE: &str = "ground-truth.json";

/// The expected result of reading a generated set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroundTruth {
    pub format_version: u32,
    pub seed: u64,
    pub entries: u64,
    pub files: u64,
    /// Principal (service account email, or `principal://…` for direct federated access) →
    /// permissions used.
    pub used: BTreeMap<String, BTreeSet<String>>,
    /// Principal → permissions refused.
    pub denied: BTreeMap<String, BTreeSet<String>>,
    /// Principal → CI subjects that made its calls.
    pub subjects: BTreeMap<String, BTreeSet<String>>,
    /// Entries per audit log (`activity`, `data_access`, `system_event`).
    pub log_types: BTreeMap<String, u64>,
    /// Entries a reader must set aside, by reason (`no-principal`, `no-authorization-info`).
    pub set_aside: BTreeMap<String, u64>,
    /// Service-account key name (`authenticationInfo.serviceAccountKeyName`) → entries that
    /// authenticated with it, set-aside entries included (the key was used all the same).
    #[serde(default)]
    pub key_use: BTreeMap<String, u64>,
}

const PROJECT: &str = "acme-prod";
/// The full resource name of the scenario's Workload Identity pool, which the reader gives as
/// the issuer of the CI workloads it links.
pub const POOL_NAME: &str =
    "//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/github";

/// How IAM answered one check.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Grant {
    Granted,
    Refused,
    /// `granted` left out (proto3 default); the status decides.
    Unstated,
}

/// Who makes a call.
#[derive(Clone, Copy)]
struct Caller {
    /// `principalEmail`.
    email: Option<&'static str>,
    /// `principalSubject` of the caller itself (direct federated access).
    subject: Option<&'static str>,
    /// `serviceAccountDelegationInfo[]`: `Ok(email)` first-party, `Err(subject)` federated.
    chain: &'static [Result<&'static str, &'static str>],
    /// `serviceAccountKeyName`: the user-managed key the call authenticated with.
    key: Option<&'static str>,
}

/// One kind of call: the entry as written and the checks IAM made.
struct Call {
    caller: Caller,
    service: &'static str,
    method: &'static str,
    /// `resourceName`; `{n}` is replaced by a small number.
    resource: &'static str,
    checks: &'static [(&'static str, Grant)],
    status: i64,
    log: &'static str,
    weight: u32,
}

const DEPLOYER: &str = "deployer@acme-prod.iam.gserviceaccount.com";
const TERRAFORM: &str = "terraform@acme-prod.iam.gserviceaccount.com";
const BUILDER: &str = "builder@acme-prod.iam.gserviceaccount.com";
const READER: &str = "reporting@acme-prod.iam.gserviceaccount.com";
const CLOUDBUILD_AGENT: &str = "service-123456789012@gcp-sa-cloudbuild.iam.gserviceaccount.com";
const CLOUDSERVICES: &str = "123456789012@cloudservices.gserviceaccount.com";

const WEB_MAIN: &str = "principal://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/github/subject/repo:acme/web:ref:refs/heads/main";
const INFRA_MAIN: &str = "principal://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/github/subject/repo:acme/infra:ref:refs/heads/main";
const INFRA_PR: &str = "principal://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/github/subject/repo:acme/infra:pull_request";
const DOCS_MAIN: &str = "principal://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/github/subject/repo:acme/docs:ref:refs/heads/main";

const VIA_WEB: Caller = Caller {
    email: Some(DEPLOYER),
    subject: None,
    chain: &[Err(WEB_MAIN)],
    key: None,
};
const VIA_INFRA: Caller = Caller {
    email: Some(TERRAFORM),
    subject: None,
    chain: &[Err(INFRA_MAIN)],
    key: None,
};
const VIA_INFRA_PR: Caller = Caller {
    email: Some(TERRAFORM),
    subject: None,
    chain: &[Err(INFRA_PR)],
    key: None,
};
/// `builder` impersonated by `deployer`, itself federated from the web repository.
const BUILDER_VIA_DEPLOYER: Caller = Caller {
    email: Some(BUILDER),
    subject: None,
    chain: &[Err(WEB_MAIN), Ok(DEPLOYER)],
    key: None,
};
/// The reporting job authenticates with a user-managed key of `reporting`.
const READER_KEY_NAME: &str = "//iam.googleapis.com/projects/acme-prod/serviceAccounts/reporting@acme-prod.iam.gserviceaccount.com/keys/3f7c1d9e2b4a6c8d0e1f2a3b4c5d6e7f80912a3b";
const READER_KEY: Caller = Caller {
    email: Some(READER),
    subject: None,
    chain: &[],
    key: Some(READER_KEY_NAME),
};
/// The same account through a second, rarely used key.
const READER_OLD_KEY_NAME: &str = "//iam.googleapis.com/projects/acme-prod/serviceAccounts/reporting@acme-prod.iam.gserviceaccount.com/keys/9a8b7c6d5e4f30211203f4e5d6c7b8a9f0e1d2c3";
const READER_OLD_KEY: Caller = Caller {
    email: Some(READER),
    subject: None,
    chain: &[],
    key: Some(READER_OLD_KEY_NAME),
};
const DOCS_DIRECT: Caller = Caller {
    email: None,
    subject: Some(DOCS_MAIN),
    chain: &[],
    key: None,
};
const AGENT: Caller = Caller {
    email: Some(CLOUDBUILD_AGENT),
    subject: None,
    chain: &[],
    key: None,
};
const CLOUDSERVICES_AGENT: Caller = Caller {
    email: Some(CLOUDSERVICES),
    subject: None,
    chain: &[],
    key: None,
};
const NOBODY: Caller = Caller {
    email: None,
    subject: None,
    chain: &[],
    key: None,
};

use Grant::{Granted, Refused, Unstated};

const CALLS: &[Call] = &[
    Call {
        caller: VIA_WEB,
        service: "run.googleapis.com",
        method: "google.cloud.run.v2.Services.UpdateService",
        resource: "projects/acme-prod/locations/europe-west1/services/web",
        checks: &[
            ("run.services.update", Granted),
            ("iam.serviceAccounts.actAs", Granted),
        ],
        status: 0,
        log: "activity",
        weight: 30,
    },
    Call {
        caller: VIA_WEB,
        service: "artifactregistry.googleapis.com",
        method: "Docker-PutManifest",
        resource: "projects/acme-prod/locations/europe/repositories/images",
        checks: &[("artifactregistry.repositories.uploadArtifacts", Granted)],
        status: 0,
        log: "data_access",
        weight: 40,
    },
    Call {
        caller: VIA_WEB,
        service: "storage.googleapis.com",
        method: "storage.objects.create",
        resource: "projects/_/buckets/acme-web-assets/objects/build-{n}.tar",
        checks: &[("storage.objects.create", Granted)],
        status: 0,
        log: "data_access",
        weight: 60,
    },
    Call {
        caller: VIA_WEB,
        service: "storage.googleapis.com",
        method: "storage.objects.delete",
        resource: "projects/_/buckets/acme-web-assets/objects/build-{n}.tar",
        checks: &[("storage.objects.delete", Refused)],
        status: 7,
        log: "data_access",
        weight: 3,
    },
    Call {
        caller: VIA_INFRA,
        service: "compute.googleapis.com",
        method: "v1.compute.instances.insert",
        resource: "projects/acme-prod/zones/europe-west1-b/instances/runner-{n}",
        checks: &[
            ("compute.instances.create", Granted),
            ("compute.disks.create", Granted),
            ("compute.subnetworks.use", Granted),
            ("compute.instances.setServiceAccount", Granted),
        ],
        status: 0,
        log: "activity",
        weight: 10,
    },
    Call {
        caller: VIA_INFRA,
        service: "storage.googleapis.com",
        method: "storage.setIamPermissions",
        resource: "projects/_/buckets/acme-tf-state",
        checks: &[("storage.buckets.setIamPolicy", Granted)],
        status: 0,
        log: "activity",
        weight: 2,
    },
    Call {
        caller: VIA_INFRA_PR,
        service: "cloudresourcemanager.googleapis.com",
        method: "GetIamPolicy",
        resource: "projects/acme-prod",
        checks: &[("resourcemanager.projects.getIamPolicy", Granted)],
        status: 0,
        log: "data_access",
        weight: 15,
    },
    Call {
        caller: VIA_INFRA_PR,
        service: "cloudresourcemanager.googleapis.com",
        method: "SetIamPolicy",
        resource: "projects/acme-prod",
        checks: &[("resourcemanager.projects.setIamPolicy", Unstated)],
        status: 7,
        log: "activity",
        weight: 2,
    },
    // Refused for one permission, granted the other: the granted one is needed by the call.
    Call {
        caller: VIA_INFRA,
        service: "iam.googleapis.com",
        method: "google.iam.admin.v1.CreateServiceAccountKey",
        resource: "projects/acme-prod/serviceAccounts/builder@acme-prod.iam.gserviceaccount.com",
        checks: &[
            ("iam.serviceAccounts.get", Granted),
            ("iam.serviceAccountKeys.create", Refused),
        ],
        status: 7,
        log: "activity",
        weight: 1,
    },
    Call {
        caller: BUILDER_VIA_DEPLOYER,
        service: "cloudbuild.googleapis.com",
        method: "google.devtools.cloudbuild.v1.CloudBuild.CreateBuild",
        resource: "projects/acme-prod/locations/global/builds",
        checks: &[("cloudbuild.builds.create", Granted)],
        status: 0,
        log: "activity",
        weight: 8,
    },
    Call {
        caller: BUILDER_VIA_DEPLOYER,
        service: "secretmanager.googleapis.com",
        method: "google.cloud.secretmanager.v1.SecretManagerService.AccessSecretVersion",
        resource: "projects/123456789012/secrets/npm-token/versions/latest",
        checks: &[("secretmanager.versions.access", Granted)],
        status: 0,
        log: "data_access",
        weight: 8,
    },
    Call {
        caller: READER_KEY,
        service: "storage.googleapis.com",
        method: "storage.objects.list",
        resource: "projects/_/buckets/acme-reports",
        checks: &[("storage.objects.list", Granted)],
        status: 0,
        log: "data_access",
        weight: 20,
    },
    Call {
        caller: READER_OLD_KEY,
        service: "storage.googleapis.com",
        method: "storage.objects.get",
        resource: "projects/_/buckets/acme-reports/objects/summary-{n}.csv",
        checks: &[("storage.objects.get", Granted)],
        status: 0,
        log: "data_access",
        weight: 1,
    },
    Call {
        caller: READER_KEY,
        service: "bigquery.googleapis.com",
        method: "google.cloud.bigquery.v2.TableDataService.List",
        resource: "projects/acme-prod/datasets/sales/tables/orders",
        checks: &[("bigquery.tables.getData", Granted)],
        status: 0,
        log: "data_access",
        weight: 10,
    },
    Call {
        caller: READER_KEY,
        service: "storage.googleapis.com",
        method: "storage.buckets.delete",
        resource: "projects/_/buckets/acme-reports",
        checks: &[("storage.buckets.delete", Refused)],
        status: 7,
        log: "activity",
        weight: 1,
    },
    Call {
        caller: DOCS_DIRECT,
        service: "storage.googleapis.com",
        method: "storage.objects.get",
        resource: "projects/_/buckets/acme-docs/objects/index-{n}.html",
        checks: &[("storage.objects.get", Granted)],
        status: 0,
        log: "data_access",
        weight: 12,
    },
    Call {
        caller: AGENT,
        service: "storage.googleapis.com",
        method: "storage.objects.get",
        resource: "projects/_/buckets/acme-prod_cloudbuild/objects/source-{n}.tgz",
        checks: &[("storage.objects.get", Granted)],
        status: 0,
        log: "data_access",
        weight: 15,
    },
    Call {
        caller: CLOUDSERVICES_AGENT,
        service: "compute.googleapis.com",
        method: "v1.compute.instanceGroupManagers.resize",
        resource: "projects/acme-prod/zones/europe-west1-b/instanceGroupManagers/pool",
        checks: &[("compute.instanceGroupManagers.update", Granted)],
        status: 0,
        log: "activity",
        weight: 5,
    },
    // Noise a reader must set aside.
    Call {
        caller: NOBODY,
        service: "compute.googleapis.com",
        method: "compute.instances.migrateOnHostMaintenance",
        resource: "projects/acme-prod/zones/europe-west1-b/instances/runner-{n}",
        checks: &[],
        status: 0,
        log: "system_event",
        weight: 6,
    },
    Call {
        caller: READER_KEY,
        service: "bigquery.googleapis.com",
        method: "google.cloud.bigquery.v2.JobService.GetQueryResults",
        resource: "projects/acme-prod/jobs/job-{n}",
        checks: &[],
        status: 0,
        log: "data_access",
        weight: 3,
    },
];

/// Writes a set into `out` and returns its ground truth (also written to
/// `out/ground-truth.json`).
pub fn generate(out: &Path, options: &GenerateOptions) -> Result<GroundTruth, GenerateError> {
    let hours = u64::from(options.days.max(1)) * 24;
    let start = Utc.from_utc_datetime(&options.start.and_hms_opt(0, 0, 0).unwrap_or_default());
    let total_weight: u32 = CALLS.iter().map(|call| call.weight).sum();
    let parts: Vec<Result<GroundTruth, GenerateError>> = (0..hours)
        .into_par_iter()
        .map(|hour| {
            let from = hour * options.entries / hours;
            let to = (hour + 1) * options.entries / hours;
            let mut rng =
                ChaCha8Rng::seed_from_u64(options.seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ hour);
            let hour_start = start + Duration::hours(i64::try_from(hour).unwrap_or(0));
            let mut truth = GroundTruth::default();
            let mut files: BTreeMap<&'static str, Vec<u8>> = BTreeMap::new();
            for index in from..to {
                let mut pick = rng.random_range(0..total_weight);
                let call = CALLS
                    .iter()
                    .find(|call| {
                        if pick < call.weight {
                            true
                        } else {
                            pick -= call.weight;
                            false
                        }
                    })
                    .unwrap_or(&CALLS[0]);
                let offset = rng.random_range(0..3_600_000_000_000i64);
                let time = hour_start + Duration::nanoseconds(offset);
                let entry = entry(call, time, index, &mut rng);
                let buffer = files.entry(call.log).or_default();
                // Serializing a `Value` cannot fail.
                let _ = serde_json::to_writer(&mut *buffer, &entry);
                buffer.push(b'\n');
                record_truth(&mut truth, call);
            }
            let date = hour_start.format("%Y/%m/%d");
            let hh = hour_start.format("%H");
            for (log, bytes) in files {
                let extension = if options.gzip { "json.gz" } else { "json" };
                let path = out.join(format!(
                    "cloudaudit.googleapis.com/{log}/{date}/{hh}:00:00_{hh}:59:59_S0.{extension}"
                ));
                write_file(&path, &bytes, options.gzip)?;
                truth.files += 1;
            }
            truth.entries = to - from;
            Ok(truth)
        })
        .collect();
    let mut truth = GroundTruth {
        format_version: 1,
        seed: options.seed,
        ..GroundTruth::default()
    };
    for part in parts {
        let part = part?;
        truth.entries += part.entries;
        truth.files += part.files;
        for (map, theirs) in [
            (&mut truth.used, part.used),
            (&mut truth.denied, part.denied),
            (&mut truth.subjects, part.subjects),
        ] {
            for (key, values) in theirs {
                map.entry(key).or_default().extend(values);
            }
        }
        for (map, theirs) in [
            (&mut truth.log_types, part.log_types),
            (&mut truth.set_aside, part.set_aside),
            (&mut truth.key_use, part.key_use),
        ] {
            for (key, count) in theirs {
                *map.entry(key).or_insert(0) += count;
            }
        }
    }
    let path = out.join(GROUND_TRUTH_FILE);
    let mut text = serde_json::to_vec_pretty(&truth).unwrap_or_default();
    text.push(b'\n');
    write_file(&path, &text, false)?;
    Ok(truth)
}

fn write_file(path: &Path, bytes: &[u8], gzip: bool) -> Result<(), GenerateError> {
    let error = |source| GenerateError {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(error)?;
    }
    if gzip {
        let file = std::fs::File::create(path).map_err(error)?;
        let mut encoder = GzEncoder::new(std::io::BufWriter::new(file), Compression::fast());
        encoder.write_all(bytes).map_err(error)?;
        encoder
            .finish()
            .and_then(|mut writer| writer.flush())
            .map_err(error)?;
        Ok(())
    } else {
        std::fs::write(path, bytes).map_err(error)
    }
}

/// What a reader must find for one emitted call, from the scenario alone.
fn record_truth(truth: &mut GroundTruth, call: &Call) {
    *truth.log_types.entry(call.log.to_string()).or_insert(0) += 1;
    if let Some(key) = call.caller.key {
        *truth.key_use.entry(key.to_string()).or_insert(0) += 1;
    }
    let Some(principal) = call.caller.email.or(call.caller.subject) else {
        *truth.set_aside.entry("no-principal".into()).or_insert(0) += 1;
        return;
    };
    if call.checks.is_empty() {
        *truth
            .set_aside
            .entry("no-authorization-info".into())
            .or_insert(0) += 1;
        return;
    }
    for (permission, grant) in call.checks {
        let used = match grant {
            Granted => true,
            Refused => false,
            Unstated => call.status != 7,
        };
        let map = if used {
            &mut truth.used
        } else {
            &mut truth.denied
        };
        map.entry(principal.to_string())
            .or_default()
            .insert((*permission).to_string());
    }
    let subject = call
        .caller
        .subject
        .into_iter()
        .chain(call.caller.chain.iter().filter_map(|link| link.err()))
        .next();
    if let Some(subject) = subject.and_then(|s| s.rsplit_once("/subject/").map(|(_, s)| s)) {
        truth
            .subjects
            .entry(principal.to_string())
            .or_default()
            .insert(subject.to_string());
    }
}

/// One `LogEntry` for `call`.
fn entry(call: &Call, time: chrono::DateTime<Utc>, index: u64, rng: &mut ChaCha8Rng) -> Value {
    let resource = call
        .resource
        .replace("{n}", &rng.random_range(0..40u32).to_string());
    let timestamp = time.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
    let receive = (time + Duration::milliseconds(rng.random_range(50..900)))
        .to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
    let mut authentication = serde_json::Map::new();
    if let Some(email) = call.caller.email {
        authentication.insert("principalEmail".into(), json!(email));
    }
    if let Some(subject) = call.caller.subject {
        authentication.insert("principalSubject".into(), json!(subject));
    }
    if let Some(key) = call.caller.key {
        authentication.insert("serviceAccountKeyName".into(), json!(key));
    }
    if !call.caller.chain.is_empty() {
        let chain: Vec<Value> = call
            .caller
            .chain
            .iter()
            .map(|link| match link {
                Ok(email) => json!({"firstPartyPrincipal": {"principalEmail": email}}),
                Err(subject) => json!({"principalSubject": subject}),
            })
            .collect();
        authentication.insert("serviceAccountDelegationInfo".into(), Value::Array(chain));
    }
    let authorization: Vec<Value> = call
        .checks
        .iter()
        .map(|(permission, grant)| {
            let mut element = serde_json::Map::new();
            element.insert("resource".into(), json!(resource));
            element.insert("permission".into(), json!(permission));
            match grant {
                Granted => {
                    element.insert("granted".into(), json!(true));
                }
                Refused => {
                    element.insert("granted".into(), json!(false));
                }
                Unstated => {}
            }
            element.insert(
                "resourceAttributes".into(),
                json!({"service": call.service, "name": resource}),
            );
            Value::Object(element)
        })
        .collect();
    let status = if call.status == 0 {
        json!({})
    } else {
        json!({"code": call.status, "message": "PERMISSION_DENIED"})
    };
    let mut payload = serde_json::Map::new();
    payload.insert(
        "@type".into(),
        json!("type.googleapis.com/google.cloud.audit.AuditLog"),
    );
    payload.insert("status".into(), status);
    if !authentication.is_empty() {
        payload.insert("authenticationInfo".into(), Value::Object(authentication));
    }
    if call.caller.email.is_some() || call.caller.subject.is_some() {
        payload.insert(
            "requestMetadata".into(),
            json!({
                "callerIp": format!("140.82.{}.{}", rng.random_range(0..255u8), rng.random_range(1..255u8)),
                "callerSuppliedUserAgent": "google-cloud-sdk gcloud/502.0.0 command/gcloud.run.deploy invocation-id/5f1c0d2e",
                "requestAttributes": {"time": timestamp, "auth": {}},
                "destinationAttributes": {}
            }),
        );
    }
    payload.insert("serviceName".into(), json!(call.service));
    payload.insert("methodName".into(), json!(call.method));
    if !authorization.is_empty() {
        payload.insert("authorizationInfo".into(), Value::Array(authorization));
    }
    payload.insert("resourceName".into(), json!(resource));
    payload.insert(
        "request".into(),
        json!({"@type": format!("type.googleapis.com/{}Request", call.method), "name": resource}),
    );
    payload.insert(
        "resourceLocation".into(),
        json!({"currentLocations": ["europe-west1"]}),
    );
    json!({
        "protoPayload": Value::Object(payload),
        "insertId": format!("{:x}{index:08x}", rng.random_range(0..u32::MAX)),
        "resource": {
            "type": "audited_resource",
            "labels": {"project_id": PROJECT, "service": call.service, "method": call.method}
        },
        "timestamp": timestamp,
        "severity": if call.status == 0 { "NOTICE" } else { "ERROR" },
        "logName": format!("projects/{PROJECT}/logs/cloudaudit.googleapis.com%2F{}", call.log),
        "receiveTimestamp": receive,
    })
}
