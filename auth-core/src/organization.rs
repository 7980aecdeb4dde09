//! Organisations and tenants: roles an organisation's own administrators grant, kept apart from the
//! application's roles.
//!
//! Whoever creates a Clerk organisation is its `org:admin`; a Zitadel customer organisation's
//! administrators grant project roles to their own users; each Entra customer tenant assigns the
//! app's roles in its own directory. None of those should satisfy `require_role("admin")`, which is
//! the application's own admin. They arrive as [`Organization::roles`] instead, for guards that ask
//! for an organisation role, and count as application roles only for organisations the application
//! names with [`Provider::trusted_organizations`](crate::Provider::trusted_organizations) (its own
//! staff organisation, say).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::claim_path::ClaimPath;
use crate::json::{Json, Object};

/// The organisation (or tenant) a caller acts in, and what it granted them.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Organization {
    /// Its identifier: Clerk's `org_…`, Zitadel's organisation ID, Entra's tenant ID.
    pub id: String,
    /// Roles the organisation's administrators granted the caller.
    pub roles: BTreeSet<String>,
    /// Permissions that come with those roles (Clerk's `org:<feature>:<permission>`).
    pub permissions: BTreeSet<String>,
}

impl Organization {
    /// Whether the organisation granted the caller `role`.
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.contains(role)
    }
}

/// Where a provider's tokens say which organisation granted what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OrgMapping {
    /// Clerk's active organisation: `o` (`id`, `rol`, `per`, `fpm`, with `fea`) in v2 session
    /// tokens, `org_id`, `org_role`, `org_permissions` in v1.
    Clerk,
    /// Zitadel's project role maps, `{ "<role>": { "<orgId>": "<domain>" } }`: each role keyed by
    /// the organisations that granted it. The caller's organisation is its resource owner
    /// (`urn:zitadel:iam:user:resourceowner:id`), else the one organisation that granted it roles.
    Zitadel { role_claims: Vec<ClaimPath> },
    /// A tenant claim (Entra's `tid`): the provider's role claims are what that tenant granted.
    Tenant { claim: ClaimPath },
}

/// Organisation roles read from a payload, and the application roles and scopes they amount to.
pub(crate) struct OrgRoles {
    pub(crate) organization: Option<Organization>,
    /// Roles granted by trusted organisations.
    pub(crate) app_roles: BTreeSet<String>,
    /// Permissions granted by trusted organisations.
    pub(crate) app_scopes: BTreeSet<String>,
}

impl OrgMapping {
    /// Reads the organisation and its roles. `tenant_roles` are the roles the provider's role
    /// claims hold, which a [`OrgMapping::Tenant`] mapping attributes to the tenant.
    pub(crate) fn read(
        &self,
        payload: &Object<'_>,
        tenant_roles: &mut BTreeSet<String>,
        trusted: &[String],
    ) -> OrgRoles {
        let trusts = |id: &str| trusted.iter().any(|t| t == id);
        let organization = match self {
            OrgMapping::Clerk => clerk(payload),
            OrgMapping::Tenant { claim } => {
                let id = claim
                    .find(payload)
                    .and_then(Json::as_str)
                    .filter(|id| !id.is_empty());
                id.map(|id| Organization {
                    id: id.to_owned(),
                    roles: std::mem::take(tenant_roles),
                    permissions: BTreeSet::new(),
                })
            }
            OrgMapping::Zitadel { role_claims } => {
                let grants = zitadel_grants(payload, role_claims);
                let app_roles = grants
                    .iter()
                    .filter(|(_, org)| trusts(org))
                    .map(|(role, _)| (*role).to_owned())
                    .collect();
                let owner = payload
                    .get("urn:zitadel:iam:user:resourceowner:id")
                    .and_then(Json::as_str)
                    .map(str::to_owned);
                let own = owner.or_else(|| {
                    let mut orgs = grants.iter().map(|(_, org)| *org);
                    let first = orgs.next()?;
                    orgs.all(|org| org == first).then(|| first.to_owned())
                });
                let organization = own.map(|id| Organization {
                    roles: grants
                        .iter()
                        .filter(|(_, org)| *org == id)
                        .map(|(r, _)| (*r).into())
                        .collect(),
                    id,
                    permissions: BTreeSet::new(),
                });
                return OrgRoles {
                    organization,
                    app_roles,
                    app_scopes: BTreeSet::new(),
                };
            }
        };
        match organization {
            Some(org) if trusts(&org.id) => OrgRoles {
                app_roles: org.roles.clone(),
                app_scopes: org.permissions.clone(),
                organization: Some(org),
            },
            organization => OrgRoles {
                organization,
                app_roles: BTreeSet::new(),
                app_scopes: BTreeSet::new(),
            },
        }
    }
}

