//! Organisations and tenants: roles an organisation's own administrators grant, kept apart from the
//! application's roles.
//!
//! Whoever creates a Clerk organisation is its `org:admin`; a Zitadel customer organisation's
//! administrators grant project roles to their own users; each Entra customer tenant assigns the
//! app's roles in its own directory; an Auth0 organisation's members get its roles' permissions.
//! None of those should satisfy `require_role("admin")`, which is the application's own admin. They
//! arrive as [`Organization::roles`] instead, for guards that ask for an organisation role, and
//! count as application roles only for organisations the application names with
//! [`Provider::trusted_organizations`](crate::Provider::trusted_organizations) (its own staff
//! organisation, say).
//!
//! An organisation role says what the caller may do in *their* organisation. Which organisation a
//! request addresses is the application's to check: the web layer's guards compare it with a path
//! parameter.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::error::AuthError;
use crate::token::claim_path::ClaimPath;
use crate::token::json::{Json, Object};

/// Zitadel's claim naming the organisation a user belongs to (its resource owner).
const ZITADEL_RESOURCE_OWNER: &str = "urn:zitadel:iam:user:resourceowner:id";

/// The organisation (or tenant) a caller acts in, and what it granted them.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Organization {
    /// Its identifier, as the provider writes it: Clerk's `org_…`, Auth0's `org_id` (`org_…`),
    /// Zitadel's organisation ID, Entra's tenant ID (`tid`), a Keycloak organisation's `id` (or
    /// its alias when the token carries no ID). A guard bound to a path parameter
    /// (`#[require_org_role("admin", org = "org")]`) compares this with the parameter.
    pub id: String,
    /// Its name or slug, where the token carries one: Auth0's `org_name`, Clerk's slug (`o.slg`,
    /// v1 `org_slug`), Zitadel's `urn:zitadel:iam:user:resourceowner:name`, a Keycloak
    /// organisation's alias. Names can change; authorise by [`Organization::id`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Roles the organisation's administrators granted the caller.
    pub roles: BTreeSet<String>,
    /// Permissions that come with those roles (Clerk's `org:<feature>:<permission>`, the
    /// `permissions` of an Auth0 token issued in an organisation's context).
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
    /// Clerk's active organisation: `o` (`id`, `slg`, `rol`, `per`, `fpm`, with `fea`) in v2
    /// session tokens, `org_id`, `org_slug`, `org_role`, `org_permissions` in v1.
    Clerk,
    /// Zitadel's project role maps, `{ "<role>": { "<orgId>": "<domain>" } }`: each role keyed by
    /// the organisations that granted it; any other shape is ignored. The caller's organisation is
    /// its resource owner (`urn:zitadel:iam:user:resourceowner:id`), else the one organisation that
    /// granted it roles.
    Zitadel { role_claims: Vec<ClaimPath> },
    /// A tenant claim (Entra's `tid`): the provider's role claims are what that tenant granted.
    Tenant { claim: ClaimPath },
    /// Auth0's `org_id` (and `org_name`): in a token issued in an organisation's context, the role
    /// claims and `permissions` are what the organisation granted. The API must say which
    /// organisations it accepts before such a token passes (see [`OrgAcceptance`]).
    Auth0,
    /// Keycloak's `organization` claim: a list of aliases, or an object keyed by alias whose
    /// values may hold the organisation's `id`. One organisation or none; no roles.
    Keycloak,
}

