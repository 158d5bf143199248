//! What each command takes and writes (the manifest): names, arguments, defaults, outputs.

use soar_core::{ArgSpec, OutputSpec};
use soar_integration_kit::spec::{BOOL, CommandKind, opt, out, req};

/// The commands this crate implements (the auth commands come from `soar-auth-commands`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `test-module`
    TestModule,
    /// `azure-storage-account-list`
    AccountList,
    /// `azure-storage-account-create-update`
    AccountCreateUpdate,
    /// `azure-storage-blob-service-properties-get`
    BlobServiceGet,
    /// `azure-storage-blob-service-properties-set`
    BlobServiceSet,
    /// `azure-storage-blob-containers-create`
    ContainerCreate,
    /// `azure-storage-blob-containers-update`
    ContainerUpdate,
    /// `azure-storage-blob-containers-list`
    ContainerList,
    /// `azure-storage-blob-container-delete`
    ContainerDelete,
    /// `azure-storage-subscriptions-list`
    SubscriptionsList,
    /// `azure-storage-resource-group-list`
    ResourceGroupList,
}

impl Kind {
    /// All of them, in the reference's YAML order.
    pub const ALL: [Kind; 11] = [
        Kind::TestModule,
        Kind::AccountList,
        Kind::AccountCreateUpdate,
        Kind::BlobServiceGet,
        Kind::BlobServiceSet,
        Kind::ContainerCreate,
        Kind::ContainerUpdate,
        Kind::ContainerList,
        Kind::ContainerDelete,
        Kind::SubscriptionsList,
        Kind::ResourceGroupList,
    ];
}

