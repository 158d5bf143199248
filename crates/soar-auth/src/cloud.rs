//! National clouds: one enum, one table (msapi.md §7), the Defender for Endpoint endpoint
//! types, and how the instance params pick them.

use soar_protocol::Params;

use crate::Error;
use crate::spec::{ApiKind, ParamNames};

/// The Azure clouds of the reference's `AZURE_CLOUDS`, plus a custom one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cloud {
    /// Worldwide (`com`).
    Com,
    /// US Government Community Cloud (`gcc`).
    Gcc,
    /// US GCC-High (`gcc-high`).
    GccHigh,
    /// US Department of Defense (`dod`).
    Dod,
    /// Germany (`de`).
    De,
    /// China (`cn`).
    Cn,
    /// Worldwide with URLs overridden by params.
    Custom,
}

/// One row of the cloud table. URLs are as the reference lists them (some with a trailing
/// slash, some without); [`CloudEndpoints`] normalises them.
#[derive(Debug, Clone, Copy)]
pub struct CloudRow {
    /// The cloud.
    pub cloud: Cloud,
    /// The reference's abbreviation.
    pub abbr: &'static str,
    /// The `azure_cloud` param value that selects it.
    pub param_name: &'static str,
    /// `active_directory` (login host).
    pub login: &'static str,
    /// `microsoft_graph_resource_id`.
    pub graph: &'static str,
    /// `resource_manager` (ARM).
    pub arm: &'static str,
    /// `management` (the v1 ARM resource id).
    pub management: &'static str,
    /// Log Analytics API (unset in `de`).
    pub log_analytics: Option<&'static str>,
    /// Storage endpoint suffix.
    pub storage_suffix: &'static str,
    /// The Defender endpoint type that matches this cloud.
    pub defender: DefenderEndpoint,
}

/// The cloud table (msapi.md §7.1).
pub const CLOUDS: [CloudRow; 6] = [
    CloudRow {
        cloud: Cloud::Com,
        abbr: "com",
        param_name: "Worldwide",
        login: "https://login.microsoftonline.com",
        graph: "https://graph.microsoft.com/",
        arm: "https://management.azure.com/",
        management: "https://management.core.windows.net/",
        log_analytics: Some("https://api.loganalytics.io"),
        storage_suffix: "core.windows.net",
        defender: DefenderEndpoint::Com,
    },
    CloudRow {
        cloud: Cloud::Gcc,
        abbr: "gcc",
        param_name: "US GCC",
        login: "https://login.microsoftonline.com",
        graph: "https://graph.microsoft.us/",
        arm: "https://management.usgovcloudapi.net/",
        management: "https://management.core.usgovcloudapi.net/",
        log_analytics: Some("https://api.loganalytics.us"),
        storage_suffix: "core.usgovcloudapi.net",
        defender: DefenderEndpoint::Gcc,
    },
    CloudRow {
        cloud: Cloud::GccHigh,
        abbr: "gcc-high",
        param_name: "US GCC-High",
        login: "https://login.microsoftonline.us",
        graph: "https://graph.microsoft.us/",
        arm: "https://management.usgovcloudapi.net/",
        management: "https://management.core.usgovcloudapi.net/",
        log_analytics: Some("https://api.loganalytics.us"),
        storage_suffix: "core.usgovcloudapi.net",
        defender: DefenderEndpoint::GccHigh,
    },
    CloudRow {
        cloud: Cloud::Dod,
        abbr: "dod",
        param_name: "DoD",
        login: "https://login.microsoftonline.us",
        graph: "https://dod-graph.microsoft.us/",
        arm: "https://management.usgovcloudapi.net/",
        management: "https://management.core.usgovcloudapi.net/",
        log_analytics: Some("https://api.loganalytics.us"),
        storage_suffix: "core.usgovcloudapi.net",
        defender: DefenderEndpoint::Dod,
    },
    CloudRow {
        cloud: Cloud::De,
        abbr: "de",
        param_name: "Germany",
        login: "https://login.microsoftonline.de",
        graph: "https://graph.microsoft.de",
        arm: "https://management.microsoftazure.de",
        management: "https://management.core.cloudapi.de/",
        log_analytics: None,
        storage_suffix: "core.cloudapi.de",
        defender: DefenderEndpoint::Com,
    },
    CloudRow {
        cloud: Cloud::Cn,
        abbr: "cn",
        param_name: "China",
        login: "https://login.chinacloudapi.cn",
        graph: "https://microsoftgraph.chinacloudapi.cn",
        arm: "https://management.chinacloudapi.cn",
        management: "https://management.core.chinacloudapi.cn/",
        log_analytics: Some("https://api.loganalytics.azure.cn"),
        storage_suffix: "core.chinacloudapi.cn",
        defender: DefenderEndpoint::Com,
    },
];