/// Which organisations a provider accepts tokens from
/// ([`Provider::accept_organizations`](crate::Provider::accept_organizations),
/// [`Provider::accept_any_organization`](crate::Provider::accept_any_organization)).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) enum OrgAcceptance {
    /// Not said: any organisation, except for a provider that asks APIs to validate the
    /// organisation (Auth0), which then accepts its trusted organisations only.
    #[default]
    Unset,
    /// Any organisation, said explicitly.
    Any,
    /// These organisations (and the trusted ones).
    Only(Vec<String>),
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
    /// Reads the organisation and its roles. `roles` and `scopes` are what the provider's role and
    /// scope claims hold: a [`OrgMapping::Tenant`] mapping, and an [`OrgMapping::Auth0`] one in an
    /// organisation's context, take from them what the organisation granted. Fails on an
    /// organisation claim that cannot be read as the provider documents it.
    pub(crate) fn read(
        &self,
        payload: &Object<'_>,
        roles: &mut BTreeSet<String>,
        scopes: &mut BTreeSet<String>,
        trusted: &[String],
    ) -> Result<OrgRoles, AuthError> {
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
                    name: None,
                    roles: std::mem::take(roles),
                    permissions: BTreeSet::new(),
                })
            }
            OrgMapping::Auth0 => auth0(payload, roles, scopes)?,
            OrgMapping::Keycloak => keycloak(payload),
            OrgMapping::Zitadel { role_claims } => {
                let grants = zitadel_grants(payload, role_claims);
                let app_roles = grants
                    .iter()
                    .filter(|(_, org)| trusts(org))
                    .map(|(role, _)| (*role).to_owned())
                    .collect();
                let text = |claim: &str| {
                    payload
                        .get(claim)
                        .and_then(Json::as_str)
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                };
                let owner = text(ZITADEL_RESOURCE_OWNER).map(|id| {
                    let name = text("urn:zitadel:iam:user:resourceowner:name");
                    (id, name)
                });
                let own = owner.or_else(|| {
                    let mut orgs = grants.iter().map(|(_, org)| *org);
                    let first = orgs.next()?;
                    orgs.all(|org| org == first)
                        .then(|| (first.to_owned(), None))
                });
                let organization = own.map(|(id, name)| Organization {
                    roles: grants
                        .iter()
                        .filter(|(_, org)| *org == id)
                        .map(|(r, _)| (*r).into())
                        .collect(),
                    id,
                    name,
                    permissions: BTreeSet::new(),
                });
                return Ok(OrgRoles {
                    organization,
                    app_roles,
                    app_scopes: BTreeSet::new(),
                });
            }
        };
        Ok(match organization {
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
        })
    }

    /// Whether the provider asks APIs to refuse a token whose organisation they cannot validate
    /// (Auth0), so that some organisations must be named as accepted.
    fn must_validate(&self) -> bool {
        matches!(self, OrgMapping::Auth0)
    }

    /// Why the token does not itself name the caller's organisation (`org` is what was read), for
    /// a provider whose tokens name it only when the client asks: Zitadel writes
    /// `urn:zitadel:iam:user:resourceowner:id` only for the scope
    /// `urn:zitadel:iam:user:resourceowner` (the organisation that granted roles is not the
    /// caller's), Keycloak its `organization` claim only for the `organization` scopes, and names
    /// none for several organisations. `None` where
    /// the token names it, or where naming none means a login outside any organisation (Auth0,
    /// Clerk), or the provider always names it (Entra's tenant).
    fn unnamed(&self, payload: &Object<'_>, org: Option<&Organization>) -> Option<String> {
        match self {
            OrgMapping::Zitadel { .. } => {
                let owner = payload.get(ZITADEL_RESOURCE_OWNER);
                if owner
                    .and_then(Json::as_str)
                    .is_some_and(|id| !id.is_empty())
                {
                    return None;
                }
                let what = if owner.is_none() {
                    "names no organisation"
                } else {
                    "holds an unreadable organisation"
                };
                Some(format!(
                    "the token {what} in `{ZITADEL_RESOURCE_OWNER}`, which Zitadel writes only \
                     when the token request asks for the scope \
                     `urn:zitadel:iam:user:resourceowner`; Provider::accept_organizations refuses \
                     tokens that leave the caller's organisation out: have clients request that \
                     scope"
                ))
            }
            OrgMapping::Keycloak if org.is_none() => Some(match payload.get("organization") {
                None => {
                    "the token names no organisation: Keycloak writes `organization` only when \
                         the client requests the scope `organization` (the user picks one) or \
                         `organization:<alias>`; Provider::accept_organizations refuses tokens \
                         that leave it out"
                        .to_owned()
                }
                Some(_) => "the token's `organization` claim names several organisations (the \
                            scope `organization:*`) or none readably: request the scope \
                            `organization` (the user picks one) or `organization:<alias>`"
                    .to_owned(),
            }),
            _ => None,
        }
    }

    /// `id` as this provider's tokens write it, or why it cannot be one: Entra's tenant IDs are
    /// GUIDs, trimmed and lower-cased as tokens carry them; other providers' IDs are taken as
    /// given.
    pub(crate) fn normalized_id(&self, id: &str) -> Result<String, String> {
        match self {
            OrgMapping::Tenant { .. } => tenant_id(id).ok_or_else(|| not_a_tenant_id(id)),
            _ => Ok(id.to_owned()),
        }
    }

    /// The prefix every organisation ID of this provider starts with, where it documents one.
    pub(crate) fn id_prefix(&self) -> Option<&'static str> {
        match self {
            OrgMapping::Auth0 | OrgMapping::Clerk => Some("org_"),
            _ => None,
        }
    }
}