impl CommandKind for Kind {
    /// The command name.
    fn name(self) -> &'static str {
        match self {
            Kind::TestModule => "test-module",
            Kind::AccountList => "azure-storage-account-list",
            Kind::AccountCreateUpdate => "azure-storage-account-create-update",
            Kind::BlobServiceGet => "azure-storage-blob-service-properties-get",
            Kind::BlobServiceSet => "azure-storage-blob-service-properties-set",
            Kind::ContainerCreate => "azure-storage-blob-containers-create",
            Kind::ContainerUpdate => "azure-storage-blob-containers-update",
            Kind::ContainerList => "azure-storage-blob-containers-list",
            Kind::ContainerDelete => "azure-storage-blob-container-delete",
            Kind::SubscriptionsList => "azure-storage-subscriptions-list",
            Kind::ResourceGroupList => "azure-storage-resource-group-list",
        }
    }

    /// One sentence on what it does.
    fn description(self) -> &'static str {
        match self {
            Kind::TestModule => {
                "Checks the configuration (managed identities only; other flows say which command to run)."
            }
            Kind::AccountList => {
                "Gets one storage account, or lists the storage accounts of a resource group."
            }
            Kind::AccountCreateUpdate => "Creates a storage account, or updates an existing one.",
            Kind::BlobServiceGet => "Gets the blob service properties of a storage account.",
            Kind::BlobServiceSet => "Sets the blob service properties of a storage account.",
            Kind::ContainerCreate => "Creates a blob container.",
            Kind::ContainerUpdate => "Updates the properties of a blob container.",
            Kind::ContainerList => {
                "Gets one blob container, or lists the blob containers of a storage account."
            }
            Kind::ContainerDelete => "Deletes a blob container.",
            Kind::SubscriptionsList => "Lists the subscriptions the identity can see.",
            Kind::ResourceGroupList => "Lists the resource groups of a subscription.",
        }
    }

    /// The arguments.
    fn args(self) -> Vec<ArgSpec> {
        let scope = || {
            vec![
                opt("resource_group_name", "The resource group; overrides the instance's default."),
                opt("subscription_id", "The subscription ID; overrides the instance's default."),
            ]
        };
        let account = || req("account_name", "The storage account name.");
        let container_props = || {
            vec![
                opt("default_encryption_scope", "The default encryption scope for the container."),
                ArgSpec {
                    options: BOOL,
                    ..opt(
                        "deny_encryption_scope_override",
                        "Whether blobs may not override the default scope.",
                    )
                },
                ArgSpec {
                    options: &["Blob", "Container", "None"],
                    ..opt("public_access", "The level of anonymous read access.")
                },
            ]
        };
        match self {
            Kind::TestModule | Kind::SubscriptionsList => vec![],
            Kind::AccountList => {
                let mut v = vec![opt(
                    "account_name",
                    "The storage account name; empty lists all of the resource group.",
                )];
                v.extend(scope());
                v
            }
            Kind::AccountCreateUpdate => {
                let mut v = scope();
                v.extend([
                    req("account_name", "The storage account name (3-24 lower-case letters and digits)."),
                    ArgSpec { options: SKUS, ..req("sku", "The SKU name.") },
                    ArgSpec {
                        options: &["Storage", "StorageV2", "BlobStorage", "FileStorage", "BlockBlobStorage"],
                        ..req("kind", "The kind of storage account.")
                    },
                    ArgSpec { options: LOCATIONS, ..req("location", "The Azure region.") },
                    ArgSpec {
                        is_array: true,
                        ..opt("tags", "Tag values, comma-separated (named tag1, tag2, ...).")
                    },
                    opt("custom_domain_name", "The custom domain name."),
                    ArgSpec {
                        options: BOOL,
                        ..opt("use_sub_domain_name", "Whether to use indirect CName validation.")
                    },
                    ArgSpec {
                        options: &["Microsoft.Storage", "Microsoft.Keyvault"],
                        ..opt("enc_key_source", "The encryption key source.")
                    },
                    ArgSpec {
                        options: BOOL,
                        ..opt(
                            "enc_requireInfrastructureEncryption",
                            "Whether to add a second layer of encryption.",
                        )
                    },
                    opt("enc_keyvault_key_name", "The Key Vault key name."),
                    opt("enc_keyvault_key_version", "The Key Vault key version."),
                    opt("enc_keyvault_uri", "The Key Vault URI."),
                    ArgSpec {
                        options: &["Hot", "Cool"],
                        ..opt("access_tier", "The access tier (BlobStorage accounts).")
                    },
                    ArgSpec {
                        options: BOOL,
                        ..opt("supports_https_traffic_only", "Whether only HTTPS is allowed.")
                    },
                    ArgSpec {
                        options: BOOL,
                        ..opt("is_hns_enabled", "Whether the hierarchical namespace is on.")
                    },
                    ArgSpec {
                        options: &["Disabled", "Enabled"],
                        ..opt("large_file_shares_state", "Whether large file shares are allowed.")
                    },
                    ArgSpec {
                        options: BOOL,
                        ..opt("allow_blob_public_access", "Whether public access to blobs is allowed.")
                    },
                    ArgSpec {
                        options: &["TLS1_0", "TLS1_1", "TLS1_2"],
                        ..opt("minimum_tls_version", "The minimum TLS version.")
                    },
                    ArgSpec {
                        is_array: true,
                        options: &["AzureServices", "Logging", "Metrics", "None"],
                        ..opt("network_ruleset_bypass", "The traffic that bypasses the network rules.")
                    },
                    opt("network_ruleset_default_action", "The default network action (Allow or Deny)."),
                    opt(
                        "network_ruleset_ipRules",
                        "The IP rules, as JSON, e.g. [{\"value\": \"1.1.1.1\", \"action\": \"Allow\"}].",
                    ),
                    opt("virtual_network_rules", "The virtual network rules, as JSON."),
                ]);
                v
            }
            Kind::BlobServiceGet => {
                let mut v = vec![account()];
                v.extend(scope());
                v
            }
            Kind::BlobServiceSet => {
                let mut v = vec![account()];
                v.extend(scope());
                v.extend([
                    ArgSpec { options: BOOL, ..opt("change_feed_enabled", "Whether the change feed is on.") },
                    opt("change_feed_retention_days", "How many days the change feed is kept."),
                    ArgSpec {
                        options: BOOL,
                        ..opt(
                            "container_delete_rentention_policy_enabled",
                            "Whether deleted containers are kept.",
                        )
                    },
                    opt(
                        "container_delete_rentention_policy_days",
                        "How many days deleted containers are kept.",
                    ),
                    ArgSpec {
                        options: BOOL,
                        ..opt("delete_rentention_policy_enabled", "Whether deleted blobs are kept.")
                    },
                    opt("delete_rentention_policy_days", "How many days deleted blobs are kept."),
                    ArgSpec { options: BOOL, ..opt("versioning", "Whether blob versioning is on.") },
                    ArgSpec {
                        options: BOOL,
                        ..opt(
                            "last_access_time_tracking_policy_enabled",
                            "Whether last access time is tracked.",
                        )
                    },
                    ArgSpec {
                        is_array: true,
                        ..opt(
                            "last_access_time_tracking_policy_blob_types",
                            "The blob types tracked, e.g. blockBlob.",
                        )
                    },
                    opt("last_access_time_tracking_policy_days", "The tracking granularity, in days."),
                    ArgSpec {
                        options: BOOL,
                        ..opt("restore_policy_enabled", "Whether point-in-time restore is on.")
                    },
                    opt(
                        "restore_policy_min_restore_time",
                        "The earliest restore point (read only in Azure).",
                    ),
                    opt("restore_policy_days", "How many days a blob can be restored."),
                ]);
                v
            }
            Kind::ContainerCreate | Kind::ContainerUpdate => {
                let mut v = vec![account(), req("container_name", "The blob container name.")];
                v.extend(scope());
                v.extend(container_props());
                v
            }
            Kind::ContainerList => {
                let mut v = vec![
                    account(),
                    opt("container_name", "A container name, to get one container only."),
                    ArgSpec {
                        options: BOOL,
                        ..opt("include_deleted", "Whether to include soft-deleted containers.")
                    },
                    opt("maxpagesize", "The most containers to return."),
                ];
                v.extend(scope());
                v
            }
            Kind::ContainerDelete => {
                let mut v = vec![account(), req("container_name", "The blob container name.")];
                v.extend(scope());
                v
            }
            Kind::ResourceGroupList => vec![
                opt("subscription_id", "The subscription ID; overrides the instance's default."),
                ArgSpec { default: Some("50"), ..opt("limit", "The most resource groups to return.") },
                opt("tag", "Only groups with this tag, as JSON: {\"Tag Name\":\"Tag Value\"}."),
            ],
        }
    }

    /// The context outputs.
    fn outputs(self) -> Vec<OutputSpec> {
        match self {
            Kind::AccountList | Kind::AccountCreateUpdate => account_outputs(),
            Kind::BlobServiceGet => {
                vec![
                    out("AzureStorage.BlobServiceProperties.id", "String", "The resource ID."),
                    out("AzureStorage.BlobServiceProperties.name", "String", "The resource name."),
                    out("AzureStorage.BlobServiceProperties.type", "String", "The resource type."),
                    out(
                        "AzureStorage.BlobServiceProperties.properties.lastAccessTimeTrackingPolicy.enable",
                        "Boolean",
                        "Whether last access time tracking is on.",
                    ),
                    out(
                        "AzureStorage.BlobServiceProperties.properties.lastAccessTimeTrackingPolicy.name",
                        "String",
                        "The tracking policy name.",
                    ),
                    out(
                        "AzureStorage.BlobServiceProperties.properties.lastAccessTimeTrackingPolicy.trackingGranularityInDays",
                        "Number",
                        "The tracking granularity, in days.",
                    ),
                    out(
                        "AzureStorage.BlobServiceProperties.properties.lastAccessTimeTrackingPolicy.blobType",
                        "String",
                        "The blob types tracked.",
                    ),
                ]
            }
            Kind::BlobServiceSet => vec![
                out("AzureStorage.BlobServiceProperties.id", "String", "The resource ID."),
                out("AzureStorage.BlobServiceProperties.name", "String", "The resource name."),
                out("AzureStorage.BlobServiceProperties.type", "String", "The resource type."),
                out(
                    "AzureStorage.BlobServiceProperties.properties.cors.corsRules.allowedOrigins",
                    "String",
                    "The origins allowed by CORS.",
                ),
                out(
                    "AzureStorage.BlobServiceProperties.properties.cors.corsRules.allowedMethods",
                    "String",
                    "The methods allowed by CORS.",
                ),
                out(
                    "AzureStorage.BlobServiceProperties.properties.cors.corsRules.exposedHeaders",
                    "String",
                    "The response headers exposed by CORS.",
                ),
                out(
                    "AzureStorage.BlobServiceProperties.properties.cors.corsRules.allowedHeaders",
                    "String",
                    "The request headers allowed by CORS.",
                ),
                out(
                    "AzureStorage.BlobServiceProperties.properties.cors.corsRules.maxAgeInSeconds",
                    "Number",
                    "How long a preflight answer is cached.",
                ),
                out(
                    "AzureStorage.BlobServiceProperties.properties.defaultServiceVersion",
                    "Date",
                    "The default service version.",
                ),
                out(
                    "AzureStorage.BlobServiceProperties.properties.deleteRetentionPolicy.enabled",
                    "Boolean",
                    "Whether deleted blobs are kept.",
                ),
                out(
                    "AzureStorage.BlobServiceProperties.properties.deleteRetentionPolicy.days",
                    "Number",
                    "How many days deleted blobs are kept.",
                ),
                out(
                    "AzureStorage.BlobServiceProperties.properties.isVersioningEnabled",
                    "Boolean",
                    "Whether versioning is on.",
                ),
                out(
                    "AzureStorage.BlobServiceProperties.properties.changeFeed.enabled",
                    "Boolean",
                    "Whether the change feed is on.",
                ),
                out(
                    "AzureStorage.BlobServiceProperties.properties.changeFeed.retentionInDays",
                    "Number",
                    "How many days the change feed is kept.",
                ),
                out("AzureStorage.BlobServiceProperties.sku.name", "String", "The SKU name."),
                out("AzureStorage.BlobServiceProperties.sku.tier", "String", "The SKU tier."),
            ],
            Kind::ContainerCreate => vec![
                out("AzureStorage.BlobContainer.id", "String", "The container's resource ID."),
                out("AzureStorage.BlobContainer.name", "String", "The container name."),
                out("AzureStorage.BlobContainer.type", "String", "The resource type."),
            ],
            Kind::ContainerUpdate => vec![
                out("AzureStorage.BlobContainer.id", "String", "The container's resource ID."),
                out("AzureStorage.BlobContainer.name", "String", "The container name."),
                out("AzureStorage.BlobContainer.type", "String", "The resource type."),
                out(
                    "AzureStorage.BlobContainer.properties.metadata.metadata",
                    "String",
                    "The container metadata.",
                ),
                out(
                    "AzureStorage.BlobContainer.properties.publicAccess",
                    "String",
                    "The level of anonymous read access.",
                ),
                out(
                    "AzureStorage.BlobContainer.properties.hasImmutabilityPolicy",
                    "Boolean",
                    "Whether an immutability policy is set.",
                ),
                out(
                    "AzureStorage.BlobContainer.properties.hasLegalHold",
                    "Boolean",
                    "Whether a legal hold is set.",
                ),
            ],
            Kind::ContainerList => vec![
                out("AzureStorage.BlobContainer.id", "String", "The container's resource ID."),
                out("AzureStorage.BlobContainer.name", "String", "The container name."),
                out("AzureStorage.BlobContainer.type", "String", "The resource type."),
                out(
                    "AzureStorage.BlobContainer.properties.publicAccess",
                    "String",
                    "The level of anonymous read access.",
                ),
                out("AzureStorage.BlobContainer.properties.leaseStatus", "String", "The lease status."),
                out("AzureStorage.BlobContainer.properties.leaseState", "String", "The lease state."),
                out(
                    "AzureStorage.BlobContainer.properties.lastModifiedTime",
                    "Date",
                    "When the container last changed.",
                ),
                out(
                    "AzureStorage.BlobContainer.properties.hasImmutabilityPolicy",
                    "Boolean",
                    "Whether an immutability policy is set.",
                ),
                out(
                    "AzureStorage.BlobContainer.properties.hasLegalHold",
                    "Boolean",
                    "Whether a legal hold is set.",
                ),
            ],
            Kind::SubscriptionsList => vec![
                out("AzureStorage.Subscription.id", "String", "The subscription's resource ID."),
                out(
                    "AzureStorage.Subscription.authorizationSource",
                    "String",
                    "How access to it was granted.",
                ),
                out("AzureStorage.Subscription.managedByTenants", "Unknown", "The tenants that manage it."),
                out("AzureStorage.Subscription.subscriptionId", "String", "The subscription ID."),
                out("AzureStorage.Subscription.tenantId", "String", "The tenant ID."),
                out("AzureStorage.Subscription.displayName", "String", "The display name."),
                out("AzureStorage.Subscription.state", "String", "The state, e.g. Enabled."),
                out(
                    "AzureStorage.Subscription.subscriptionPolicies.locationPlacementId",
                    "String",
                    "The placement ID.",
                ),
                out("AzureStorage.Subscription.subscriptionPolicies.quotaId", "String", "The quota ID."),
                out(
                    "AzureStorage.Subscription.subscriptionPolicies.spendingLimit",
                    "String",
                    "The spending limit.",
                ),
                out("AzureStorage.Subscription.count.type", "String", "The count type."),
                out("AzureStorage.Subscription.count.value", "Number", "The count value."),
            ],
            Kind::ResourceGroupList => vec![
                out("AzureStorage.ResourceGroup.id", "String", "The resource group's ID."),
                out("AzureStorage.ResourceGroup.name", "String", "The resource group name."),
                out("AzureStorage.ResourceGroup.type", "String", "The resource type."),
                out("AzureStorage.ResourceGroup.location", "String", "The region."),
                out(
                    "AzureStorage.ResourceGroup.properties.provisioningState",
                    "String",
                    "The provisioning state.",
                ),
                out("AzureStorage.ResourceGroup.tags.Owner", "String", "The Owner tag."),
                out("AzureStorage.ResourceGroup.tags", "Unknown", "The tags."),
                out("AzureStorage.ResourceGroup.tags.Name", "String", "The Name tag."),
                out("AzureStorage.ResourceGroup.managedBy", "String", "The resource that manages the group."),
                out(
                    "AzureStorage.ResourceGroup.tags.aks-managed-cluster-name",
                    "String",
                    "The AKS cluster name tag.",
                ),
                out(
                    "AzureStorage.ResourceGroup.tags.aks-managed-cluster-rg",
                    "String",
                    "The AKS cluster resource group tag.",
                ),
                out("AzureStorage.ResourceGroup.tags.type", "String", "The type tag."),
            ],
            Kind::TestModule | Kind::ContainerDelete => vec![],
        }
    }
}