impl Cloud {
    /// Every named cloud (not `Custom`).
    pub const NAMED: [Cloud; 6] = [Cloud::Com, Cloud::Gcc, Cloud::GccHigh, Cloud::Dod, Cloud::De, Cloud::Cn];

    /// The table row (`Custom` starts from worldwide).
    pub fn row(self) -> &'static CloudRow {
        let want = if self == Cloud::Custom { Cloud::Com } else { self };
        CLOUDS.iter().find(|r| r.cloud == want).unwrap_or(&CLOUDS[0])
    }

    /// The reference's abbreviation (`custom` for [`Cloud::Custom`]).
    pub fn abbr(self) -> &'static str {
        if self == Cloud::Custom { "custom" } else { self.row().abbr }
    }

    /// Parses an `azure_cloud` value: a display name (`US GCC-High`) or an abbreviation
    /// (`gcc-high`), any case. `None` for an unknown name.
    pub fn parse(value: &str) -> Option<Cloud> {
        let v = value.trim();
        if v.eq_ignore_ascii_case("custom") {
            return Some(Cloud::Custom);
        }
        CLOUDS
            .iter()
            .find(|r| r.param_name.eq_ignore_ascii_case(v) || r.abbr.eq_ignore_ascii_case(v))
            .map(|r| r.cloud)
    }
}

/// Defender for Endpoint endpoint types (msapi.md §7, `MICROSOFT_DEFENDER_FOR_ENDPOINT_TYPE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DefenderEndpoint {
    /// Worldwide.
    Com,
    /// US Geo Proximity.
    GeoUs,
    /// EU Geo Proximity.
    GeoEu,
    /// UK Geo Proximity.
    GeoUk,
    /// US GCC.
    Gcc,
    /// US GCC-High.
    GccHigh,
    /// DoD.
    Dod,
    /// A URL given by the `url` param.
    Custom,
}

/// One row of the Defender table: (type, param value, abbreviation, API base, login, Graph, APT-service host).
const DEFENDER: [(DefenderEndpoint, &str, &str, &str, &str, &str, &str); 7] = [
    (
        DefenderEndpoint::Com,
        "Worldwide",
        "com",
        "https://api.securitycenter.microsoft.com",
        "https://login.microsoftonline.com",
        "https://graph.microsoft.com",
        "https://securitycenter.onmicrosoft.com",
    ),
    (
        DefenderEndpoint::GeoUs,
        "US Geo Proximity",
        "geo-us",
        "https://api.securitycenter.microsoft.com",
        "https://login.microsoftonline.com",
        "https://graph.microsoft.com",
        "https://securitycenter.onmicrosoft.com",
    ),
    (
        DefenderEndpoint::GeoEu,
        "EU Geo Proximity",
        "geo-eu",
        "https://api-eu.securitycenter.microsoft.com",
        "https://login.microsoftonline.com",
        "https://graph.microsoft.com",
        "https://securitycenter.onmicrosoft.com",
    ),
    (
        DefenderEndpoint::GeoUk,
        "UK Geo Proximity",
        "geo-uk",
        "https://api-uk.securitycenter.microsoft.com",
        "https://login.microsoftonline.com",
        "https://graph.microsoft.com",
        "https://securitycenter.onmicrosoft.com",
    ),
    (
        DefenderEndpoint::Gcc,
        "US GCC",
        "gcc",
        "https://api-gcc.securitycenter.microsoft.us",
        "https://login.microsoftonline.com",
        "https://graph.microsoft.com",
        "https://securitycenter.onmicrosoft.com",
    ),
    (
        DefenderEndpoint::GccHigh,
        "US GCC-High",
        "gcc-high",
        "https://api-gov.securitycenter.microsoft.us",
        "https://login.microsoftonline.us",
        "https://graph.microsoft.us",
        "https://securitycenter.onmicrosoft.us",
    ),
    (
        DefenderEndpoint::Dod,
        "DoD",
        "dod",
        "https://api-gov.securitycenter.microsoft.us",
        "https://login.microsoftonline.us",
        "https://dod-graph.microsoft.us",
        "https://securitycenter.onmicrosoft.us",
    ),
];