impl OrgAcceptance {
    /// Admits the token's organisation (`org`, `None` when it names none) unless the provider's
    /// settings refuse it. With [`OrgAcceptance::Only`], a provider whose tokens name the caller's
    /// organisation only when the client asks for it (Zitadel, Keycloak) refuses a token that does
    /// not: a member of another organisation would pass by leaving it out.
    pub(crate) fn admit(
        &self,
        mapping: &OrgMapping,
        payload: &Object<'_>,
        org: Option<&Organization>,
        trusted: &[String],
    ) -> Result<(), AuthError> {
        if let (OrgAcceptance::Only(_), Some(why)) = (self, mapping.unnamed(payload, org)) {
            return Err(AuthError::OrganizationNotAccepted(why));
        }
        let Some(org) = org else {
            return Ok(());
        };
        let listed = |list: &[String]| list.contains(&org.id);
        let id = shortened(&org.id);
        match self {
            OrgAcceptance::Any => Ok(()),
            OrgAcceptance::Unset if !mapping.must_validate() => Ok(()),
            OrgAcceptance::Unset if listed(trusted) => Ok(()),
            OrgAcceptance::Unset => Err(AuthError::OrganizationNotAccepted(format!(
                "the token carries `org_id` {id:?}, and Auth0 asks an API to treat a token whose \
                 org_id it cannot validate as invalid: name the organisations this API accepts \
                 with Provider::accept_organizations([..]), or accept any with \
                 Provider::accept_any_organization()"
            ))),
            OrgAcceptance::Only(list) if listed(list) || listed(trusted) => Ok(()),
            OrgAcceptance::Only(_) => Err(AuthError::OrganizationNotAccepted(format!(
                "organisation {id:?} is not one Provider::accept_organizations names"
            ))),
        }
    }
}

/// At most 100 bytes of a value signed by the issuer but chosen by whoever names organisations.
fn shortened(value: &str) -> &str {
    let mut end = value.len().min(100);
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    &value[..end]
}

/// The scopes of OpenID Connect itself (Core §5.4, §11), which Auth0 passes through `scope` for any
/// login: never an organisation's permission.
const OPENID_SCOPES: [&str; 6] = [
    "openid",
    "profile",
    "email",
    "address",
    "phone",
    "offline_access",
];

