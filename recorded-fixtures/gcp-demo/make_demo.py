#!/usr/bin/env python3
"""Writes the GCP demo: a snapshot in the shape `pipeleash collect gcp` writes
(`snapshot/manifest.json`, `snapshot/inventory/gcp-organization-412345678901.json`) and a week
of Cloud Audit Logs in a logging sink's Cloud Storage layout (`audit-logs/`).

Deterministic (fixed seed): run `python3 make_demo.py` in this folder; the output is committed.
"""

import json
import os
import random
import shutil
from datetime import datetime, timedelta, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
ORG = "412345678901"
ORG_NAME = f"organizations/{ORG}"
GITHUB = "https://token.actions.githubusercontent.com"

# Folders two levels deep: engineering → prod, dev.
FOLDERS = [
    ("folders/100", ORG_NAME, "engineering"),
    ("folders/200", "folders/100", "prod"),
    ("folders/300", "folders/100", "dev"),
]
# (number, id, parent folder)
PROJECTS = [
    ("700000000101", "acme-web", "folders/200"),
    ("700000000102", "acme-data", "folders/200"),
    ("700000000103", "acme-sandbox", "folders/300"),
]
WEB_NUMBER = "700000000101"
DATA_NUMBER = "700000000102"


def pool(number, pool_id):
    return f"projects/{number}/locations/global/workloadIdentityPools/{pool_id}"


def principal_set(number, pool_id, tail):
    return f"principalSet://iam.googleapis.com/{pool(number, pool_id)}/{tail}"


def principal(number, pool_id, subject):
    return f"principal://iam.googleapis.com/{pool(number, pool_id)}/subject/{subject}"


def sa(name, project):
    return f"{name}@{project}.iam.gserviceaccount.com"


GITHUB_MAPPING = {
    "google.subject": "assertion.sub",
    "attribute.repository": "assertion.repository",
    "attribute.repository_owner": "assertion.repository_owner",
    "attribute.ref": "assertion.ref",
}

# Workload Identity pools: (project number, pool id, attributeCondition or None).
POOLS = [
    # SAFE: pins the organisation.
    (WEB_NUMBER, "github", "assertion.repository_owner == 'acme'"),
    # UNSAFE gcp-wif-provider-without-condition: any GitHub repository in the world.
    (WEB_NUMBER, "github-legacy", None),
    # UNSAFE gcp-wif-condition-without-owner: any repository's main branch.
    (WEB_NUMBER, "github-branch", "assertion.ref == 'refs/heads/main'"),
    # SAFE: pins the organisation by its id.
    (DATA_NUMBER, "github", "assertion.repository_owner_id == '41000001' && assertion.ref == 'refs/heads/main'"),
]