impl DefenderEndpoint {
    /// Every type except `Custom`.
    pub const NAMED: [DefenderEndpoint; 7] = [
        DefenderEndpoint::Com,
        DefenderEndpoint::GeoUs,
        DefenderEndpoint::GeoEu,
        DefenderEndpoint::GeoUk,
        DefenderEndpoint::Gcc,
        DefenderEndpoint::GccHigh,
        DefenderEndpoint::Dod,
    ];

    fn row(
        self,
    ) -> &'static (
        DefenderEndpoint,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
    ) {
        DEFENDER.iter().find(|r| r.0 == self).unwrap_or(&DEFENDER[0])
    }

    /// The abbreviation (`geo-eu`, ...; `custom`).
    pub fn abbr(self) -> &'static str {
        if self == DefenderEndpoint::Custom { "custom" } else { self.row().2 }
    }

    /// The API base URL (no trailing slash); `Custom` has none of its own (worldwide is returned).
    pub fn api(self) -> &'static str {
        self.row().3
    }

    /// Parses an endpoint type value (display name or abbreviation, any case).
    pub fn parse(value: &str) -> Option<DefenderEndpoint> {
        let v = value.trim();
        if v.eq_ignore_ascii_case("custom") {
            return Some(DefenderEndpoint::Custom);
        }
        DEFENDER.iter().find(|r| r.1.eq_ignore_ascii_case(v) || r.2.eq_ignore_ascii_case(v)).map(|r| r.0)
    }
}

/// The resolved base URLs of the configured cloud (no trailing slashes), custom URLs honoured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudEndpoints {
    /// The cloud.
    pub cloud: Cloud,
    /// The Defender endpoint type.
    pub defender_type: DefenderEndpoint,
    /// Login host, e.g. `https://login.microsoftonline.com`.
    pub login: String,
    /// Graph, e.g. `https://graph.microsoft.com`.
    pub graph: String,
    /// ARM, e.g. `https://management.azure.com`.
    pub arm: String,
    /// The v1 ARM resource id, e.g. `https://management.core.windows.net/`.
    pub management: String,
    /// Defender for Endpoint API, e.g. `https://api.securitycenter.microsoft.com`.
    pub defender: String,
    /// Defender's APT-service scope host, e.g. `https://securitycenter.onmicrosoft.com`.
    pub defender_scope_host: String,
    /// Log Analytics API, when the cloud has one.
    pub log_analytics: Option<String>,
    /// Storage endpoint suffix, e.g. `core.windows.net`.
    pub storage_suffix: String,
}

/// True for an identifier URI (`https://...`), false for an application id.
fn is_url(resource: &str) -> bool {
    resource.trim().contains("://")
}

fn strip(url: &str) -> String {
    url.trim().trim_end_matches('/').to_owned()
}

impl CloudEndpoints {
    /// The endpoints of a named cloud, unchanged.
    pub fn of(cloud: Cloud) -> CloudEndpoints {
        let r = cloud.row();
        let d = r.defender.row();
        CloudEndpoints {
            cloud,
            defender_type: r.defender,
            login: strip(r.login),
            graph: strip(r.graph),
            arm: strip(r.arm),
            management: r.management.to_owned(),
            defender: d.3.to_owned(),
            defender_scope_host: d.6.to_owned(),
            log_analytics: r.log_analytics.map(strip),
            storage_suffix: r.storage_suffix.to_owned(),
        }
    }