/// Clerk's active organisation. Roles take Clerk's own form, `org:<role>`, as its dashboard and SDK
/// name them (v2 tokens drop the prefix to save space: `o.rol` is `admin`).
fn clerk(payload: &Object<'_>) -> Option<Organization> {
    fn text<'v>(value: Option<&'v Json<'_>>) -> Option<&'v str> {
        value.and_then(Json::as_str).filter(|s| !s.is_empty())
    }
    if let Some(o) = payload.get("o").and_then(Json::as_object) {
        let id = text(o.get("id"))?.to_owned();
        let roles = text(o.get("rol"))
            .map(|rol| format!("org:{rol}"))
            .into_iter()
            .collect();
        let permissions = clerk_permissions(
            text(payload.get("fea")).unwrap_or_default(),
            text(o.get("per")).unwrap_or_default(),
            text(o.get("fpm")).unwrap_or_default(),
        );
        return Some(Organization {
            id,
            roles,
            permissions,
        });
    }
    let id = text(payload.get("org_id"))?.to_owned();
    let roles = text(payload.get("org_role"))
        .map(str::to_owned)
        .into_iter()
        .collect();
    let permissions = ClaimPath::claim("org_permissions")
        .names(payload)
        .map(str::to_owned)
        .collect();
    Some(Organization {
        id,
        roles,
        permissions,
    })
}

/// Decodes v2 permissions: `fea` lists features (`o:dashboard,u:profile`; the organisation's are
/// those whose scope holds `o`), `o.per` the permission names, and `o.fpm` one bitmask per
/// organisation feature, its lowest bit the first permission. `fea=o:dashboard,o:teams`,
/// `per=manage,read`, `fpm=3,2` are `org:dashboard:manage`, `org:dashboard:read` and
/// `org:teams:read`.
fn clerk_permissions(fea: &str, per: &str, fpm: &str) -> BTreeSet<String> {
    let features = fea
        .split(',')
        .filter_map(|feature| feature.trim().split_once(':'))
        .filter(|(scope, _)| scope.contains('o'))
        .map(|(_, name)| name);
    let names: Vec<&str> = per
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    let masks = fpm
        .split(',')
        .map(|mask| mask.trim().parse::<u64>().unwrap_or(0));
    let mut permissions = BTreeSet::new();
    for (feature, mask) in features.zip(masks) {
        for (bit, name) in names.iter().enumerate().take(64) {
            if mask & (1 << bit) != 0 {
                permissions.insert(format!("org:{feature}:{name}"));
            }
        }
    }
    permissions
}

