#!/usr/bin/env python3
"""Writes the Azure demo: a snapshot (manifest.json + inventory/azure-<tenant>.json, in the
shape `pipeleash collect azure` writes) and a week of Activity Log (2026-11-14 .. 2026-11-20)
in a diagnostic setting's storage-export layout. Deterministic: run it again and the output is
byte-identical. Usage: python3 make_demo.py  (writes next to this file)."""

import json
import os
import random
import shutil
import uuid
from datetime import datetime, timedelta, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
NS = uuid.UUID("6f1c1d0e-7a52-4b8e-9f57-2d1c0a9e4b31")


def guid(name):
    return str(uuid.uuid5(NS, name))


TENANT = "7c1d2e3f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
PROD = "3f2e1d0c-1111-4a2b-9c3d-5e6f7a8b9c01"
DEV = "3f2e1d0c-2222-4a2b-9c3d-5e6f7a8b9c02"
MG = "/providers/Microsoft.Management/managementGroups/acme"
GITHUB = "https://token.actions.githubusercontent.com"
AUDIENCE = "api://AzureADTokenExchange"

CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
USER_ACCESS_ADMIN = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"
WEBSITE_CONTRIBUTOR = "de139f84-1756-47ae-9be6-808fbbe84772"
STORAGE_ACCOUNT_CONTRIBUTOR = "17d1049b-9a84-46fb-8f53-869881c3d3ab"
BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
RBAC_BOOTSTRAP = "c0ffee00-0000-4000-8000-0000000000b1"


def sub(s):
    return f"/subscriptions/{s}"


def rg(s, name):
    return f"{sub(s)}/resourceGroups/{name}"


def res(s, group, kind, name):
    return f"{rg(s, group)}/providers/{kind}/{name}"


def definition_id(scope, guid_):
    return f"{scope}/providers/Microsoft.Authorization/roleDefinitions/{guid_}"


SITE_PROD = res(PROD, "rg-web-prod", "Microsoft.Web/sites", "web-prod")
SITE_API = res(PROD, "rg-api-prod", "Microsoft.Web/sites", "api-prod")
SITE_DEV = res(DEV, "rg-web-dev", "Microsoft.Web/sites", "web-dev")
STORAGE = res(PROD, "rg-data-prod", "Microsoft.Storage/storageAccounts", "stacmedata")
SQL_DB = res(PROD, "rg-data-prod", "Microsoft.Sql/servers", "sql-acme") + "/databases/app"
AKS = res(PROD, "rg-aks-prod", "Microsoft.ContainerService/managedClusters", "aks-prod")
VNET = res(PROD, "rg-network", "Microsoft.Network/virtualNetworks", "vnet-hub")


def deployment(s, group):
    return lambda n: f"{rg(s, group)}/providers/Microsoft.Resources/deployments/deploy-{n}"


def role_assignment_at(scope):
    return lambda n: f"{scope}/providers/Microsoft.Authorization/roleAssignments/{guid('ra-' + str(n))}"