fn account_outputs() -> Vec<OutputSpec> {
    let rows: &[(&'static str, &'static str, &'static str)] = &[
        ("AzureStorage.StorageAccount.id", "String", "The account's resource ID."),
        ("AzureStorage.StorageAccount.kind", "String", "The kind of account."),
        ("AzureStorage.StorageAccount.location", "String", "The region."),
        ("AzureStorage.StorageAccount.name", "String", "The account name."),
        (
            "AzureStorage.StorageAccount.properties.isHnsEnabled",
            "Boolean",
            "Whether the hierarchical namespace is on.",
        ),
        (
            "AzureStorage.StorageAccount.properties.allowBlobPublicAccess",
            "Boolean",
            "Whether public blob access is allowed.",
        ),
        ("AzureStorage.StorageAccount.properties.minimumTlsVersion", "String", "The minimum TLS version."),
        (
            "AzureStorage.StorageAccount.properties.allowSharedKeyAccess",
            "Boolean",
            "Whether shared key access is allowed.",
        ),
        ("AzureStorage.StorageAccount.properties.creationTime", "Date", "When the account was created."),
        ("AzureStorage.StorageAccount.properties.primaryEndpoints.web", "String", "The web endpoint."),
        ("AzureStorage.StorageAccount.properties.primaryEndpoints.dfs", "String", "The DFS endpoint."),
        ("AzureStorage.StorageAccount.properties.primaryEndpoints.blob", "String", "The blob endpoint."),
        ("AzureStorage.StorageAccount.properties.primaryEndpoints.file", "String", "The file endpoint."),
        ("AzureStorage.StorageAccount.properties.primaryEndpoints.queue", "String", "The queue endpoint."),
        ("AzureStorage.StorageAccount.properties.primaryEndpoints.table", "String", "The table endpoint."),
        (
            "AzureStorage.StorageAccount.properties.primaryEndpoints.microsoftEndpoints.web",
            "String",
            "The Microsoft-routed web endpoint.",
        ),
        (
            "AzureStorage.StorageAccount.properties.primaryEndpoints.microsoftEndpoints.dfs",
            "String",
            "The Microsoft-routed DFS endpoint.",
        ),
        (
            "AzureStorage.StorageAccount.properties.primaryEndpoints.microsoftEndpoints.blob",
            "String",
            "The Microsoft-routed blob endpoint.",
        ),
        (
            "AzureStorage.StorageAccount.properties.primaryEndpoints.microsoftEndpoints.file",
            "String",
            "The Microsoft-routed file endpoint.",
        ),
        (
            "AzureStorage.StorageAccount.properties.primaryEndpoints.microsoftEndpoints.queue",
            "String",
            "The Microsoft-routed queue endpoint.",
        ),
        (
            "AzureStorage.StorageAccount.properties.primaryEndpoints.microsoftEndpoints.table",
            "String",
            "The Microsoft-routed table endpoint.",
        ),
        (
            "AzureStorage.StorageAccount.properties.primaryEndpoints.internetEndpoints.web",
            "String",
            "The internet-routed web endpoint.",
        ),
        (
            "AzureStorage.StorageAccount.properties.primaryEndpoints.internetEndpoints.dfs",
            "String",
            "The internet-routed DFS endpoint.",
        ),
        (
            "AzureStorage.StorageAccount.properties.primaryEndpoints.internetEndpoints.blob",
            "String",
            "The internet-routed blob endpoint.",
        ),
        (
            "AzureStorage.StorageAccount.properties.primaryEndpoints.internetEndpoints.file",
            "String",
            "The internet-routed file endpoint.",
        ),
        ("AzureStorage.StorageAccount.properties.primaryLocation", "String", "The primary region."),
        ("AzureStorage.StorageAccount.properties.provisioningState", "String", "The provisioning state."),
        (
            "AzureStorage.StorageAccount.properties.routingPreference.routingChoice",
            "String",
            "The routing choice.",
        ),
        (
            "AzureStorage.StorageAccount.properties.routingPreference.publishMicrosoftEndpoints",
            "Boolean",
            "Whether Microsoft-routed endpoints are published.",
        ),
        (
            "AzureStorage.StorageAccount.properties.routingPreference.publishInternetEndpoints",
            "Boolean",
            "Whether internet-routed endpoints are published.",
        ),
        (
            "AzureStorage.StorageAccount.properties.encryption.services.file.keyType",
            "String",
            "The file encryption key type.",
        ),
        (
            "AzureStorage.StorageAccount.properties.encryption.services.file.enabled",
            "Boolean",
            "Whether file encryption is on.",
        ),
        (
            "AzureStorage.StorageAccount.properties.encryption.services.file.lastEnabledTime",
            "Date",
            "When file encryption was last turned on.",
        ),
        (
            "AzureStorage.StorageAccount.properties.encryption.services.blob.keyType",
            "String",
            "The blob encryption key type.",
        ),
        (
            "AzureStorage.StorageAccount.properties.encryption.services.blob.enabled",
            "Boolean",
            "Whether blob encryption is on.",
        ),
        (
            "AzureStorage.StorageAccount.properties.encryption.services.blob.lastEnabledTime",
            "Date",
            "When blob encryption was last turned on.",
        ),
        (
            "AzureStorage.StorageAccount.properties.encryption.requireInfrastructureEncryption",
            "Boolean",
            "Whether infrastructure encryption is required.",
        ),
        (
            "AzureStorage.StorageAccount.properties.encryption.keySource",
            "String",
            "The encryption key source.",
        ),
        ("AzureStorage.StorageAccount.properties.secondaryLocation", "String", "The secondary region."),
        (
            "AzureStorage.StorageAccount.properties.statusOfPrimary",
            "String",
            "The status of the primary region.",
        ),
        (
            "AzureStorage.StorageAccount.properties.statusOfSecondary",
            "String",
            "The status of the secondary region.",
        ),
        (
            "AzureStorage.StorageAccount.properties.supportsHttpsTrafficOnly",
            "Boolean",
            "Whether only HTTPS is allowed.",
        ),
        ("AzureStorage.StorageAccount.sku.name", "String", "The SKU name."),
        ("AzureStorage.StorageAccount.sku.tier", "String", "The SKU tier."),
        ("AzureStorage.StorageAccount.tags", "Unknown", "The tags."),
        ("AzureStorage.StorageAccount.type", "String", "The resource type."),
    ];
    rows.iter().map(|(p, t, d)| out(p, t, d)).collect()
}

const SKUS: &[&str] = &[
    "Premium_LRS",
    "Premium_ZRS",
    "Standard_GRS",
    "Standard_GZRS",
    "Standard_LRS",
    "Standard_RAGRS",
    "Standard_RAGZRS",
    "Standard_ZRS",
];

const LOCATIONS: &[&str] = &[
    "eastus",
    "eastus2",
    "westus",
    "westeurope",
    "eastasia",
    "southeastasia",
    "japaneast",
    "japanwest",
    "northcentralus",
    "southcentralus",
    "centralus",
    "northeurope",
    "brazilsouth",
    "australiaeast",
    "australiasoutheast",
    "southindia",
    "centralindia",
    "westindia",
    "canadaeast",
    "canadacentral",
    "westus2",
    "westcentralus",
    "uksouth",
    "ukwest",
    "koreacentral",
    "koreasouth",
    "francecentral",
    "australiacentral",
    "southafricanorth",
    "uaenorth",
    "switzerlandnorth",
    "germanywestcentral",
    "norwayeast",
];
