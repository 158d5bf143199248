//! National clouds: which login hosts issue tokens for which resources, which audiences each
//! resource accepts, and which API hosts serve each resource.
//!
//! The request's `Host` picks the cloud. A login host of one cloud only issues tokens for that
//! cloud's resources (AADSTS500011 otherwise), and an API host only accepts its own cloud's
//! audiences, so a token for the wrong cloud is refused. Loopback hosts (`127.0.0.1`,
//! `localhost`) act as the worldwide login host and, on API routes, accept the route's API
//! from any cloud (the "plain base URL" case).

/// One sovereign login authority.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginCloud {
    /// login.microsoftonline.com (worldwide and US GCC).
    Public,
    /// login.microsoftonline.us (US GCC-High and DoD).
    UsGov,
    /// login.microsoftonline.de.
    Germany,
    /// login.chinacloudapi.cn.
    China,
}

impl LoginCloud {
    /// The primary login host.
    pub fn host(self) -> &'static str {
        match self {
            LoginCloud::Public => "login.microsoftonline.com",
            LoginCloud::UsGov => "login.microsoftonline.us",
            LoginCloud::Germany => "login.microsoftonline.de",
            LoginCloud::China => "login.chinacloudapi.cn",
        }
    }

    /// The v1 issuer host (`iss` = `https://{this}/{tid}/`).
    pub fn sts_host(self) -> &'static str {
        match self {
            LoginCloud::Public | LoginCloud::UsGov => "sts.windows.net",
            LoginCloud::Germany => "sts.microsoftonline.de",
            LoginCloud::China => "sts.chinacloudapi.cn",
        }
    }

    /// The `cloud_instance_name` discovery reports.
    pub fn instance_name(self) -> &'static str {
        match self {
            LoginCloud::Public => "microsoftonline.com",
            LoginCloud::UsGov => "microsoftonline.us",
            LoginCloud::Germany => "microsoftonline.de",
            LoginCloud::China => "partner.microsoftonline.cn",
        }
    }

    /// The Graph host discovery reports.
    pub fn graph_host(self) -> &'static str {
        match self {
            LoginCloud::Public => "graph.microsoft.com",
            LoginCloud::UsGov => "graph.microsoft.us",
            LoginCloud::Germany => "graph.microsoft.de",
            LoginCloud::China => "microsoftgraph.chinacloudapi.cn",
        }
    }
}

/// Login host names and the cloud each belongs to.
pub const LOGIN_HOSTS: &[(&str, LoginCloud)] = &[
    ("login.microsoftonline.com", LoginCloud::Public),
    ("login.windows.net", LoginCloud::Public),
    ("login.microsoft.com", LoginCloud::Public),
    ("sts.windows.net", LoginCloud::Public),
    ("login.microsoftonline.us", LoginCloud::UsGov),
    ("login.usgovcloudapi.net", LoginCloud::UsGov),
    ("login.microsoftonline.de", LoginCloud::Germany),
    ("login.chinacloudapi.cn", LoginCloud::China),
    ("login.partner.microsoftonline.cn", LoginCloud::China),
];

/// The kind of API a resource is; routes declare which kind they serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApiKind {
    /// Microsoft Graph.
    Graph,
    /// Azure Resource Manager (and Sentinel through it).
    Arm,
    /// Microsoft Defender for Endpoint (WindowsDefenderATP).
    Defender,
    /// Microsoft Threat Protection / Defender XDR unified API.
    Security,
    /// Log Analytics query API.
    LogAnalytics,
    /// Key Vault data plane.
    KeyVault,
    /// Azure Storage data plane.
    Storage,
    /// Office 365 Management API.
    ManageOffice,
    /// Azure Data Explorer (Kusto) clusters.
    Kusto,
    /// Azure DevOps.
    DevOps,
    /// Microsoft Defender for Cloud Apps (MCAS).
    CloudApps,
    /// The Bot Framework (Teams bots).
    BotFramework,
    /// A resource registered in the configuration (tests).
    Custom,
}

/// A first-party resource (API) as Entra knows it.
#[derive(Debug, Clone, Copy)]
pub struct Resource {
    /// The API kind.
    pub kind: ApiKind,
    /// The resource's application id (a GUID; also accepted as an audience; empty when only
    /// the identifier URI is modelled).
    pub app_id: &'static str,
    /// Identifier URIs (audiences), compared without a trailing slash.
    pub audiences: &'static [&'static str],
    /// Login clouds that issue tokens for it.
    pub clouds: &'static [LoginCloud],
    /// API hosts that accept its tokens (a leading `*.` matches any subdomain).
    pub hosts: &'static [&'static str],
}