# name, kind (sp | mi), federated credentials, secrets, assignments, uses, refused.
# A federated credential: (name, issuer, subject or None, expression or None).
# An assignment: (scope, role definition GUID, condition or None).
# A use or refusal: (operation, scope or a function of a sequence number, calls per day).
IDENTITIES = [
    {
        "name": "gha-web-deploy", "kind": "sp",
        "fics": [("web-production", GITHUB, "repo:acme/web:environment:production", None)],
        "assignments": [(rg(PROD, "rg-web-prod"), CONTRIBUTOR, None)],
        "uses": [
            ("Microsoft.Resources/deployments/write", deployment(PROD, "rg-web-prod"), 3),
            ("Microsoft.Web/sites/write", SITE_PROD, 2),
            ("Microsoft.Web/sites/restart/action", SITE_PROD, 1),
            ("Microsoft.Web/sites/slots/slotsswap/action", SITE_PROD + "/slots/staging", 1),
        ],
        "refused": [("Microsoft.Authorization/roleAssignments/write",
                     role_assignment_at(rg(PROD, "rg-web-prod")), 1)],
    },
    {
        "name": "gha-web-pr", "kind": "sp",
        "fics": [("web-pull-requests", GITHUB, "repo:acme/web:pull_request", None)],
        "assignments": [(sub(DEV), CONTRIBUTOR, None)],
        "uses": [
            ("Microsoft.Resources/deployments/write", deployment(DEV, "rg-web-dev"), 3),
            ("Microsoft.Web/sites/write", SITE_DEV, 2),
            ("Microsoft.Web/sites/delete", SITE_DEV, 1),
        ],
        "refused": [],
    },
    {
        "name": "gha-web-any-branch", "kind": "sp",
        "fics": [("web-branches", GITHUB, None,
                  "claims['sub'] matches 'repo:acme/web:ref:refs/heads/*'")],
        "assignments": [(rg(DEV, "rg-web-dev"), WEBSITE_CONTRIBUTOR, None)],
        "uses": [("Microsoft.Web/sites/config/write", SITE_DEV + "/config/web", 2)],
        "refused": [],
    },
    {
        "name": "gha-infra-any-repo", "kind": "sp",
        "fics": [("acme-repositories", GITHUB, None, "claims['sub'] matches 'repo:acme/*'")],
        "assignments": [(rg(PROD, "rg-data-prod"), STORAGE_ACCOUNT_CONTRIBUTOR, None)],
        "uses": [
            ("Microsoft.Storage/storageAccounts/write", STORAGE, 1),
            ("Microsoft.Storage/storageAccounts/listKeys/action", STORAGE, 3),
        ],
        "refused": [("Microsoft.Storage/storageAccounts/delete", STORAGE, 1)],
    },
    {
        "name": "gha-api-main", "kind": "sp",
        "fics": [("api-main", GITHUB, "repo:acme/api:ref:refs/heads/main", None)],
        "assignments": [(rg(PROD, "rg-api-prod"), WEBSITE_CONTRIBUTOR, None)],
        "uses": [
            ("Microsoft.Web/sites/write", SITE_API, 2),
            ("Microsoft.Web/sites/config/write", SITE_API + "/config/appsettings", 1),
            ("Microsoft.Resources/deployments/write", deployment(PROD, "rg-api-prod"), 2),
        ],
        "refused": [],
    },
    {
        "name": "legacy-release", "kind": "sp",
        "fics": [],
        "secrets": [
            ("release-2023", "2023-05-01T09:00:00Z", "2025-05-01T09:00:00Z"),
            ("release-2025", "2025-12-01T09:00:00Z", "2026-12-05T09:00:00Z"),
            ("release-forever", "2024-01-15T09:00:00Z", "2124-01-15T09:00:00Z"),
        ],
        "assignments": [(sub(PROD), CONTRIBUTOR, None)],
        "uses": [
            ("Microsoft.Resources/deployments/write", deployment(PROD, "rg-web-prod"), 1),
            ("Microsoft.Sql/servers/databases/write", SQL_DB, 1),
        ],
        "refused": [("Microsoft.Authorization/roleAssignments/write",
                     role_assignment_at(sub(PROD)), 1)],
    },
    {
        "name": "gha-platform-owner", "kind": "sp",
        "fics": [("platform-production", GITHUB, "repo:acme/platform:environment:production", None)],
        "assignments": [(sub(PROD), OWNER, None)],
        "uses": [
            ("Microsoft.Resources/deployments/write", deployment(PROD, "rg-network"), 2),
            ("Microsoft.Network/virtualNetworks/write", VNET, 1),
            ("Microsoft.Resources/subscriptions/resourceGroups/write", rg(PROD, "rg-network"), 1),
        ],
        "refused": [],
    },
    {
        "name": "gha-access-admin", "kind": "sp",
        "fics": [("iam-main", GITHUB, "repo:acme/iam:ref:refs/heads/main", None)],
        "assignments": [(sub(PROD), USER_ACCESS_ADMIN, None)],
        "uses": [("Microsoft.Authorization/roleAssignments/write",
                  role_assignment_at(rg(PROD, "rg-web-prod")), 1)],
        "refused": [("Microsoft.Resources/deployments/write", deployment(PROD, "rg-web-prod"), 1)],
    },
    {
        "name": "id-aks-deployer", "kind": "mi",
        "fics": [("web-production", GITHUB, "repo:acme/web:environment:production", None)],
        "assignments": [
            (rg(PROD, "rg-aks-prod"), CONTRIBUTOR, None),
            (STORAGE, BLOB_DATA_CONTRIBUTOR,
             "((!(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'})) OR "
             "(@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name] StringEquals 'releases'))"),
        ],
        "uses": [
            ("Microsoft.ContainerService/managedClusters/write", AKS, 1),
            ("Microsoft.ContainerService/managedClusters/listClusterUserCredential/action", AKS, 4),
            ("Microsoft.Resources/deployments/write", deployment(PROD, "rg-aks-prod"), 1),
        ],
        "refused": [],
    },
    {
        "name": "id-gitlab-deployer", "kind": "mi",
        "fics": [("web-main", "https://gitlab.acme.example", "repo:acme/web:ref:refs/heads/main", None)],
        "assignments": [(rg(DEV, "rg-web-dev"), WEBSITE_CONTRIBUTOR, None)],
        "uses": [("Microsoft.Web/sites/write", SITE_DEV, 1)],
        "refused": [],
    },
    {
        "name": "id-rbac-bootstrap", "kind": "mi",
        "fics": [("platform-main", GITHUB, "repo:acme/platform:ref:refs/heads/main", None)],
        "assignments": [(sub(PROD), RBAC_BOOTSTRAP, None)],
        "uses": [("Microsoft.Resources/deployments/write", deployment(PROD, "rg-platform"), 1)],
        "refused": [],
    },
]

