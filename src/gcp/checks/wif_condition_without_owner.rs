//! **What it finds:** a Workload Identity Federation provider on a shared SaaS issuer whose
//! `attributeCondition` does not pin the tenant: no positive test (`==`, `in`,
//! `startsWith`) on the claim that names the organisation (GitHub `repository_owner`,
//! `repository_owner_id`, `repository`, `sub`; GitLab `namespace_path`, `namespace_id`,
//! `project_path`, `sub`; HCP Terraform `terraform_organization_name`,
//! `terraform_organization_id`, `sub`; Buildkite `organization_slug`, `sub`).
//!
//! **Why it matters:** a condition such as `assertion.ref == 'refs/heads/main'` or
//! `assertion.repository_visibility != 'public'` is met by tokens of other organisations'
//! repositories too. Claims: <https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/about-security-hardening-with-openid-connect#understanding-the-oidc-token>,
//! <https://docs.gitlab.com/ci/secrets/id_token_authentication/>.
//! The reading of CEL is textual, so this check reports with medium confidence.
//!
//! **Example:** `"attributeCondition": "assertion.ref == 'refs/heads/main'"`.
//!
//! **Remediation:** add `assertion.repository_owner_id == '<id>' &&` (GitHub) or the
//! issuer's equivalent to the condition.

use super::{active_providers, shared_oidc_issuer};
use crate::gcp::inventory::GcpInventory;
use crate::model::{CiIssuer, Confidence, Evidence, Finding, Severity};

pub const ID: &str = "gcp-wif-condition-without-owner";

/// The claims that name (or contain) the tenant, per issuer.
fn tenant_claims(issuer: &CiIssuer) -> &'static [&'static str] {
    match issuer {
        CiIssuer::GitHubActions => &[
            "repository_owner_id",
            "repository_owner",
            "repository_id",
            "repository",
            "sub",
        ],
        CiIssuer::GitLab => &[
            "namespace_id",
            "namespace_path",
            "project_id",
            "project_path",
            "sub",
        ],
        CiIssuer::TerraformCloud => &[
            "terraform_organization_id",
            "terraform_organization_name",
            "sub",
        ],
        CiIssuer::Buildkite => &["organization_slug", "sub"],
        _ => &["sub"],
    }
}

/// Whether `condition` tests `assertion.<claim>` (or the mapped `attribute.<claim>`)
/// positively: `== '…'`, `in [`, `.startsWith('…/` or `.matches('^…`.
pub(super) fn pins_claim(condition: &str, claim: &str) -> bool {
    let compact: String = condition.chars().filter(|c| !c.is_whitespace()).collect();
    ["assertion.", "attribute."].iter().any(|prefix| {
        let name = format!("{prefix}{claim}");
        compact.match_indices(&name).any(|(start, _)| {
            let after = &compact[start + name.len()..];
            let before_ok = start == 0
                || !compact[..start]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.');
            let positive = after.starts_with("==")
                || after.starts_with("in[")
                || after.starts_with(".startsWith(")
                || after.starts_with(".matches(");
            // A negated test (`!(assertion.x == …)`) pins nothing.
            let negated = compact[..start].ends_with("!(") || compact[..start].ends_with('!');
            before_ok && positive && !negated && !after.starts_with("==''")
        })
    })
}

pub fn run(inventory: &GcpInventory, findings: &mut Vec<Finding>) {
    for provider in active_providers(inventory) {
        let Some((issuer_url, issuer)) = shared_oidc_issuer(provider) else {
            continue;
        };
        let condition = provider.attribute_condition.as_deref().unwrap_or("").trim();
        // No condition at all is the other check's finding.
        if condition.is_empty() {
            continue;
        }
        let claims = tenant_claims(&issuer);
        if claims.iter().any(|claim| pins_claim(condition, claim)) {
            continue;
        }
        findings.push(Finding {
            id: ID,
            severity: Severity::Critical,
            confidence: Confidence::Medium,
            subject: format!("WIF provider `{}`", provider.name),
            message: format!(
                "the attribute condition does not pin the organisation: tokens of other tenants \
                 of `{issuer_url}` can meet it"
            ),
            evidence: vec![Evidence {
                source: provider.name.clone(),
                detail: format!(
                    "`attributeCondition`: `{condition}`; none of {} is tested with `==`, `in` or \
                     `startsWith`",
                    claims
                        .iter()
                        .map(|c| format!("`assertion.{c}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }],
            remediation: format!(
                "add a positive test of `assertion.{}` to the condition",
                claims[0]
            ),
        });
    }
}