# Service accounts: name, project, who can become it (SA policy members by role),
# project-level roles, user-managed keys, planted check (None = safe).
ACCOUNTS = [
    dict(name="web-deployer", project="acme-web", safe=True,
         members={"roles/iam.workloadIdentityUser": [principal_set(WEB_NUMBER, "github", "attribute.repository/acme/web")]},
         roles=["roles/run.developer", "roles/artifactregistry.writer"]),
    dict(name="web-assets", project="acme-web", safe=True,
         members={"roles/iam.workloadIdentityUser": [principal(WEB_NUMBER, "github", "repo:acme/web:ref:refs/heads/main")]},
         roles=["roles/storage.objectAdmin"]),
    dict(name="docs-publisher", project="acme-web", safe=True,
         members={"roles/iam.workloadIdentityUser": [principal_set(WEB_NUMBER, "github", "attribute.repository/acme/docs")]},
         roles=["roles/storage.objectUser"]),
    dict(name="builder", project="acme-web", planted="gcp-basic-role-on-service-account",
         members={"roles/iam.serviceAccountTokenCreator": ["serviceAccount:" + sa("web-deployer", "acme-web")]},
         roles=["roles/editor"]),
    dict(name="legacy-deployer", project="acme-web", planted="gcp-wif-provider-without-condition",
         members={"roles/iam.workloadIdentityUser": [principal_set(WEB_NUMBER, "github-legacy", "attribute.repository/acme/legacy")]},
         roles=["roles/run.developer"]),
    dict(name="release", project="acme-web", planted="gcp-wif-condition-without-owner",
         members={"roles/iam.workloadIdentityUser": [principal_set(WEB_NUMBER, "github-branch", "attribute.repository/acme/release")]},
         roles=["roles/artifactregistry.writer"]),
    dict(name="terraform", project="acme-web", planted="gcp-wif-pool-wide-principal-set",
         members={"roles/iam.workloadIdentityUser": [principal_set(WEB_NUMBER, "github", "*")]},
         roles=["roles/compute.instanceAdmin.v1", "roles/resourcemanager.projectIamAdmin"]),
    dict(name="reporting", project="acme-data", planted="gcp-user-managed-key",
         members={}, keys=True,
         roles=["roles/bigquery.dataViewer", "roles/storage.objectViewer"]),
    dict(name="data-loader", project="acme-data", safe=True,
         members={"roles/iam.workloadIdentityUser": [principal_set(DATA_NUMBER, "github", "attribute.repository/acme/pipelines")]},
         roles=["roles/bigquery.dataEditor", "roles/bigquery.jobUser"]),
    dict(name="orchestrator", project="acme-data", planted="gcp-impersonation-at-container-level",
         members={"roles/iam.workloadIdentityUser": [principal_set(DATA_NUMBER, "github", "attribute.repository/acme/scheduler")]},
         roles=["roles/pubsub.editor"]),
    dict(name="sandbox-ci", project="acme-sandbox", safe=True,
         members={"roles/iam.workloadIdentityUser": [principal_set(WEB_NUMBER, "github", "attribute.repository/acme/sandbox")]},
         roles=["roles/storage.admin"]),
]


def policy(bindings):
    """An IAM policy with sorted bindings and members (as `GcpInventory::sort` leaves it)."""
    out = []
    for role, members in sorted(bindings.items()):
        if members:
            out.append({"role": role, "members": sorted(set(members)), "condition": None})
    return {"version": 1, "etag": "BwYdemo0000=", "bindings": out}