USER = {"name": "alice@acme.example", "object_id": guid("user-alice"),
        "uses": [("Microsoft.Web/sites/restart/action", SITE_DEV, 1)]}
MICROSOFT_GRAPH = {"id": guid("sp-microsoft-graph"), "appId": "00000003-0000-0000-c000-000000000000",
                   "displayName": "Microsoft Graph"}
MICROSOFT = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"

for identity in IDENTITIES:
    identity["object_id"] = guid("principal-" + identity["name"])
    identity["app_id"] = guid("app-" + identity["name"])
    identity["app_object_id"] = guid("application-" + identity["name"])
    identity.setdefault("secrets", [])


def drop_none(d):
    return {k: v for k, v in d.items() if v is not None}


def inventory():
    def arm_id(s, group, name):
        return res(s, group, "Microsoft.ManagedIdentity/userAssignedIdentities", name)

    role_assignments = []
    for identity in IDENTITIES:
        for position, (scope, role, condition) in enumerate(identity["assignments"]):
            name = guid(f"assignment-{identity['name']}-{position}")
            definition_scope = sub(PROD) if scope.startswith(sub(PROD)) else sub(DEV)
            role_assignments.append({
                "id": f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}",
                "name": name,
                "type": "Microsoft.Authorization/roleAssignments",
                "properties": drop_none({
                    "scope": scope,
                    "roleDefinitionId": definition_id(definition_scope, role),
                    "principalId": identity["object_id"],
                    "principalType": "ServicePrincipal",
                    "condition": condition,
                    "conditionVersion": "2.0" if condition else None,
                    "createdOn": "2026-03-02T10:00:00.0000000Z",
                }),
            })
    # A person's assignment: not a pipeline identity's grant.
    name = guid("assignment-alice")
    role_assignments.append({
        "id": f"{sub(DEV)}/providers/Microsoft.Authorization/roleAssignments/{name}",
        "name": name, "type": "Microsoft.Authorization/roleAssignments",
        "properties": {"scope": sub(DEV), "roleDefinitionId": definition_id(sub(DEV), CONTRIBUTOR),
                       "principalId": USER["object_id"], "principalType": "User",
                       "createdOn": "2026-01-10T10:00:00.0000000Z"},
    })
    role_assignments.sort(key=lambda a: a["id"].lower())

    role_definitions = [{
        "id": definition_id(sub(PROD), RBAC_BOOTSTRAP),
        "name": RBAC_BOOTSTRAP,
        "type": "Microsoft.Authorization/roleDefinitions",
        "properties": {
            "roleName": "acme-rbac-bootstrap",
            "type": "CustomRole",
            "description": "Bootstraps resource groups and their role assignments.",
            "permissions": [{
                "actions": [
                    "Microsoft.Authorization/roleAssignments/read",
                    "Microsoft.Authorization/roleAssignments/write",
                    "Microsoft.Resources/deployments/*",
                    "Microsoft.Resources/subscriptions/resourceGroups/*",
                ],
                "notActions": [], "dataActions": [], "notDataActions": [],
            }],
            "assignableScopes": [sub(PROD)],
        },
    }]

    deny_name = guid("deny-data-stack")
    owner = next(i for i in IDENTITIES if i["name"] == "gha-platform-owner")
    deny_assignments = [{
        "id": f"{rg(PROD, 'rg-data-prod')}/providers/Microsoft.Authorization/denyAssignments/{deny_name}",
        "name": deny_name,
        "type": "Microsoft.Authorization/denyAssignments",
        "properties": {
            "denyAssignmentName": "Deny assignment for deployment stack 'data-stack'",
            "description": "Resources of deployment stack 'data-stack' cannot be deleted.",
            "permissions": [{"actions": ["*/delete"], "notActions": [], "dataActions": [],
                             "notDataActions": []}],
            "scope": rg(PROD, "rg-data-prod"),
            "doNotApplyToChildScopes": False,
            "principals": [{"id": "00000000-0000-0000-0000-000000000000", "type": "SystemDefined"}],
            "excludePrincipals": [{"id": owner["object_id"], "type": "ServicePrincipal"}],
            "isSystemProtected": True,
        },
    }]

    managed = []
    for identity in IDENTITIES:
        if identity["kind"] != "mi":
            continue
        arm = arm_id(PROD, "rg-identities", identity["name"])
        fics = []
        for name, issuer, subject, expression in identity["fics"]:
            assert expression is None, "flexible credentials are put on applications"
            fics.append({"id": f"{arm}/federatedIdentityCredentials/{name}", "name": name,
                         "properties": {"issuer": issuer, "subject": subject,
                                        "audiences": [AUDIENCE]}})
        fics.sort(key=lambda f: f["id"].lower())
        managed.append({
            "id": arm, "name": identity["name"], "location": "westeurope",
            "properties": {"tenantId": TENANT, "principalId": identity["object_id"],
                           "clientId": identity["app_id"]},
            "federatedIdentityCredentials": fics,
        })
    managed.sort(key=lambda m: m["id"].lower())

    principals = []
    applications = []
    for identity in IDENTITIES:
        if identity["kind"] == "mi":
            principals.append({
                "id": identity["object_id"], "appId": identity["app_id"],
                "displayName": identity["name"], "servicePrincipalType": "ManagedIdentity",
                "accountEnabled": True,
                "alternativeNames": ["isExplicit=True", arm_id(PROD, "rg-identities", identity["name"])],
                "passwordCredentials": [], "keyCredentials": [],
            })
            continue
        principals.append({
            "id": identity["object_id"], "appId": identity["app_id"],
            "displayName": identity["name"], "servicePrincipalType": "Application",
            "appOwnerOrganizationId": TENANT, "accountEnabled": True, "alternativeNames": [],
            "passwordCredentials": [], "keyCredentials": [],
        })
        fics = []
        for name, issuer, subject, expression in identity["fics"]:
            fics.append(drop_none({
                "id": guid(f"fic-{identity['name']}-{name}"), "name": name, "issuer": issuer,
                "subject": subject, "audiences": [AUDIENCE],
                "description": f"GitHub Actions: {subject or expression}",
                "claimsMatchingExpression": {"value": expression, "languageVersion": 1}
                if expression else None,
            }))
        fics.sort(key=lambda f: f["id"])
        secrets = [drop_none({"keyId": guid(f"secret-{identity['name']}-{name}"), "displayName": name,
                              "startDateTime": start, "endDateTime": end})
                   for name, start, end in identity["secrets"]]
        secrets.sort(key=lambda s: s["keyId"])
        applications.append({
            "id": identity["app_object_id"], "appId": identity["app_id"],
            "displayName": identity["name"], "signInAudience": "AzureADMyOrg",
            "passwordCredentials": secrets, "keyCredentials": [],
            "federatedIdentityCredentials": fics,
        })
    principals.append({**MICROSOFT_GRAPH, "servicePrincipalType": "Application",
                       "appOwnerOrganizationId": MICROSOFT, "accountEnabled": True,
                       "alternativeNames": [], "passwordCredentials": [], "keyCredentials": []})
    principals.sort(key=lambda p: p["id"])
    applications.sort(key=lambda a: a["id"])

    return {
        "format_version": 1,
        "tenant_id": TENANT,
        "collected_at": "2026-11-21T06:00:00Z",
        "targets": [MG],
        "management_groups": [{"id": MG, "name": "acme", "displayName": "Acme",
                               "tenantId": TENANT,
                               "parentId": f"/providers/Microsoft.Management/managementGroups/{TENANT}"}],
        "subscriptions": sorted([
            {"id": sub(s), "subscriptionId": s, "displayName": name, "tenantId": TENANT,
             "state": "Enabled", "managementGroupId": MG}
            for s, name in [(PROD, "acme-prod"), (DEV, "acme-dev")]
        ], key=lambda s: s["id"].lower()),
        "role_assignments": role_assignments,
        "role_definitions": role_definitions,
        "deny_assignments": deny_assignments,
        "user_assigned_identities": managed,
        "service_principals": principals,
        "applications": applications,
        "credential_sign_ins": credential_sign_ins(),
        "errors": [],
    }