const PUB: &[LoginCloud] = &[LoginCloud::Public];
const USG: &[LoginCloud] = &[LoginCloud::UsGov];
const PUB_USG: &[LoginCloud] = &[LoginCloud::Public, LoginCloud::UsGov];
const DE: &[LoginCloud] = &[LoginCloud::Germany];
const CN: &[LoginCloud] = &[LoginCloud::China];

const GRAPH_ID: &str = "00000003-0000-0000-c000-000000000000";
const ARM_ID: &str = "797f4846-ba00-4fd7-ba43-dac1f8f63013";
const MDE_ID: &str = "fc780465-2017-40d4-a0c5-307022471b92";
const MTP_ID: &str = "8ee8fdad-f234-4243-8f3b-15c294843740";
const LA_ID: &str = "ca7f3f0b-7d91-482c-8e09-c5d840d0eac5";
const KV_ID: &str = "cfa8b339-82a2-471a-a3c9-0fc0be7a4093";
const STORAGE_ID: &str = "e406a681-f3d4-42a8-90b6-c2b029497af1";
const OFFICE_ID: &str = "c5393580-f805-4401-95e8-94b7a6ef2fc2";
const KUSTO_ID: &str = "2746ea77-4702-4b45-80ca-3c97e680e8b7";
const DEVOPS_ID: &str = "499b84ac-1321-427f-aa17-267ca6975798";
const MCAS_ID: &str = "05a65629-4c1b-48c1-a78b-804c4abdd4af";