/// Every `(role, granting organisation)` pair in Zitadel's role maps (the object form, and the
/// older array of such objects).
fn zitadel_grants<'a>(
    payload: &'a Object<'a>,
    role_claims: &[ClaimPath],
) -> Vec<(&'a str, &'a str)> {
    let mut grants = Vec::new();
    for claim in role_claims {
        let maps: Vec<&Object<'_>> = match claim.find(payload) {
            Some(Json::Object(map)) => vec![map],
            Some(Json::Array(items)) => items.iter().filter_map(Json::as_object).collect(),
            _ => Vec::new(),
        };
        for map in maps {
            for (role, orgs) in map.iter() {
                for org in orgs.as_object().into_iter().flat_map(Object::keys) {
                    if !grants.contains(&(role, org)) {
                        grants.push((role, org));
                    }
                }
            }
        }
    }
    grants
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn read(mapping: &OrgMapping, payload: Value, trusted: &[&str]) -> OrgRoles {
        let trusted: Vec<String> = trusted.iter().map(|t| (*t).to_owned()).collect();
        mapping.read(
            &Object::borrow(payload.as_object().unwrap()),
            &mut BTreeSet::new(),
            &trusted,
        )
    }

    #[test]
    fn clerk_permissions_follow_the_documented_bitmask() {
        let decoded = clerk_permissions("o:dashboard,o:teams,u:profile", "manage,read", "3,2");
        let expected = [
            "org:dashboard:manage",
            "org:dashboard:read",
            "org:teams:read",
        ];
        assert_eq!(
            decoded.iter().map(String::as_str).collect::<Vec<_>>(),
            expected
        );
        assert!(clerk_permissions("", "", "").is_empty());
        assert!(clerk_permissions("o:x", "read", "junk").is_empty());
    }

    #[test]
    fn clerk_reads_v1_and_v2_and_roles_stay_with_the_organisation() {
        let o = json!({"id": "org_1", "rol": "admin", "per": "read", "fpm": "1"});
        let v2 = json!({"v": 2, "fea": "o:invoices", "o": o});
        let roles = read(&OrgMapping::Clerk, v2.clone(), &[]);
        let org = roles.organization.unwrap();
        assert_eq!(
            (org.id.as_str(), org.has_role("org:admin")),
            ("org_1", true)
        );
        assert!(org.permissions.contains("org:invoices:read"));
        assert!(roles.app_roles.is_empty() && roles.app_scopes.is_empty());
        let trusted = read(&OrgMapping::Clerk, v2, &["org_1"]);
        assert!(
            trusted.app_roles.contains("org:admin")
                && trusted.app_scopes.contains("org:invoices:read")
        );
        let v1 =
            json!({"org_id": "org_2", "org_role": "org:member", "org_permissions": ["org:a:b"]});
        let org = read(&OrgMapping::Clerk, v1, &[]).organization.unwrap();
        assert_eq!(
            org.roles.iter().next().map(String::as_str),
            Some("org:member")
        );
        assert!(
            read(&OrgMapping::Clerk, json!({"sub": "user_1"}), &[])
                .organization
                .is_none()
        );
    }

    #[test]
    fn zitadel_roles_belong_to_the_organisations_that_granted_them() {
        let claim = ClaimPath::claim("urn:zitadel:iam:org:project:roles");
        let mapping = OrgMapping::Zitadel {
            role_claims: vec![claim],
        };
        let payload = json!({"urn:zitadel:iam:org:project:roles": {
            "admin": {"customer": "customer.zitadel.cloud"},
            "viewer": {"owner": "owner.zitadel.cloud", "customer": "customer.zitadel.cloud"}
        }});
        let roles = read(&mapping, payload.clone(), &["owner"]);
        assert_eq!(
            roles
                .app_roles
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
            ["viewer"]
        );
        assert!(
            roles.organization.is_none(),
            "two granting organisations and no resource owner claim"
        );
        let mut with_owner = payload;
        with_owner["urn:zitadel:iam:user:resourceowner:id"] = json!("customer");
        let org = read(&mapping, with_owner, &["owner"]).organization.unwrap();
        assert_eq!(org.id, "customer");
        assert!(org.has_role("admin") && org.has_role("viewer"));
    }

    #[test]
    fn a_tenant_claim_takes_the_role_claims_with_it() {
        let mapping = OrgMapping::Tenant {
            claim: ClaimPath::claim("tid"),
        };
        let mut roles: BTreeSet<String> = ["admin".to_owned()].into();
        let payload = json!({"tid": "t1"});
        let read = mapping.read(
            &Object::borrow(payload.as_object().unwrap()),
            &mut roles,
            &[],
        );
        assert!(roles.is_empty(), "moved to the tenant");
        assert!(read.organization.unwrap().has_role("admin") && read.app_roles.is_empty());
    }
}