def inventory():
    project_bindings = {pid: {} for _, pid, _ in PROJECTS}
    for account in ACCOUNTS:
        member = "serviceAccount:" + sa(account["name"], account["project"])
        for role in account["roles"]:
            project_bindings[account["project"]].setdefault(role, []).append(member)
    # Humans and groups, which are not service accounts and so never findings.
    project_bindings["acme-web"].setdefault("roles/viewer", []).append("group:web-team@acme.example")
    folder_bindings = {
        "folders/100": {"roles/browser": ["group:engineering@acme.example"]},
        # UNSAFE gcp-impersonation-at-container-level: the orchestrator can become every
        # service account of the prod folder's projects.
        "folders/200": {"roles/iam.serviceAccountTokenCreator": ["serviceAccount:" + sa("orchestrator", "acme-data")]},
        "folders/300": {"roles/editor": ["group:developers@acme.example"]},
    }
    org_bindings = {
        "roles/resourcemanager.organizationAdmin": ["group:admins@acme.example"],
        "roles/iam.securityReviewer": ["group:security@acme.example"],
    }
    accounts = []
    for account in ACCOUNTS:
        email = sa(account["name"], account["project"])
        keys = [{
            "name": f"projects/{account['project']}/serviceAccounts/{email}/keys/5c1f0a9e2b7d4c3a8e6f1d0b9a8c7e6d5f4a3b2c",
            "key_type": "SYSTEM_MANAGED", "key_origin": "GOOGLE_PROVIDED",
            "key_algorithm": "KEY_ALG_RSA_2048", "valid_after_time": "2026-11-01T00:00:00Z",
            "valid_before_time": "2026-11-17T00:00:00Z", "disabled": False,
        }]
        if account.get("keys"):
            keys.append({
                "name": f"projects/{account['project']}/serviceAccounts/{email}/keys/9f8e7d6c5b4a39281706f5e4d3c2b1a098765432",
                "key_type": "USER_MANAGED", "key_origin": "GOOGLE_PROVIDED",
                "key_algorithm": "KEY_ALG_RSA_2048", "valid_after_time": "2025-03-02T09:14:00Z",
                "valid_before_time": "9999-12-31T23:59:59Z", "disabled": False,
            })
        keys.sort(key=lambda k: k["name"])
        accounts.append({
            "name": f"projects/{account['project']}/serviceAccounts/{email}",
            "project_id": account["project"], "email": email,
            "unique_id": str(110000000000000000000 + len(accounts)),
            "display_name": account["name"], "description": "CI service account",
            "disabled": False, "keys": keys,
            "iam_policy": policy(account["members"]),
        })
    accounts.sort(key=lambda a: a["name"])
    pools = []
    for number, pool_id, condition in POOLS:
        name = pool(number, pool_id)
        pools.append({
            "name": name, "display_name": pool_id, "description": "GitHub Actions",
            "state": "ACTIVE", "disabled": False,
            "providers": [{
                "name": f"{name}/providers/actions", "display_name": "actions",
                "description": "", "state": "ACTIVE", "disabled": False,
                "attribute_mapping": GITHUB_MAPPING, "attribute_condition": condition,
                "oidc": {"issuer_uri": GITHUB, "allowed_audiences": [], "jwks_json_set": False},
                "aws_account_id": None, "protocol": "oidc",
            }],
        })
    pools.sort(key=lambda p: p["name"])
    return {
        "format_version": 1,
        "scope": [ORG_NAME],
        "collected_at": "2026-11-21T06:00:00Z",
        "credentials": "GOOGLE_APPLICATION_CREDENTIALS (external_account)",
        "organizations": [{"name": ORG_NAME, "display_name": "acme.example", "state": "ACTIVE",
                           "iam_policy": policy(org_bindings)}],
        "folders": sorted([{"name": name, "parent": parent, "display_name": display,
                            "state": "ACTIVE", "outside_scope": False,
                            "iam_policy": policy(folder_bindings[name])}
                           for name, parent, display in FOLDERS], key=lambda f: f["name"]),
        "projects": sorted([{"name": f"projects/{number}", "project_id": pid, "parent": parent,
                             "display_name": pid, "state": "ACTIVE",
                             "iam_policy": policy(project_bindings[pid])}
                            for number, pid, parent in PROJECTS], key=lambda p: p["name"]),
        "service_accounts": accounts,
        "custom_roles": [],
        "workload_identity_pools": pools,
        "deny_policies": deny_policies(),
        "errors": [],
    }


def deny_policies():
    """One IAM deny policy on acme-web (the API names the project by number): an
    unconditional rule (`builder` never deletes buckets, although `roles/editor` grants it),
    and a rule with a tag condition (`terraform` may not change the project's IAM policy where
    the tag says production), which only *may* deny: the permission stays granted "unless
    denied". The logs' refused `setIamPolicy` is that rule at work."""
    def principal_of(account, project):
        return f"principal://iam.googleapis.com/projects/-/serviceAccounts/{sa(account, project)}"
    return [{
        "attachment_point": f"projects/{WEB_NUMBER}",
        "name": f"policies/cloudresourcemanager.googleapis.com%2Fprojects%2F{WEB_NUMBER}/denypolicies/ci-guardrails",
        "display_name": "Guardrails for CI service accounts",
        "rules": [
            {
                "description": "builders never delete buckets",
                "denied_principals": [principal_of("builder", "acme-web")],
                "exception_principals": [],
                "denied_permissions": ["storage.googleapis.com/buckets.delete"],
                "exception_permissions": [],
                "denial_condition": None,
            },
            {
                "description": "CI never changes IAM policies in production",
                "denied_principals": [principal_of("terraform", "acme-web")],
                "exception_principals": [],
                "denied_permissions": ["cloudresourcemanager.googleapis.com/projects.setIamPolicy"],
                "exception_permissions": [],
                "denial_condition": {
                    "title": "production",
                    "expression": f"resource.matchTag('{ORG}/environment', 'production')",
                    "description": "",
                },
            },
        ],
    }]