def credential_sign_ins():
    """Microsoft Graph `reports/appCredentialSignInActivities` for the client secrets of
    `legacy-release`: `release-2025` signed in during the logs' week (its calls are in the
    Activity Log), `release-forever` last on 2026-06-02 (more than 90 days before the
    collection: unused), `release-2023` (expired) not at all."""
    identity = next(i for i in IDENTITIES if i["name"] == "legacy-release")
    last = {"release-2025": "2026-11-19T14:02:11Z", "release-forever": "2026-06-02T07:45:00Z"}
    out = []
    for name, _, _ in identity["secrets"]:
        if name not in last:
            continue
        out.append({
            "keyId": guid(f"secret-{identity['name']}-{name}"),
            "appId": identity["app_id"],
            "keyType": "clientSecret",
            "credentialOrigin": "application",
            "servicePrincipalObjectId": identity["object_id"],
            "signInActivity": {"lastSignInDateTime": last[name]},
        })
    out.sort(key=lambda a: a["keyId"])
    return out


def manifest():
    return {
        "format_version": 1,
        "created_at": "2026-11-21T06:00:00Z",
        "tool_version": "0.1.0",
        "sources": [{"provider": "azure", "kind": "azure-inventory", "id": TENANT,
                     "path": f"inventory/azure-{TENANT}.json", "format_version": 1}],
        "coverage": [],
        "errors": [],
    }