    /// Reads the cloud from params the way the reference's `get_azure_cloud` does, then the
    /// Defender endpoint type the way `microsoft_defender_for_endpoint_get_base_url` does.
    /// `need_defender` makes a `Custom` endpoint type without a URL an error.
    pub fn from_params(
        params: &Params,
        names: &ParamNames,
        need_defender: bool,
    ) -> Result<CloudEndpoints, Error> {
        let cloud_param = params.str(names.azure_cloud);
        let mut ep = match cloud_param.as_deref() {
            Some(v) if !v.eq_ignore_ascii_case("custom") => {
                let cloud = Cloud::parse(v).ok_or_else(|| {
                    let accepted: Vec<&str> = CLOUDS.iter().map(|r| r.param_name).collect();
                    Error::Config(format!(
                        "Unknown Azure cloud '{v}' in parameter {}. Use one of: {}, Custom.",
                        names.azure_cloud,
                        accepted.join(", ")
                    ))
                })?;
                CloudEndpoints::of(cloud)
            }
            // Empty or `Custom`: the backward-compatible branch; key presence decides.
            _ => {
                let mut ep = CloudEndpoints::of(Cloud::Com);
                if params.get(names.server_url).is_some() {
                    ep.cloud = Cloud::Custom;
                    ep.arm =
                        params.str(names.server_url).map(|s| strip(&s)).unwrap_or_else(|| ep.arm.clone());
                } else if params.get(names.azure_ad_endpoint).is_some() {
                    ep.cloud = Cloud::Custom;
                    ep.login = params
                        .str(names.azure_ad_endpoint)
                        .map(|s| strip(&s))
                        .unwrap_or_else(|| ep.login.clone());
                } else if names.graph_url.iter().any(|k| params.get(k).is_some()) {
                    ep.cloud = Cloud::Custom;
                    if let Some(u) = names.graph_url.iter().find_map(|k| params.str(k)) {
                        ep.graph = strip(&u);
                    }
                }
                ep
            }
        };
        // Defender for Endpoint: the endpoint type param (or the legacy GCC checkbox) wins over the cloud.
        let is_gcc = params.bool(names.is_gcc, false);
        let type_param = params.str(names.endpoint_type);
        let url = params.str(names.defender_url);
        let dtype = if is_gcc {
            Some(DefenderEndpoint::Gcc)
        } else if let Some(t) = type_param.as_deref() {
            Some(DefenderEndpoint::parse(t).ok_or_else(|| {
                let accepted: Vec<&str> = DEFENDER.iter().map(|r| r.1).collect();
                Error::Config(format!(
                    "Unknown endpoint type '{t}' in parameter {}. Use one of: {}, Custom.",
                    names.endpoint_type,
                    accepted.join(", ")
                ))
            })?)
        } else {
            None
        };
        match dtype {
            Some(DefenderEndpoint::Custom) => {
                ep.defender_type = DefenderEndpoint::Custom;
                match url {
                    Some(u) => ep.defender = strip(&u),
                    None if need_defender => {
                        return Err(Error::Config(
                            "Endpoint type is set to 'Custom' but no URL was provided.".into(),
                        ));
                    }
                    None => {}
                }
            }
            Some(t) => {
                let r = t.row();
                ep.defender_type = t;
                ep.defender = url.map(|u| strip(&u)).unwrap_or_else(|| r.3.to_owned());
                if cloud_param.is_none() {
                    ep.login = r.4.to_owned();
                    ep.graph = r.5.to_owned();
                }
                ep.defender_scope_host = r.6.to_owned();
            }
            // No type: the reference errors when neither a type nor a URL is set; a type
            // param that is absent altogether (older integrations) means worldwide.
            None => match url {
                Some(u) if need_defender => ep.defender = strip(&u),
                None if need_defender && params.get(names.endpoint_type).is_some() => {
                    return Err(Error::Config("'Endpoint Type' is not set and no URL was provided.".into()));
                }
                _ => {}
            },
        }
        Ok(ep)
    }