# --- Audit logs -----------------------------------------------------------------------------

WEB_MAIN = principal(WEB_NUMBER, "github", "repo:acme/web:ref:refs/heads/main")
DOCS_MAIN = principal(WEB_NUMBER, "github", "repo:acme/docs:ref:refs/heads/main")
LEGACY_MAIN = principal(WEB_NUMBER, "github-legacy", "repo:acme/legacy:ref:refs/heads/main")
RELEASE_TAG = principal(WEB_NUMBER, "github-branch", "repo:acme/release:ref:refs/heads/main")
INFRA_MAIN = principal(WEB_NUMBER, "github", "repo:acme/infra:ref:refs/heads/main")
PIPELINES_MAIN = principal(DATA_NUMBER, "github", "repo:acme/pipelines:ref:refs/heads/main")
SCHEDULER_MAIN = principal(DATA_NUMBER, "github", "repo:acme/scheduler:ref:refs/heads/main")

G, R, U = "granted", "refused", "unstated"

# (principalEmail, principalSubject, delegation chain, service, method, resource, checks,
#  status, log, calls per day)
CALLS = [
    (sa("web-deployer", "acme-web"), None, [WEB_MAIN], "run.googleapis.com",
     "google.cloud.run.v2.Services.UpdateService", "projects/acme-web/locations/europe-west1/services/web",
     [("run.services.update", G)], 0, "activity", 3),
    (sa("web-deployer", "acme-web"), None, [WEB_MAIN], "run.googleapis.com",
     "google.cloud.run.v2.Services.GetService", "projects/acme-web/locations/europe-west1/services/web",
     [("run.services.get", G)], 0, "data_access", 3),
    (sa("web-deployer", "acme-web"), None, [WEB_MAIN], "artifactregistry.googleapis.com",
     "Docker-PutManifest", "projects/acme-web/locations/europe/repositories/images",
     [("artifactregistry.repositories.uploadArtifacts", G)], 0, "data_access", 3),
    (sa("web-assets", "acme-web"), None, [WEB_MAIN], "storage.googleapis.com",
     "storage.objects.create", "projects/_/buckets/acme-web-assets/objects/build-{n}.tar",
     [("storage.objects.create", G)], 0, "data_access", 4),
    # Denied: not granted by objectAdmin; intent, never use.
    (sa("web-assets", "acme-web"), None, [WEB_MAIN], "storage.googleapis.com",
     "storage.buckets.delete", "projects/_/buckets/acme-web-assets",
     [("storage.buckets.delete", R)], 7, "activity", 1),
    (sa("docs-publisher", "acme-web"), None, [DOCS_MAIN], "storage.googleapis.com",
     "storage.objects.create", "projects/_/buckets/acme-docs/objects/index-{n}.html",
     [("storage.objects.create", G)], 0, "data_access", 1),
    # builder, impersonated by web-deployer, itself federated from acme/web.
    (sa("builder", "acme-web"), None, [WEB_MAIN, "sa:" + sa("web-deployer", "acme-web")],
     "cloudbuild.googleapis.com", "google.devtools.cloudbuild.v1.CloudBuild.CreateBuild",
     "projects/acme-web/locations/global/builds",
     [("cloudbuild.builds.create", G)], 0, "activity", 2),
    (sa("builder", "acme-web"), None, [WEB_MAIN, "sa:" + sa("web-deployer", "acme-web")],
     "storage.googleapis.com", "storage.objects.get",
     "projects/_/buckets/acme-web_cloudbuild/objects/source-{n}.tgz",
     [("storage.objects.get", G)], 0, "data_access", 2),
    (sa("legacy-deployer", "acme-web"), None, [LEGACY_MAIN], "run.googleapis.com",
     "google.cloud.run.v2.Services.UpdateService", "projects/acme-web/locations/europe-west1/services/legacy",
     [("run.services.update", G)], 0, "activity", 1),
    (sa("release", "acme-web"), None, [RELEASE_TAG], "artifactregistry.googleapis.com",
     "Docker-PutManifest", "projects/acme-web/locations/europe/repositories/releases",
     [("artifactregistry.repositories.uploadArtifacts", G),
      ("artifactregistry.repositories.downloadArtifacts", G)], 0, "data_access", 1),
    (sa("terraform", "acme-web"), None, [INFRA_MAIN], "compute.googleapis.com",
     "v1.compute.instances.insert", "projects/acme-web/zones/europe-west1-b/instances/runner-{n}",
     [("compute.instances.create", G), ("compute.disks.create", G), ("compute.subnetworks.use", G)],
     0, "activity", 1),
    # Refused by an IAM deny policy although a role grants it: denied, never used.
    (sa("terraform", "acme-web"), None, [INFRA_MAIN], "cloudresourcemanager.googleapis.com",
     "SetIamPolicy", "projects/acme-web",
     [("resourcemanager.projects.setIamPolicy", R)], 7, "activity", 1),
    (sa("reporting", "acme-data"), None, [], "bigquery.googleapis.com",
     "google.cloud.bigquery.v2.TableDataService.List", "projects/acme-data/datasets/sales/tables/orders",
     [("bigquery.tables.getData", G)], 0, "data_access", 2),
    (sa("reporting", "acme-data"), None, [], "storage.googleapis.com",
     "storage.objects.list", "projects/_/buckets/acme-reports",
     [("storage.objects.list", G)], 0, "data_access", 2),
    (sa("data-loader", "acme-data"), None, [PIPELINES_MAIN], "bigquery.googleapis.com",
     "google.cloud.bigquery.v2.JobService.InsertJob", "projects/acme-data/jobs/load-{n}",
     [("bigquery.jobs.create", G), ("bigquery.tables.updateData", G)], 0, "data_access", 3),
    (sa("orchestrator", "acme-data"), None, [SCHEDULER_MAIN], "pubsub.googleapis.com",
     "google.pubsub.v1.Publisher.Publish", "projects/acme-data/topics/loads",
     [("pubsub.topics.publish", U)], 0, "data_access", 3),
    # A workload using its federated principal directly (no service account): not an
    # identity of the inventory.
    (None, DOCS_MAIN, [], "storage.googleapis.com", "storage.objects.get",
     "projects/_/buckets/acme-docs/objects/index-{n}.html",
     [("storage.objects.get", G)], 0, "data_access", 1),
    # A Google service agent.
    (f"service-{WEB_NUMBER}@gcp-sa-cloudbuild.iam.gserviceaccount.com", None, [],
     "storage.googleapis.com", "storage.objects.get",
     "projects/_/buckets/acme-web_cloudbuild/objects/source-{n}.tgz",
     [("storage.objects.get", G)], 0, "data_access", 1),
    # Noise: System Event entries without a principal.
    (None, None, [], "compute.googleapis.com", "compute.instances.migrateOnHostMaintenance",
     "projects/acme-web/zones/europe-west1-b/instances/runner-{n}", [], 0, "system_event", 1),
]