# ---------------------------------------------------------------- Activity Log


def time_text(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond * 10:07d}Z"


def claims(identity):
    c = {
        "appid": identity.get("app_id", ""),
        "appidacr": "2",
        "http://schemas.microsoft.com/identity/claims/objectidentifier": identity["object_id"],
        "idtyp": "app",
    }
    if identity.get("kind") == "mi":
        c["xms_mirid"] = (f"/subscriptions/{PROD}/resourcegroups/rg-identities/providers/"
                          f"Microsoft.ManagedIdentity/userAssignedIdentities/{identity['name']}")
    if identity.get("kind") == "user":
        c["appid"] = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
        c["appidacr"] = "0"
        c["http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"] = identity["name"]
        del c["idtyp"]
    return c


def record(identity, action, scope, correlation, t, result_type, status, error=None):
    signature = {"Start": "Started.", "Success": f"Succeeded.{status}"}.get(result_type,
                                                                          f"Failed.{status}")
    properties = {"statusCode": status, "eventCategory": "Administrative"}
    if error:
        properties["statusMessage"] = json.dumps({"error": {"code": error, "message": (
            f"The client '{identity['object_id']}' with object id '{identity['object_id']}' does "
            f"not have authorization to perform action '{action}' over scope '{scope}' or the "
            f"scope is invalid.")}}, separators=(",", ":"))
    return json.dumps({
        "time": time_text(t),
        "resourceId": scope.upper(),
        "operationName": action.upper(),
        "category": "Administrative",
        "resultType": result_type,
        "resultSignature": signature,
        "correlationId": correlation,
        "identity": {"authorization": {"scope": scope, "action": action},
                     "claims": claims(identity)},
        "caller": identity["name"] if identity.get("kind") == "user" else identity["object_id"],
        "level": "Error" if result_type == "Failure" else "Information",
        "location": "global",
        "properties": properties,
    }, separators=(",", ":"))


def subscription_of(scope):
    return PROD if PROD in scope else DEV