/// Every first-party resource the emulator issues tokens for.
#[rustfmt::skip]
pub const RESOURCES: &[Resource] = &[
    // Graph: worldwide; US GCC (worldwide login) and GCC-High share graph.microsoft.us.
    Resource { kind: ApiKind::Graph, app_id: GRAPH_ID, audiences: &["https://graph.microsoft.com"], clouds: PUB, hosts: &["graph.microsoft.com"] },
    Resource { kind: ApiKind::Graph, app_id: GRAPH_ID, audiences: &["https://graph.microsoft.us"], clouds: PUB_USG, hosts: &["graph.microsoft.us"] },
    Resource { kind: ApiKind::Graph, app_id: GRAPH_ID, audiences: &["https://dod-graph.microsoft.us"], clouds: USG, hosts: &["dod-graph.microsoft.us"] },
    Resource { kind: ApiKind::Graph, app_id: GRAPH_ID, audiences: &["https://graph.microsoft.de"], clouds: DE, hosts: &["graph.microsoft.de"] },
    Resource { kind: ApiKind::Graph, app_id: GRAPH_ID, audiences: &["https://microsoftgraph.chinacloudapi.cn"], clouds: CN, hosts: &["microsoftgraph.chinacloudapi.cn"] },
    // ARM: the four worldwide audiences ARM's own error message lists, and the sovereign pairs.
    Resource { kind: ApiKind::Arm, app_id: ARM_ID, audiences: &["https://management.core.windows.net", "https://management.azure.com"], clouds: PUB, hosts: &["management.azure.com"] },
    Resource { kind: ApiKind::Arm, app_id: ARM_ID, audiences: &["https://management.usgovcloudapi.net", "https://management.core.usgovcloudapi.net"], clouds: PUB_USG, hosts: &["management.usgovcloudapi.net"] },
    Resource { kind: ApiKind::Arm, app_id: ARM_ID, audiences: &["https://management.microsoftazure.de", "https://management.core.cloudapi.de"], clouds: DE, hosts: &["management.microsoftazure.de"] },
    Resource { kind: ApiKind::Arm, app_id: ARM_ID, audiences: &["https://management.chinacloudapi.cn", "https://management.core.chinacloudapi.cn"], clouds: CN, hosts: &["management.chinacloudapi.cn"] },
    // Defender for Endpoint: both App ID URIs the reference uses, on the legacy and regional hosts.
    Resource { kind: ApiKind::Defender, app_id: MDE_ID, audiences: &["https://api.securitycenter.microsoft.com", "https://api.securitycenter.windows.com", "https://securitycenter.onmicrosoft.com/windowsatpservice"], clouds: PUB, hosts: &["api.securitycenter.microsoft.com", "api-us.securitycenter.microsoft.com", "api-eu.securitycenter.microsoft.com", "api-uk.securitycenter.microsoft.com", "api.security.microsoft.com"] },
    Resource { kind: ApiKind::Defender, app_id: MDE_ID, audiences: &["https://api-gcc.securitycenter.microsoft.us", "https://securitycenter.onmicrosoft.com/windowsatpservice"], clouds: PUB, hosts: &["api-gcc.securitycenter.microsoft.us"] },
    Resource { kind: ApiKind::Defender, app_id: MDE_ID, audiences: &["https://api-gov.securitycenter.microsoft.us", "https://securitycenter.onmicrosoft.us/windowsatpservice"], clouds: USG, hosts: &["api-gov.securitycenter.microsoft.us"] },
    Resource { kind: ApiKind::Security, app_id: MTP_ID, audiences: &["https://api.security.microsoft.com", "https://security.microsoft.com"], clouds: PUB, hosts: &["api.security.microsoft.com"] },
    Resource { kind: ApiKind::LogAnalytics, app_id: LA_ID, audiences: &["https://api.loganalytics.io"], clouds: PUB, hosts: &["api.loganalytics.io"] },
    Resource { kind: ApiKind::LogAnalytics, app_id: LA_ID, audiences: &["https://api.loganalytics.us"], clouds: PUB_USG, hosts: &["api.loganalytics.us"] },
    Resource { kind: ApiKind::LogAnalytics, app_id: LA_ID, audiences: &["https://api.loganalytics.azure.cn"], clouds: CN, hosts: &["api.loganalytics.azure.cn"] },
    Resource { kind: ApiKind::KeyVault, app_id: KV_ID, audiences: &["https://vault.azure.net"], clouds: PUB, hosts: &["*.vault.azure.net"] },
    Resource { kind: ApiKind::KeyVault, app_id: KV_ID, audiences: &["https://vault.usgovcloudapi.net"], clouds: PUB_USG, hosts: &["*.vault.usgovcloudapi.net"] },
    Resource { kind: ApiKind::KeyVault, app_id: KV_ID, audiences: &["https://vault.microsoftazure.de"], clouds: DE, hosts: &["*.vault.microsoftazure.de"] },
    Resource { kind: ApiKind::KeyVault, app_id: KV_ID, audiences: &["https://vault.azure.cn"], clouds: CN, hosts: &["*.vault.azure.cn"] },
    Resource { kind: ApiKind::Storage, app_id: STORAGE_ID, audiences: &["https://storage.azure.com"], clouds: &[LoginCloud::Public, LoginCloud::UsGov, LoginCloud::Germany, LoginCloud::China], hosts: &["*.blob.core.windows.net", "*.queue.core.windows.net", "*.table.core.windows.net", "*.file.core.windows.net"] },
    Resource { kind: ApiKind::ManageOffice, app_id: OFFICE_ID, audiences: &["https://manage.office.com"], clouds: PUB, hosts: &["manage.office.com"] },
    Resource { kind: ApiKind::ManageOffice, app_id: OFFICE_ID, audiences: &["https://manage.office365.us"], clouds: USG, hosts: &["manage.office365.us"] },
    // The other resources of the seed's flow table. A Kusto cluster is its own audience (the
    // public help cluster stands for a customer's); Azure DevOps and Defender for Cloud Apps are
    // asked for by app id; the Bot Framework by its identifier URI only.
    Resource { kind: ApiKind::Kusto, app_id: KUSTO_ID, audiences: &["https://help.kusto.windows.net"], clouds: PUB, hosts: &["help.kusto.windows.net"] },
    Resource { kind: ApiKind::DevOps, app_id: DEVOPS_ID, audiences: &[], clouds: PUB, hosts: &["dev.azure.com", "vsaex.dev.azure.com"] },
    Resource { kind: ApiKind::CloudApps, app_id: MCAS_ID, audiences: &[], clouds: PUB, hosts: &["*.portal.cloudappsecurity.com"] },
    Resource { kind: ApiKind::BotFramework, app_id: "", audiences: &["https://api.botframework.com"], clouds: PUB, hosts: &[] },
];