START = datetime(2026, 11, 14, tzinfo=timezone.utc)
DAYS = 7
CORRUPT = (datetime(2026, 11, 17, 10, tzinfo=timezone.utc), "activity")


def entry(rng, call, time, index):
    email, subject, chain, service, method, resource, checks, status, log, _ = call
    project = resource.split("/")[1] if resource.split("/")[1] not in ("_", "-") else "acme-web"
    resource = resource.replace("{n}", str(rng.randrange(40)))
    timestamp = time.strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"
    auth = {}
    if email:
        auth["principalEmail"] = email
    if subject:
        auth["principalSubject"] = subject
    if email == sa("reporting", "acme-data") and not chain:
        # The one account that calls with its user-managed key: the entry names the key
        # (`authenticationInfo.serviceAccountKeyName`).
        auth["serviceAccountKeyName"] = (
            f"//iam.googleapis.com/projects/acme-data/serviceAccounts/{email}"
            "/keys/9f8e7d6c5b4a39281706f5e4d3c2b1a098765432")
    if chain:
        auth["serviceAccountDelegationInfo"] = [
            {"firstPartyPrincipal": {"principalEmail": link[3:]}} if link.startswith("sa:")
            else {"principalSubject": link}
            for link in chain
        ]
    authorization = []
    for permission, grant in checks:
        element = {"resource": resource, "permission": permission}
        if grant == G:
            element["granted"] = True
        elif grant == R:
            element["granted"] = False
        element["resourceAttributes"] = {"service": service, "name": resource}
        authorization.append(element)
    payload = {"@type": "type.googleapis.com/google.cloud.audit.AuditLog",
               "status": {} if status == 0 else {"code": status, "message": "PERMISSION_DENIED"}}
    if auth:
        payload["authenticationInfo"] = auth
        payload["requestMetadata"] = {
            "callerIp": f"140.82.{rng.randrange(255)}.{rng.randrange(1, 255)}",
            "callerSuppliedUserAgent": "google-cloud-sdk gcloud/502.0.0",
            "requestAttributes": {"time": timestamp, "auth": {}},
            "destinationAttributes": {},
        }
    payload["serviceName"] = service
    payload["methodName"] = method
    if authorization:
        payload["authorizationInfo"] = authorization
    payload["resourceName"] = resource
    return {
        "protoPayload": payload,
        "insertId": f"{rng.randrange(1 << 32):x}{index:08x}",
        "resource": {"type": "audited_resource",
                     "labels": {"project_id": project, "service": service, "method": method}},
        "timestamp": timestamp,
        "severity": "NOTICE" if status == 0 else "ERROR",
        "logName": f"projects/{project}/logs/cloudaudit.googleapis.com%2F{log}",
        "receiveTimestamp": (time + timedelta(milliseconds=rng.randrange(50, 900))).strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z",
    }