def activity_log(root):
    rng = random.Random(20261114)
    lines = {}  # (subscription, hour datetime) -> [(time, text)]
    truth = {}  # identity name -> {"used": {op: {scope: n}}, "denied": {...}}
    counter = [0]

    def put(s, t, text):
        hour = t.replace(minute=0, second=0, microsecond=0)
        lines.setdefault((s, hour), []).append((t, text))

    def add(identity, action, scope, t, allowed, split=False):
        counter[0] += 1
        correlation = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        s = subscription_of(scope)
        entry = truth.setdefault(identity["name"], {"used": {}, "denied": {}})
        side = entry["used" if allowed else "denied"].setdefault(action, {})
        side[scope] = side.get(scope, 0) + 1
        if not allowed:
            put(s, t, record(identity, action, scope, correlation, t, "Failure", "Forbidden",
                             "AuthorizationFailed"))
            return
        end = t + timedelta(seconds=rng.randint(2, 170))
        if split:
            # Start in one hourly blob, success in the next: one operation still.
            t = t.replace(minute=59, second=58)
            end = t + timedelta(seconds=5)
        put(s, t, record(identity, action, scope, correlation, t, "Start", "Created"))
        put(s, end, record(identity, action, scope, correlation, end, "Success", "OK"))

    start = datetime(2026, 11, 14, tzinfo=timezone.utc)
    everyone = IDENTITIES + [dict(USER, kind="user")]
    for day in range(7):
        for identity in everyone:
            for action, scope, per_day in identity["uses"]:
                for _ in range(per_day):
                    t = start + timedelta(days=day, seconds=rng.randint(6 * 3600, 20 * 3600),
                                          microseconds=rng.randint(0, 999999))
                    target = scope(counter[0]) if callable(scope) else scope
                    add(identity, action, target, t, True, split=rng.random() < 0.1)
            for action, scope, per_day in identity.get("refused", []):
                if day % 3 == 0:
                    t = start + timedelta(days=day, seconds=rng.randint(6 * 3600, 20 * 3600))
                    target = scope(counter[0]) if callable(scope) else scope
                    add(identity, action, target, t, False)
    # A record with no caller claims (a platform operation): set aside by the reader.
    t = datetime(2026, 11, 16, 3, 12, 5, tzinfo=timezone.utc)
    put(PROD, t, json.dumps({
        "time": time_text(t), "resourceId": SITE_PROD.upper(),
        "operationName": "MICROSOFT.WEB/SITES/WRITE", "category": "Administrative",
        "resultType": "Success", "correlationId": guid("system-op"),
        "identity": {"authorization": {"scope": SITE_PROD, "action": "Microsoft.Web/sites/write"}},
        "level": "Information", "properties": {"statusCode": "OK", "eventCategory": "Administrative"},
    }, separators=(",", ":")))

    base = os.path.join(root, "insights-activity-logs", "resourceId=")
    for (s, hour), entries in sorted(lines.items()):
        folder = os.path.join(base, "SUBSCRIPTIONS", s.upper(), f"y={hour:%Y}", f"m={hour:%m}",
                              f"d={hour:%d}", f"h={hour:%H}", "m=00")
        os.makedirs(folder, exist_ok=True)
        entries.sort()
        with open(os.path.join(folder, "PT1H.json"), "w") as out:
            for _, text in entries:
                out.write(text + "\n")
    # A corrupt blob: the upload was cut off mid-record. The reader skips it whole and says so;
    # what it holds is a repeat of an operation logged elsewhere, so the truth is unchanged.
    folder = os.path.join(base, "SUBSCRIPTIONS", DEV.upper(), "y=2026", "m=11", "d=18", "h=23",
                          "m=00")
    os.makedirs(folder, exist_ok=True)
    pr = next(i for i in IDENTITIES if i["name"] == "gha-web-pr")
    t = datetime(2026, 11, 18, 23, 30, tzinfo=timezone.utc)
    whole = record(pr, "Microsoft.Web/sites/write", SITE_DEV, guid("corrupt"), t, "Start",
                   "Created")
    with open(os.path.join(folder, "PT1H.json"), "w") as out:
        out.write(whole + "\n" + whole[: len(whole) // 2])
    return truth


def write_json(path, value):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as out:
        out.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")


def main():
    for part in ["snapshot", "activity-log"]:
        shutil.rmtree(os.path.join(HERE, part), ignore_errors=True)
    write_json(os.path.join(HERE, "snapshot", "manifest.json"), manifest())
    write_json(os.path.join(HERE, "snapshot", "inventory", f"azure-{TENANT}.json"), inventory())
    truth = activity_log(os.path.join(HERE, "activity-log"))
    identities = [{"name": i["name"], "object_id": i["object_id"],
                   **truth.get(i["name"], {"used": {}, "denied": {}})} for i in IDENTITIES]
    identities.append({"name": USER["name"], "object_id": USER["object_id"], **truth[USER["name"]]})
    write_json(os.path.join(HERE, "activity-log-ground-truth.json"),
               {"window": {"since": "2026-11-14T00:00:00Z", "until": "2026-11-21T00:00:00Z"},
                "principals": identities})


if __name__ == "__main__":
    main()