/// Auth0's organisation: `org_id` and, where the tenant enables names, `org_name`. In a token
/// issued in an organisation's context, `permissions` "reflect only the roles held within the
/// active Organization", and roles reach the token only through an Action (the role claims): both
/// are the organisation's. Auth0 mirrors permissions into `scope` under RBAC, so a scope that is
/// also a permission is the organisation's too. Without a `permissions` claim (an array), which
/// Auth0 adds only with "Add Permissions in the Access Token", nothing tells a mirrored
/// permission from an application scope: every scope but OpenID Connect's is the organisation's.
fn auth0(
    payload: &Object<'_>,
    roles: &mut BTreeSet<String>,
    scopes: &mut BTreeSet<String>,
) -> Result<Option<Organization>, AuthError> {
    let Some(org_id) = payload.get("org_id") else {
        if payload.contains_key("org_name") {
            return Err(AuthError::InvalidClaim(
                "org_name (a token naming an Auth0 organisation without its org_id)".into(),
            ));
        }
        return Ok(None);
    };
    let id = org_id
        .as_str()
        .filter(|id| !id.is_empty())
        .ok_or_else(|| AuthError::InvalidClaim("org_id".into()))?;
    let name = match payload.get("org_name") {
        None => None,
        Some(Json::String(name)) if !name.is_empty() => Some(name.to_string()),
        Some(_) => return Err(AuthError::InvalidClaim("org_name".into())),
    };
    let permissions: BTreeSet<String> = match payload.get("permissions").and_then(Json::as_array) {
        Some(listed) => {
            let listed: BTreeSet<String> = listed
                .iter()
                .filter_map(Json::as_str)
                .map(str::to_owned)
                .collect();
            scopes.retain(|scope| !listed.contains(scope));
            listed
        }
        None => {
            let (openid, organisation) = std::mem::take(scopes)
                .into_iter()
                .partition(|scope| OPENID_SCOPES.contains(&scope.as_str()));
            *scopes = openid;
            organisation
        }
    };
    Ok(Some(Organization {
        id: id.to_owned(),
        name,
        roles: std::mem::take(roles),
        permissions,
    }))
}

/// Keycloak's `organization` claim, when it names exactly one organisation: a list of aliases
/// (the mapper's default), one alias, or an object keyed by alias whose value holds `id` when the
/// mapper's "Add organization id" is on. The ID is that `id`, else the alias; the name is the
/// alias. Several organisations (the scope `organization:*`) say nothing of which one the caller
/// acts in: none is taken. An `id` that is not a string (an organisation attribute named `id`
/// overwrites it with a list) is not taken either.
fn keycloak(payload: &Object<'_>) -> Option<Organization> {
    let one = |alias: &str, id: Option<&str>| {
        (!alias.is_empty()).then(|| Organization {
            id: id.unwrap_or(alias).to_owned(),
            name: Some(alias.to_owned()),
            roles: BTreeSet::new(),
            permissions: BTreeSet::new(),
        })
    };
    match payload.get("organization")? {
        Json::String(alias) => one(alias, None),
        Json::Array(items) => match items.as_slice() {
            [only] => one(only.as_str()?, None),
            _ => None,
        },
        Json::Object(map) => {
            let mut members = map.iter();
            let (alias, details) = members.next()?;
            if members.next().is_some() {
                return None;
            }
            match details.get("id") {
                None => one(alias, None),
                Some(Json::String(id)) if !id.is_empty() => one(alias, Some(&**id)),
                Some(_) => None,
            }
        }
        _ => None,
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
            name: text(o.get("slg")).map(str::to_owned),
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
        name: text(payload.get("org_slug")).map(str::to_owned),
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

/// Every `(role, granting organisation)` pair in Zitadel's role maps. Only the object form counts,
/// as Zitadel writes it (its code keeps a map per project); the array its reserved-claims table
/// shows is never issued, and is ignored rather than guessed at.
fn zitadel_grants<'a>(
    payload: &'a Object<'a>,
    role_claims: &[ClaimPath],
) -> Vec<(&'a str, &'a str)> {
    let mut grants = Vec::new();
    for claim in role_claims {
        let map = match claim.find(payload) {
            Some(Json::Object(map)) => map,
            None => continue,
            Some(_) => {
                tracing::debug!(
                    target: "auth",
                    claim = %claim,
                    "Zitadel role claim ignored: not an object of roles"
                );
                continue;
            }
        };
        for (role, orgs) in map.iter() {
            for org in orgs.as_object().into_iter().flat_map(Object::keys) {
                if !grants.contains(&(role, org)) {
                    grants.push((role, org));
                }
            }
        }
    }
    grants
}

/// Whether `tenant` is one of the names Entra uses for "any tenant".
pub(crate) fn is_placeholder_tenant(tenant: &str) -> bool {
    ["common", "organizations", "consumers"]
        .iter()
        .any(|p| tenant.trim().eq_ignore_ascii_case(p))
}

/// A tenant ID as Entra's tokens write it in `iss` and `tid`: a GUID, lower-case. `None` for
/// anything else (a domain, a placeholder such as `common`, a GUID with braces).
pub(crate) fn tenant_id(value: &str) -> Option<String> {
    let value = value.trim();
    let groups: Vec<&str> = value.split('-').collect();
    let shaped = groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(group, len)| group.len() == len && group.bytes().all(|b| b.is_ascii_hexdigit()));
    shaped.then(|| value.to_ascii_lowercase())
}