def audit_logs(out):
    rng = random.Random(20261114)
    files = {}
    index = 0
    for day in range(DAYS):
        for call in CALLS:
            for _ in range(call[-1]):
                # Working hours, so the corrupt hour holds real calls.
                time = START + timedelta(days=day, hours=rng.randrange(8, 18),
                                         seconds=rng.randrange(3600), microseconds=rng.randrange(10**6))
                hour = time.replace(minute=0, second=0, microsecond=0)
                files.setdefault((hour, call[8]), []).append((time, entry(rng, call, time, index)))
                index += 1
    # Make sure the corrupt hour exists.
    files.setdefault(CORRUPT, [])
    for (hour, log), entries in sorted(files.items()):
        entries.sort(key=lambda e: e[0])
        hh = hour.strftime("%H")
        path = os.path.join(out, "cloudaudit.googleapis.com", log, hour.strftime("%Y/%m/%d"),
                            f"{hh}:00:00_{hh}:59:59_S0.json")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        lines = [json.dumps(e, separators=(",", ":")) for _, e in entries]
        text = "\n".join(lines) + "\n"
        if (hour, log) == CORRUPT:
            # A transfer cut short: the last line stops mid-entry.
            extra = json.dumps(entry(rng, CALLS[0], hour + timedelta(minutes=59), index),
                               separators=(",", ":"))
            text += extra[: len(extra) // 2]
        with open(path, "w") as handle:
            handle.write(text)


def main():
    snapshot = os.path.join(HERE, "snapshot")
    logs = os.path.join(HERE, "audit-logs")
    for folder in (snapshot, logs):
        shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(os.path.join(snapshot, "inventory"))
    relative = f"inventory/gcp-organization-{ORG}.json"
    with open(os.path.join(snapshot, relative), "w") as handle:
        json.dump(inventory(), handle, indent=2)
        handle.write("\n")
    manifest = {
        "format_version": 1,
        "created_at": "2026-11-21T06:00:00Z",
        "tool_version": "0.1.0",
        "sources": [{"provider": "gcp", "kind": "gcp-inventory", "id": ORG_NAME,
                     "path": relative, "format_version": 1}],
        "coverage": [],
        "errors": [],
    }
    with open(os.path.join(snapshot, "manifest.json"), "w") as handle:
        json.dump(manifest, handle, indent=2)
        handle.write("\n")
    audit_logs(logs)


if __name__ == "__main__":
    main()