/// Extra host names on the TLS certificate that no resource above serves: every other endpoint
/// host of the national-cloud table (msapi.md §7), so a client configured with any of them can
/// be mapped to the emulator and get a clear 404 rather than a TLS failure.
const EXTRA_HOSTS: &[&str] = &[
    "management.core.windows.net",
    "management.core.usgovcloudapi.net",
    "management.core.cloudapi.de",
    "management.core.chinacloudapi.cn",
    "api.applicationinsights.io",
    "api.applicationinsights.us",
    "api.applicationinsights.azure.cn",
    "outlook.office365.com",
    "outlook.office365.us",
    "vault.azure.net",
    "vault.usgovcloudapi.net",
    "vault.microsoftazure.de",
    "vault.azure.cn",
    "outlook-dod.office365.us",
    "partner.outlook.cn",
    "portal.azure.com",
    "portal.azure.us",
    // Microsoft's MFA connector (msgraph-user-request-mfa).
    "strongauthenticationservice.auth.microsoft.com",
    "portal.microsoftazure.de",
    "portal.azure.cn",
    "batch.core.windows.net",
    "batch.core.usgovcloudapi.net",
    "batch.cloudapi.de",
    "batch.chinacloudapi.cn",
    "gallery.azure.com",
    "gallery.usgovcloudapi.net",
    "gallery.cloudapi.de",
    "gallery.chinacloudapi.cn",
    "graph.windows.net",
    "graph.cloudapi.de",
    "graph.chinacloudapi.cn",
    "datalake.azure.net",
    "rest.media.azure.net",
    "rest.media.usgovcloudapi.net",
    "rest.media.cloudapi.de",
    "rest.media.chinacloudapi.cn",
    "ossrdbms-aad.database.windows.net",
    "ossrdbms-aad.database.usgovcloudapi.net",
    "ossrdbms-aad.database.cloudapi.de",
    "ossrdbms-aad.database.chinacloudapi.cn",
    "dc.applicationinsights.azure.com",
    "dc.applicationinsights.us",
    "dc.applicationinsights.azure.cn",
    "dev.azuresynapse.net",
    "dev.azuresynapse.usgovcloudapi.net",
    "dev.azuresynapse.azure.cn",
    "attest.azure.net",
];

/// Strips the port and lower-cases a `Host` header value.
pub fn bare_host(host: &str) -> String {
    let host = host.trim();
    let no_port = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or(rest)
    } else if host.matches(':').count() == 1 {
        host.split(':').next().unwrap_or(host)
    } else {
        host
    };
    no_port.to_ascii_lowercase()
}

/// True for loopback names and addresses (and an absent host).
pub fn is_loopback(host: &str) -> bool {
    let h = bare_host(host);
    h.is_empty() || h == "localhost" || h == "::1" || h.starts_with("127.")
}

/// The login cloud a `Host` belongs to; loopback and unknown hosts act as the worldwide one.
pub fn login_cloud_for_host(host: &str) -> LoginCloud {
    let h = bare_host(host);
    LOGIN_HOSTS.iter().find(|(name, _)| *name == h).map(|(_, c)| *c).unwrap_or(LoginCloud::Public)
}

fn host_matches(pattern: &str, host: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(suffix) => host.len() > suffix.len() + 1 && host.ends_with(&format!(".{suffix}")),
        None => pattern == host,
    }
}

/// Normalizes an audience for comparison: no trailing slash, lower-case scheme and host.
pub fn norm_aud(aud: &str) -> String {
    aud.trim_end_matches('/').to_ascii_lowercase()
}

/// Finds the resource a requested identifier (scope prefix or v1 `resource`) names, among the
/// resources `cloud` issues tokens for. Matches an audience URI or the app id GUID.
pub fn resource_for(cloud: LoginCloud, identifier: &str) -> Option<&'static Resource> {
    let want = norm_aud(identifier);
    RESOURCES.iter().find(|r| {
        r.clouds.contains(&cloud)
            && ((!r.app_id.is_empty() && r.app_id.eq_ignore_ascii_case(&want))
                || r.audiences.iter().any(|a| norm_aud(a) == want))
    })
}

/// True when any cloud knows `identifier` (to tell "wrong cloud" from "unknown resource").
pub fn resource_anywhere(identifier: &str) -> bool {
    let want = norm_aud(identifier);
    RESOURCES.iter().any(|r| r.audiences.iter().any(|a| norm_aud(a) == want))
}