/// Why `value` cannot name a tenant, and where its ID is shown.
pub(crate) fn not_a_tenant_id(value: &str) -> String {
    let hint = if is_placeholder_tenant(value) {
        " (common, organizations and consumers stand for any tenant; list the tenants you accept)"
    } else if value.contains('.') {
        " (a domain: Entra's tokens name the tenant by its GUID, so every token would be refused)"
    } else {
        ""
    };
    format!(
        "{value:?} is not a tenant ID{hint}: give the GUID shown in the Entra admin center > \
         Overview > Tenant ID, e.g. 72f988bf-86f1-41af-91ab-2d7cd011db47"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn read(mapping: &OrgMapping, payload: Value, trusted: &[&str]) -> OrgRoles {
        let trusted: Vec<String> = trusted.iter().map(|t| (*t).to_owned()).collect();
        mapping
            .read(
                &Object::borrow(payload.as_object().unwrap()),
                &mut BTreeSet::new(),
                &mut BTreeSet::new(),
                &trusted,
            )
            .unwrap()
    }

    fn set(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|n| (*n).to_owned()).collect()
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
        with_owner["urn:zitadel:iam:user:resourceowner:name"] = json!("Customer AG");
        let org = read(&mapping, with_owner, &["owner"]).organization.unwrap();
        assert_eq!(org.id, "customer");
        assert_eq!(org.name.as_deref(), Some("Customer AG"));
        assert!(org.has_role("admin") && org.has_role("viewer"));

        // The array the reserved-claims table shows is never issued: ignored, not read as roles.
        let wrapped = json!({"urn:zitadel:iam:org:project:roles": [{"admin": {"owner": "o"}}]});
        let roles = read(&mapping, wrapped, &["owner"]);
        assert!(roles.app_roles.is_empty() && roles.organization.is_none());
        let text = json!({"urn:zitadel:iam:org:project:roles": "admin"});
        assert!(read(&mapping, text, &["owner"]).app_roles.is_empty());
    }

    #[test]
    fn a_tenant_claim_takes_the_role_claims_with_it() {
        let mapping = OrgMapping::Tenant {
            claim: ClaimPath::claim("tid"),
        };
        let mut roles: BTreeSet<String> = ["admin".to_owned()].into();
        let payload = json!({"tid": "t1"});
        let read = mapping
            .read(
                &Object::borrow(payload.as_object().unwrap()),
                &mut roles,
                &mut BTreeSet::new(),
                &[],
            )
            .unwrap();
        assert!(roles.is_empty(), "moved to the tenant");
        assert!(read.organization.unwrap().has_role("admin") && read.app_roles.is_empty());
    }

    #[test]
    fn clerk_names_the_slug() {
        let o = json!({"o": {"id": "org_1", "slg": "acme", "rol": "admin"}});
        let org = read(&OrgMapping::Clerk, o, &[]).organization.unwrap();
        assert_eq!(org.name.as_deref(), Some("acme"));
        let v1 = json!({"org_id": "org_2", "org_slug": "beta"});
        let org = read(&OrgMapping::Clerk, v1, &[]).organization.unwrap();
        assert_eq!(org.name.as_deref(), Some("beta"));
    }

    /// Auth0's documented organisation token (Work with Tokens and Organizations), with the roles
    /// an Action adds.
    #[test]
    fn auth0_organisation_roles_and_permissions_are_the_organisations() {
        let payload = json!({
            "iss": "https://exampleco.auth0.com/",
            "sub": "auth0|602c0dcab993d10073daf680",
            "scope": "openid profile email read:reports",
            "org_id": "org_9ybsU1dN2dKfDkBi",
            "org_name": "exampleco",
            "permissions": ["read:reports", "write:reports"]
        });
        let mut roles = set(&["admin"]);
        let mut scopes = set(&[
            "openid",
            "profile",
            "email",
            "read:reports",
            "write:reports",
        ]);
        let read = OrgMapping::Auth0
            .read(
                &Object::borrow(payload.as_object().unwrap()),
                &mut roles,
                &mut scopes,
                &[],
            )
            .unwrap();
        let org = read.organization.unwrap();
        assert_eq!(org.id, "org_9ybsU1dN2dKfDkBi");
        assert_eq!(org.name.as_deref(), Some("exampleco"));
        assert_eq!(org.roles, set(&["admin"]));
        assert_eq!(org.permissions, set(&["read:reports", "write:reports"]));
        assert!(roles.is_empty(), "moved to the organisation");
        assert_eq!(scopes, set(&["openid", "profile", "email"]));
        assert!(read.app_roles.is_empty() && read.app_scopes.is_empty());

        let trusted = read_auth0(&payload, &["org_9ybsU1dN2dKfDkBi"]).unwrap();
        assert_eq!(trusted.app_roles, set(&["admin"]));
        assert_eq!(trusted.app_scopes, set(&["read:reports", "write:reports"]));

        let without = json!({"sub": "auth0|1", "permissions": ["read:reports"]});
        assert!(read_auth0(&without, &[]).unwrap().organization.is_none());
        for bad in [
            json!({"org_id": ""}),
            json!({"org_id": 7}),
            json!({"org_id": null}),
            json!({"org_id": "org_1", "org_name": ["a"]}),
            json!({"org_name": "acme"}),
        ] {
            assert!(
                matches!(read_auth0(&bad, &[]), Err(AuthError::InvalidClaim(_))),
                "{bad}"
            );
        }
    }

    fn read_auth0(payload: &Value, trusted: &[&str]) -> Result<OrgRoles, AuthError> {
        let trusted: Vec<String> = trusted.iter().map(|t| (*t).to_owned()).collect();
        OrgMapping::Auth0.read(
            &Object::borrow(payload.as_object().unwrap()),
            &mut set(&["admin"]),
            &mut set(&["read:reports", "write:reports"]),
            &trusted,
        )
    }

    #[test]
    fn keycloak_names_one_organisation_or_none() {
        let org = |payload: Value| read(&OrgMapping::Keycloak, payload, &[]).organization;
        let listed = org(json!({"organization": ["acme"]})).unwrap();
        assert_eq!(
            (listed.id.as_str(), listed.name.as_deref()),
            ("acme", Some("acme"))
        );
        assert!(listed.roles.is_empty());
        let id = "42c3e46f-2477-44d7-a85b-d3b43f6b31fa";
        let documented = json!({"organization": {"testcorp": {"id": id, "attr1": ["value1"]}}});
        let with_id = org(documented).unwrap();
        assert_eq!(
            (with_id.id.as_str(), with_id.name.as_deref()),
            (id, Some("testcorp"))
        );
        assert_eq!(
            org(json!({"organization": {"orga": {}}})).unwrap().id,
            "orga"
        );
        assert_eq!(org(json!({"organization": "solo"})).unwrap().id, "solo");
        for none in [
            json!({"organization": ["a", "b"]}),
            json!({"organization": {"a": {"id": "1"}, "b": {"id": "2"}}}),
            json!({"organization": {"a": {"id": ["overwritten"]}}}),
            json!({"organization": []}),
            json!({"organization": [""]}),
            json!({"organization": 3}),
            json!({"sub": "x"}),
        ] {
            assert!(org(none.clone()).is_none(), "{none}");
        }
    }

    #[test]
    fn acceptance_follows_the_settings() {
        let org = |id: &str| Organization {
            id: id.to_owned(),
            ..Organization::default()
        };
        let empty = json!({});
        let payload = Object::borrow(empty.as_object().unwrap());
        let admit = |acceptance: &OrgAcceptance, mapping: &OrgMapping, id: &str, trusted| {
            acceptance.admit(mapping, &payload, Some(&org(id)), trusted)
        };
        let trusted = ["org_staff".to_owned()];
        let only = OrgAcceptance::Only(vec!["org_a".to_owned()]);
        for mapping in [OrgMapping::Auth0, OrgMapping::Clerk] {
            assert!(admit(&only, &mapping, "org_a", &trusted).is_ok());
            assert!(admit(&only, &mapping, "org_staff", &trusted).is_ok());
            let refused = admit(&only, &mapping, "org_b", &trusted).unwrap_err();
            assert!(matches!(refused, AuthError::OrganizationNotAccepted(_)));
            assert!(admit(&OrgAcceptance::Any, &mapping, "org_b", &[]).is_ok());
            // No org_id, no active organisation: a login outside any organisation.
            assert!(only.admit(&mapping, &payload, None, &trusted).is_ok());
        }
        let unset = OrgAcceptance::Unset;
        assert!(admit(&unset, &OrgMapping::Clerk, "org_b", &[]).is_ok());
        assert!(admit(&unset, &OrgMapping::Auth0, "org_staff", &trusted).is_ok());
        let err = admit(&unset, &OrgMapping::Auth0, "org_b", &trusted).unwrap_err();
        assert!(err.to_string().contains("accept_organizations"), "{err}");
    }

    /// Zitadel names the caller's organisation only for the scope
    /// `urn:zitadel:iam:user:resourceowner`, Keycloak only for its `organization` scopes: with a
    /// list of accepted organisations, a token that leaves it out is refused, naming the scope.
    #[test]
    fn accepting_organisations_refuses_tokens_that_leave_theirs_out_where_clients_choose() {
        let zitadel = OrgMapping::Zitadel {
            role_claims: vec![ClaimPath::claim("urn:zitadel:iam:org:project:1:roles")],
        };
        let only = OrgAcceptance::Only(vec!["1001".to_owned()]);
        let trusted = ["1000".to_owned()];
        let admit = |mapping: &OrgMapping, acceptance: &OrgAcceptance, payload: Value| {
            let roles = read(mapping, payload.clone(), &["1000"]);
            let payload = Object::borrow(payload.as_object().unwrap());
            acceptance.admit(mapping, &payload, roles.organization.as_ref(), &trusted)
        };
        let owner = |id: Value| json!({ ZITADEL_RESOURCE_OWNER: id });
        assert!(admit(&zitadel, &only, owner(json!("1001"))).is_ok());
        assert!(admit(&zitadel, &only, owner(json!("1000"))).is_ok());
        assert!(admit(&zitadel, &only, owner(json!("1002"))).is_err());
        // Roles granted by an accepted organisation say nothing of the caller's own.
        let granted = json!({"urn:zitadel:iam:org:project:1:roles": {"viewer": {"1001": "a"}}});
        assert_eq!(
            read(&zitadel, granted.clone(), &[])
                .organization
                .unwrap()
                .id,
            "1001"
        );
        for (payload, what) in [
            (json!({}), "names no organisation"),
            (granted.clone(), "names no organisation"),
            (owner(json!("")), "unreadable"),
            (owner(json!(1001)), "unreadable"),
        ] {
            let refused = admit(&zitadel, &only, payload.clone()).unwrap_err();
            let AuthError::OrganizationNotAccepted(why) = refused else {
                panic!("{payload}: {refused:?}");
            };
            assert!(why.contains(what), "{payload}: {why}");
            assert!(
                why.contains("`urn:zitadel:iam:user:resourceowner`"),
                "{why}"
            );
            for passes in [OrgAcceptance::Unset, OrgAcceptance::Any] {
                assert!(
                    admit(&zitadel, &passes, payload.clone()).is_ok(),
                    "{payload}"
                );
            }
        }

        let keycloak = OrgMapping::Keycloak;
        let only = OrgAcceptance::Only(vec!["acme".to_owned()]);
        assert!(admit(&keycloak, &only, json!({"organization": ["acme"]})).is_ok());
        assert!(admit(&keycloak, &only, json!({"organization": ["evil"]})).is_err());
        for (payload, what) in [
            (json!({"sub": "x"}), "names no organisation"),
            (json!({"organization": ["acme", "evil"]}), "several"),
            (json!({"organization": {"acme": {"id": ["x"]}}}), "several"),
            (json!({"organization": []}), "several"),
        ] {
            let refused = admit(&keycloak, &only, payload.clone()).unwrap_err();
            let AuthError::OrganizationNotAccepted(why) = refused else {
                panic!("{payload}: {refused:?}");
            };
            assert!(why.contains(what) && why.contains("`organization"), "{why}");
            assert!(admit(&keycloak, &OrgAcceptance::Any, payload).is_ok());
        }
    }

    /// Auth0 mirrors an organisation member's permissions into `scope` under RBAC; without the
    /// `permissions` claim that lists them, every scope but OpenID Connect's is the organisation's.
    #[test]
    fn auth0_scopes_are_the_organisations_without_the_permissions_claim() {
        let payload = json!({"org_id": "org_1", "scope": "openid delete:projects"});
        let mut scopes = set(&[
            "openid",
            "profile",
            "email",
            "address",
            "phone",
            "offline_access",
            "delete:projects",
        ]);
        let read = OrgMapping::Auth0
            .read(
                &Object::borrow(payload.as_object().unwrap()),
                &mut BTreeSet::new(),
                &mut scopes,
                &[],
            )
            .unwrap();
        assert_eq!(scopes, set(&OPENID_SCOPES));
        let org = read.organization.unwrap();
        assert_eq!(org.permissions, set(&["delete:projects"]));
        assert!(read.app_scopes.is_empty());
        // A trusted organisation's permissions are the application's, as with the claim.
        let trusted = OrgMapping::Auth0
            .read(
                &Object::borrow(payload.as_object().unwrap()),
                &mut BTreeSet::new(),
                &mut set(&["openid", "delete:projects"]),
                &["org_1".to_owned()],
            )
            .unwrap();
        assert_eq!(trusted.app_scopes, set(&["delete:projects"]));
        // A `permissions` claim that is not a list lists nothing: as if absent.
        let odd = json!({"org_id": "org_1", "permissions": "delete:projects"});
        let mut scopes = set(&["openid", "delete:projects"]);
        OrgMapping::Auth0
            .read(
                &Object::borrow(odd.as_object().unwrap()),
                &mut BTreeSet::new(),
                &mut scopes,
                &[],
            )
            .unwrap();
        assert_eq!(scopes, set(&["openid"]));
        // Without org_id, scopes are the caller's whatever they hold.
        let mut scopes = set(&["openid", "delete:projects"]);
        let plain = json!({"sub": "auth0|1"});
        OrgMapping::Auth0
            .read(
                &Object::borrow(plain.as_object().unwrap()),
                &mut BTreeSet::new(),
                &mut scopes,
                &[],
            )
            .unwrap();
        assert_eq!(scopes, set(&["openid", "delete:projects"]));
    }

    #[test]
    fn tenant_ids_are_guids_as_tokens_write_them() {
        let tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
        assert_eq!(tenant_id(tenant).as_deref(), Some(tenant));
        assert_eq!(
            tenant_id(" 72F988BF-86F1-41AF-91AB-2D7CD011DB47\t").as_deref(),
            Some(tenant)
        );
        for not_a_guid in [
            "contoso.onmicrosoft.com",
            "common",
            "{72f988bf-86f1-41af-91ab-2d7cd011db47}",
            "72f988bf86f141af91ab2d7cd011db47",
            "72f988bf-86f1-41af-91ab-2d7cd011db4",
            "72f988bg-86f1-41af-91ab-2d7cd011db47",
            "",
        ] {
            assert_eq!(tenant_id(not_a_guid), None, "{not_a_guid}");
        }
        assert!(not_a_tenant_id("contoso.com").contains("a domain"));
        assert!(not_a_tenant_id("organizations").contains("any tenant"));
    }
}
