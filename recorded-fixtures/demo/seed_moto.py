#!/usr/bin/env python3
"""Seeds a moto server with the pipeleash demo organisation (two AWS accounts).

The demo's inventory snapshot (`recorded-fixtures/demo/snapshot/`) was recorded by running
`pipeleash collect aws` against a moto server seeded by this script; see
`recorded-fixtures/demo/README.md` for the exact commands. Its CloudTrail logs come from
`pipeleash generate cloudtrail --seed 7` for the same roles, so that what the roles are
granted here is a superset of what the logs show them using.

Usage: seed_moto.py ENDPOINT_URL   (e.g. http://127.0.0.1:5000)
"""
import json
import sys

import boto3

PROD = "210987654321"
STAGING = "345678901234"
GITHUB = "token.actions.githubusercontent.com"
GITLAB = "gitlab.com"


def session_in(endpoint, account):
    """A boto3 session acting in `account`: moto selects the account from the assumed role."""
    sts = boto3.client(
        "sts",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
        aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    )
    credentials = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/pipeleash-seed", RoleSessionName="seed"
    )["Credentials"]
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name="us-east-1",
    )


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(actions, resources, **extra):
    statement = {"Effect": "Allow", "Action": actions, "Resource": resources}
    statement.update(extra)
    return statement


def github_trust(account, subjects, operator="StringEquals", audience=True):
    conditions = {operator: {f"{GITHUB}:sub": subjects}}
    if audience:
        conditions.setdefault("StringEquals", {})[f"{GITHUB}:aud"] = "sts.amazonaws.com"
    return doc(
        {
            "Effect": "Allow",
            "Principal": {"Federated": f"arn:aws:iam::{account}:oidc-provider/{GITHUB}"},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": conditions,
        }
    )


def role(iam, name, trust, inline=None, managed=(), boundary=None, tags=None):
    arguments = {"RoleName": name, "AssumeRolePolicyDocument": trust, "Path": "/ci/"}
    if boundary:
        arguments["PermissionsBoundary"] = boundary
    if tags:
        arguments["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
    iam.create_role(**arguments)
    for policy_name, document in (inline or {}).items():
        iam.put_role_policy(RoleName=name, PolicyName=policy_name, PolicyDocument=document)
    for arn in managed:
        iam.attach_role_policy(RoleName=name, PolicyArn=arn)


def managed_policy(iam, account, name, document, older_versions=()):
    """A customer-managed policy; `older_versions` are created first and left non-default."""
    first = older_versions[0] if older_versions else document
    iam.create_policy(PolicyName=name, PolicyDocument=first)
    arn = f"arn:aws:iam::{account}:policy/{name}"
    for version in list(older_versions[1:]) + ([document] if older_versions else []):
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=version, SetAsDefault=True)
    return arn