/// The audiences an API route of `kind` accepts on `host`: the host's own resources when it is
/// a named API host, every cloud's resources of that kind on loopback/unknown hosts.
pub fn accepted_audiences(kind: ApiKind, host: &str) -> Vec<&'static str> {
    let h = bare_host(host);
    let named: Vec<&Resource> =
        RESOURCES.iter().filter(|r| r.kind == kind && r.hosts.iter().any(|p| host_matches(p, &h))).collect();
    let chosen: Vec<&Resource> =
        if named.is_empty() { RESOURCES.iter().filter(|r| r.kind == kind).collect() } else { named };
    let mut out: Vec<&'static str> = Vec::new();
    for r in chosen {
        for a in r.audiences {
            if !out.contains(a) {
                out.push(a);
            }
        }
        if !r.app_id.is_empty() && !out.contains(&r.app_id) {
            out.push(r.app_id);
        }
    }
    out
}

/// True when `host` is one of the named API hosts of `kind` (in any cloud); false on loopback.
pub fn is_api_host(kind: ApiKind, host: &str) -> bool {
    let h = bare_host(host);
    RESOURCES.iter().any(|r| r.kind == kind && r.hosts.iter().any(|p| host_matches(p, &h)))
}

/// Every host name the TLS certificate covers and the host map lists (wildcards excluded from
/// the host map, since a map needs concrete names).
pub fn all_hosts() -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |h: &str| {
        if !out.iter().any(|x| x == h) {
            out.push(h.to_string());
        }
    };
    for (h, _) in LOGIN_HOSTS {
        push(h);
    }
    for r in RESOURCES {
        for h in r.hosts {
            push(h);
        }
    }
    for h in EXTRA_HOSTS {
        push(h);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_parsing() {
        for (raw, bare) in [
            ("login.microsoftonline.us:8443", "login.microsoftonline.us"),
            ("127.0.0.1:1234", "127.0.0.1"),
            ("[::1]:99", "::1"),
            ("Graph.Microsoft.COM", "graph.microsoft.com"),
        ] {
            assert_eq!(bare_host(raw), bare, "{raw}");
        }
        assert!(
            is_loopback("127.0.0.1:5") && is_loopback("localhost") && !is_loopback("graph.microsoft.com")
        );
    }

    #[test]
    fn each_cloud_issues_only_its_resources() {
        assert!(resource_for(LoginCloud::Public, "https://graph.microsoft.com/").is_some());
        assert!(resource_for(LoginCloud::UsGov, "https://graph.microsoft.com").is_none());
        assert!(resource_for(LoginCloud::UsGov, "https://dod-graph.microsoft.us").is_some());
        // US GCC: worldwide login, graph.microsoft.us.
        assert!(resource_for(LoginCloud::Public, "https://graph.microsoft.us").is_some());
        assert!(resource_for(LoginCloud::China, "https://management.chinacloudapi.cn").is_some());
        assert!(resource_for(LoginCloud::Public, GRAPH_ID).is_some());
        assert!(
            resource_anywhere("https://graph.microsoft.de") && !resource_anywhere("https://nope.example")
        );
    }

    #[test]
    fn api_hosts_accept_their_own_audiences_only() {
        let us = accepted_audiences(ApiKind::Graph, "graph.microsoft.us");
        assert!(us.contains(&"https://graph.microsoft.us") && !us.contains(&"https://graph.microsoft.com"));
        let any = accepted_audiences(ApiKind::Graph, "127.0.0.1:9");
        assert!(any.contains(&"https://graph.microsoft.com") && any.contains(&"https://graph.microsoft.us"));
        let kv = accepted_audiences(ApiKind::KeyVault, "myvault.vault.azure.net");
        assert_eq!(kv, vec!["https://vault.azure.net", KV_ID]);
        assert_eq!(accepted_audiences(ApiKind::DevOps, "dev.azure.com"), vec![DEVOPS_ID]);
        assert_eq!(
            accepted_audiences(ApiKind::BotFramework, "127.0.0.1"),
            vec!["https://api.botframework.com"]
        );
    }

    #[test]
    fn the_flow_tables_other_resources_are_issued_worldwide() {
        for id in ["https://help.kusto.windows.net", DEVOPS_ID, MCAS_ID, "https://api.botframework.com"] {
            assert!(resource_for(LoginCloud::Public, id).is_some(), "{id}");
            assert!(resource_for(LoginCloud::UsGov, id).is_none(), "{id}");
        }
        assert!(resource_for(LoginCloud::Public, "").is_none(), "an empty app id matches nothing");
    }
}