    /// The API base URL of `api` (no trailing slash). Storage has no single base: the
    /// integration builds `https://<account>.blob.<suffix>` itself; this returns the suffix's host form.
    pub fn base(&self, api: ApiKind) -> Result<String, Error> {
        Ok(match api {
            ApiKind::Graph => self.graph.clone(),
            ApiKind::Arm => self.arm.clone(),
            ApiKind::Defender => self.defender.clone(),
            ApiKind::LogAnalytics => self.log_analytics.clone().ok_or_else(|| {
                Error::Config(format!(
                    "The Log Analytics endpoint is not set for the {} cloud.",
                    self.cloud.abbr()
                ))
            })?,
            ApiKind::Storage => format!("https://blob.{}", self.storage_suffix),
            // A URL resource is its own base; an app-id resource has no host of its own, so the
            // integration must give full URLs.
            ApiKind::Resource(r) if is_url(r) => strip(r),
            ApiKind::Resource(r) => {
                return Err(Error::Config(format!(
                    "The resource {r} has no API host; the integration must call it with a full URL."
                )));
            }
        })
    }

    /// The v2 `.default` scope for app-only tokens to `api` (derived from the cloud).
    pub fn default_scope(&self, api: ApiKind) -> Result<String, Error> {
        Ok(match api {
            ApiKind::Defender => format!("{}/windowsatpservice/.default", self.defender_scope_host),
            ApiKind::Storage => "https://storage.azure.com/.default".to_owned(),
            ApiKind::Resource(r) => format!("{}/.default", strip(r)),
            other => format!("{}/.default", self.base(other)?),
        })
    }

    /// The v1 resource id (managed identities, the OAuth proxy's `resource`) for `api`.
    pub fn resource_id(&self, api: ApiKind) -> Result<String, Error> {
        Ok(match api {
            // The government endpoint types' own API host (the reference's
            // `managed_identities_resource_uri`); the geographies and a custom URL share the
            // worldwide identifier URI.
            ApiKind::Defender => match self.defender_type {
                t @ (DefenderEndpoint::Gcc | DefenderEndpoint::GccHigh | DefenderEndpoint::Dod) => {
                    format!("{}/", t.api())
                }
                _ => "https://api.securitycenter.microsoft.com/".to_owned(),
            },
            ApiKind::Storage => "https://storage.azure.com/".to_owned(),
            // IMDS takes an identifier URI with the usual trailing slash, an app id as it is.
            ApiKind::Resource(r) if is_url(r) => format!("{}/", strip(r)),
            ApiKind::Resource(r) => r.trim().to_owned(),
            other => format!("{}/", self.base(other)?),
        })
    }

    /// The resource prefix used to qualify short delegated scopes (`User.Read`).
    pub fn scope_prefix(&self, api: ApiKind) -> Result<String, Error> {
        Ok(match api {
            ApiKind::Defender => format!("{}/windowsatpservice", self.defender_scope_host),
            ApiKind::Storage => "https://storage.azure.com".to_owned(),
            ApiKind::Resource(r) => strip(r),
            other => self.base(other)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_resource_is_the_same_in_every_cloud() {
        let kusto = ApiKind::Resource("https://help.kusto.windows.net/");
        let devops = ApiKind::Resource("499b84ac-1321-427f-aa17-267ca6975798");
        for cloud in Cloud::NAMED {
            let ep = CloudEndpoints::of(cloud);
            assert_eq!(ep.default_scope(kusto).unwrap(), "https://help.kusto.windows.net/.default");
            assert_eq!(ep.resource_id(kusto).unwrap(), "https://help.kusto.windows.net/");
            assert_eq!(ep.scope_prefix(kusto).unwrap(), "https://help.kusto.windows.net");
            assert_eq!(ep.base(kusto).unwrap(), "https://help.kusto.windows.net");
            assert_eq!(ep.default_scope(devops).unwrap(), "499b84ac-1321-427f-aa17-267ca6975798/.default");
            assert_eq!(ep.resource_id(devops).unwrap(), "499b84ac-1321-427f-aa17-267ca6975798");
            let err = ep.base(devops).unwrap_err().to_string();
            assert!(err.contains("full URL"), "{err}");
        }
        assert_eq!(kusto.name(), "https://help.kusto.windows.net/");
    }
}