def seed_account(endpoint, account, environment):
    iam = session_in(endpoint, account).client("iam", endpoint_url=endpoint)
    iam.create_open_id_connect_provider(
        Url=f"https://{GITHUB}",
        ClientIDList=["sts.amazonaws.com"],
        ThumbprintList=["6938fd4d98bab03faadb97b34396831e3780aea1"],
    )
    iam.create_open_id_connect_provider(
        Url=f"https://{GITLAB}",
        ClientIDList=["https://gitlab.com"],
        ThumbprintList=["b3dd7606d2b5a8b4a13771dbecc9ee1cecafa38a"],
    )
    owner = {"owner": "platform-team", "environment": environment}

    # Static sites: S3 + CloudFront, granted far more than the deploy uses.
    web = managed_policy(
        iam,
        account,
        "ci-web-deploy",
        doc(
            allow("s3:*", [f"arn:aws:s3:::web-assets-{account}", f"arn:aws:s3:::web-assets-{account}/*"]),
            allow("cloudfront:*", "*"),
        ),
        older_versions=(doc(allow(["s3:PutObject"], f"arn:aws:s3:::web-assets-{account}/*")),),
    )
    web_subjects = (
        ["repo:acme/web:*", "repo:acme/docs:*"]
        if environment == "production"
        else ["repo:acme/web:*", "repo:acme/docs:*", "repo:acme/web:pull_request"]
    )
    role(iam, "gha-deploy-web", github_trust(account, web_subjects, "StringLike"),
         managed=[web], tags=dict(owner, team="web"))

    # Containers: ECR + ECS, with PassRole on anything.
    role(iam, "gha-release-api",
         github_trust(account, ["repo:acme/api:environment:production", "repo:acme/worker:environment:production",
                                "repo:acme/api:ref:refs/heads/main", "repo:acme/worker:ref:refs/heads/main"]),
         inline={"release": doc(
             allow(["ecr:*"], "*"),
             allow(["ecs:*"], "*"),
             allow("iam:PassRole", "*"),
             allow(["logs:*"], "*"),
         )},
         tags=dict(owner, team="api"))

    # Terraform: the classic over-grant.
    boundary = managed_policy(iam, account, "ci-terraform-boundary", doc(
        allow("*", "*"),
        {"Effect": "Deny", "Action": ["organizations:*", "account:*", "iam:CreateUser", "iam:CreateAccessKey"], "Resource": "*"},
    ))
    role(iam, "gha-terraform",
         github_trust(account, ["repo:acme/infra:*"], "StringLike"),
         managed=["arn:aws:iam::aws:policy/AdministratorAccess"],
         boundary=boundary if environment == "staging" else None,
         tags=dict(owner, team="platform"))

    # Serverless: CloudFormation + Lambda.
    role(iam, "gha-lambda-deploy",
         github_trust(account, ["repo:acme/functions:ref:refs/heads/main", "repo:acme/functions:environment:production",
                                "repo:acme/functions:ref:refs/tags/*"], "StringLike"),
         inline={"functions": doc(
             allow(["lambda:*"], f"arn:aws:lambda:*:{account}:function:*"),
             allow(["cloudformation:*"], "*"),
             allow(["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"],
                   [f"arn:aws:s3:::lambda-artifacts-{account}", f"arn:aws:s3:::lambda-artifacts-{account}/*"]),
             allow("iam:PassRole", f"arn:aws:iam::{account}:role/*",
                   Condition={"StringEquals": {"iam:PassedToService": ["cloudformation.amazonaws.com", "lambda.amazonaws.com"]}}),
             allow(["ssm:GetParameter", "ssm:GetParameters"], f"arn:aws:ssm:*:{account}:parameter/functions/*"),
         )},
         tags=dict(owner, team="serverless"))

    if environment == "production":
        # Never used in the window, and trusted by any repository on GitHub.
        role(iam, "gha-readonly-audit",
             github_trust(account, ["repo:*"], "StringLike"),
             managed=["arn:aws:iam::aws:policy/ReadOnlyAccess"], tags=owner)
        # GitLab trust with no subject condition at all.
        role(iam, "gitlab-docs-publish", doc({
            "Effect": "Allow",
            "Principal": {"Federated": f"arn:aws:iam::{account}:oidc-provider/{GITLAB}"},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {f"{GITLAB}:aud": "https://gitlab.com"}},
        }), inline={"docs": doc(allow(["s3:PutObject"], "arn:aws:s3:::docs-site/*"))}, tags=owner)
        # Assumable by the whole staging account, without an external id.
        role(iam, "cross-account-deployer", doc({
            "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{STAGING}:root"}, "Action": "sts:AssumeRole",
        }), inline={"deploy": doc(allow(["s3:*", "cloudfront:*"], "*"))}, tags=owner)
        # A long-lived CI user with two keys: one used by the legacy pipeline, one forgotten.
        iam.create_user(UserName="ci-legacy", Path="/ci/")
        iam.put_user_policy(UserName="ci-legacy", PolicyName="legacy", PolicyDocument=doc(
            allow(["s3:ListAllMyBuckets", "s3:GetBucketLocation", "s3:GetObject"], "*"),
            allow(["ses:SendEmail", "ses:SendRawEmail"], "*"),
        ))
        iam.create_access_key(UserName="ci-legacy")
        iam.create_access_key(UserName="ci-legacy")
    else:
        role(iam, "gha-sandbox", github_trust(account, ["repo:acme/sandbox:ref:refs/heads/main"]),
             managed=["arn:aws:iam::aws:policy/PowerUserAccess"], tags=owner)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    endpoint = sys.argv[1]
    seed_account(endpoint, PROD, "production")
    seed_account(endpoint, STAGING, "staging")
    print(f"seeded accounts {PROD} (production) and {STAGING} (staging) at {endpoint}")


if __name__ == "__main__":
    main()
