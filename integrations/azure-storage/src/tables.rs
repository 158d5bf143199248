//! Declaration data: the context outputs of the commands (the reference YAML's paths and types, in its order) and the option lists of the account arguments.

use soar_integration_kit::{OutputSpec, out};

/// The outputs of the storage account commands (list and create-update).
pub const ACCOUNT: &[OutputSpec] = &[
    out("AzureStorage.StorageAccount.id", "String", "The account's resource ID."),
    out("AzureStorage.StorageAccount.kind", "String", "The kind of account."),
    out("AzureStorage.StorageAccount.location", "String", "The region."),
    out("AzureStorage.StorageAccount.name", "String", "The account name."),
    out(
        "AzureStorage.StorageAccount.properties.isHnsEnabled",
        "Boolean",
        "Whether the hierarchical namespace is on.",
    ),
    out(
        "AzureStorage.StorageAccount.properties.allowBlobPublicAccess",
        "Boolean",
        "Whether public blob access is allowed.",
    ),
    out("AzureStorage.StorageAccount.properties.minimumTlsVersion", "String", "The minimum TLS version."),
    out(
        "AzureStorage.StorageAccount.properties.allowSharedKeyAccess",
        "Boolean",
        "Whether shared key access is allowed.",
    ),
    out("AzureStorage.StorageAccount.properties.creationTime", "Date", "When the account was created."),
    out("AzureStorage.StorageAccount.properties.primaryEndpoints.web", "String", "The web endpoint."),
    out("AzureStorage.StorageAccount.properties.primaryEndpoints.dfs", "String", "The DFS endpoint."),
    out("AzureStorage.StorageAccount.properties.primaryEndpoints.blob", "String", "The blob endpoint."),
    out("AzureStorage.StorageAccount.properties.primaryEndpoints.file", "String", "The file endpoint."),
    out("AzureStorage.StorageAccount.properties.primaryEndpoints.queue", "String", "The queue endpoint."),
    out("AzureStorage.StorageAccount.properties.primaryEndpoints.table", "String", "The table endpoint."),
    out(
        "AzureStorage.StorageAccount.properties.primaryEndpoints.microsoftEndpoints.web",
        "String",
        "The Microsoft-routed web endpoint.",
    ),
    out(
        "AzureStorage.StorageAccount.properties.primaryEndpoints.microsoftEndpoints.dfs",
        "String",
        "The Microsoft-routed DFS endpoint.",
    ),
    out(
        "AzureStorage.StorageAccount.properties.primaryEndpoints.microsoftEndpoints.blob",
        "String",
        "The Microsoft-routed blob endpoint.",
    ),
    out(
        "AzureStorage.StorageAccount.properties.primaryEndpoints.microsoftEndpoints.file",
        "String",
        "The Microsoft-routed file endpoint.",
    ),
    out(
        "AzureStorage.StorageAccount.properties.primaryEndpoints.microsoftEndpoints.queue",
        "String",
        "The Microsoft-routed queue endpoint.",
    ),
    out(
        "AzureStorage.StorageAccount.properties.primaryEndpoints.microsoftEndpoints.table",
        "String",
        "The Microsoft-routed table endpoint.",
    ),
    out(
        "AzureStorage.StorageAccount.properties.primaryEndpoints.internetEndpoints.web",
        "String",
        "The internet-routed web endpoint.",
    ),
    out(
        "AzureStorage.StorageAccount.properties.primaryEndpoints.internetEndpoints.dfs",
        "String",
        "The internet-routed DFS endpoint.",
    ),
    out(
        "AzureStorage.StorageAccount.properties.primaryEndpoints.internetEndpoints.blob",
        "String",
        "The internet-routed blob endpoint.",
    ),
    out(
        "AzureStorage.StorageAccount.properties.primaryEndpoints.internetEndpoints.file",
        "String",
        "The internet-routed file endpoint.",
    ),
    out("AzureStorage.StorageAccount.properties.primaryLocation", "String", "The primary region."),
    out("AzureStorage.StorageAccount.properties.provisioningState", "String", "The provisioning state."),
    out(
        "AzureStorage.StorageAccount.properties.routingPreference.routingChoice",
        "String",
        "The routing choice.",
    ),
    out(
        "AzureStorage.StorageAccount.properties.routingPreference.publishMicrosoftEndpoints",
        "Boolean",
        "Whether Microsoft-routed endpoints are published.",
    ),
    out(
        "AzureStorage.StorageAccount.properties.routingPreference.publishInternetEndpoints",
        "Boolean",
        "Whether internet-routed endpoints are published.",
    ),
    out(
        "AzureStorage.StorageAccount.properties.encryption.services.file.keyType",
        "String",
        "The file encryption key type.",
    ),
    out(
        "AzureStorage.StorageAccount.properties.encryption.services.file.enabled",
        "Boolean",
        "Whether file encryption is on.",
    ),
    out(
        "AzureStorage.StorageAccount.properties.encryption.services.file.lastEnabledTime",
        "Date",
        "When file encryption was last turned on.",
    ),
    out(
        "AzureStorage.StorageAccount.properties.encryption.services.blob.keyType",
        "String",
        "The blob encryption key type.",
    ),
    out(
        "AzureStorage.StorageAccount.properties.encryption.services.blob.enabled",
        "Boolean",
        "Whether blob encryption is on.",
    ),
    out(
        "AzureStorage.StorageAccount.properties.encryption.services.blob.lastEnabledTime",
        "Date",
        "When blob encryption was last turned on.",
    ),
    out(
        "AzureStorage.StorageAccount.properties.encryption.requireInfrastructureEncryption",
        "Boolean",
        "Whether infrastructure encryption is required.",
    ),
    out(
        "AzureStorage.StorageAccount.properties.encryption.keySource",
        "String",
        "The encryption key source.",
    ),
    out("AzureStorage.StorageAccount.properties.secondaryLocation", "String", "The secondary region."),
    out(
        "AzureStorage.StorageAccount.properties.statusOfPrimary",
        "String",
        "The status of the primary region.",
    ),
    out(
        "AzureStorage.StorageAccount.properties.statusOfSecondary",
        "String",
        "The status of the secondary region.",
    ),
    out(
        "AzureStorage.StorageAccount.properties.supportsHttpsTrafficOnly",
        "Boolean",
        "Whether only HTTPS is allowed.",
    ),
    out("AzureStorage.StorageAccount.sku.name", "String", "The SKU name."),
    out("AzureStorage.StorageAccount.sku.tier", "String", "The SKU tier."),
    out("AzureStorage.StorageAccount.tags", "Unknown", "The tags."),
    out("AzureStorage.StorageAccount.type", "String", "The resource type."),
];

/// The outputs of `azure-storage-blob-service-properties-get`.
pub const BLOB_SERVICE_GET: &[OutputSpec] = &[
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
];

/// The outputs of `azure-storage-blob-service-properties-set`.
pub const BLOB_SERVICE_SET: &[OutputSpec] = &[
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
];

/// The outputs of `azure-storage-blob-containers-create`.
pub const CONTAINER_CREATE: &[OutputSpec] = &[
    out("AzureStorage.BlobContainer.id", "String", "The container's resource ID."),
    out("AzureStorage.BlobContainer.name", "String", "The container name."),
    out("AzureStorage.BlobContainer.type", "String", "The resource type."),
];

/// The outputs of `azure-storage-blob-containers-update`.
pub const CONTAINER_UPDATE: &[OutputSpec] = &[
    out("AzureStorage.BlobContainer.id", "String", "The container's resource ID."),
    out("AzureStorage.BlobContainer.name", "String", "The container name."),
    out("AzureStorage.BlobContainer.type", "String", "The resource type."),
    out("AzureStorage.BlobContainer.properties.metadata.metadata", "String", "The container metadata."),
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
    out("AzureStorage.BlobContainer.properties.hasLegalHold", "Boolean", "Whether a legal hold is set."),
];

/// The outputs of `azure-storage-blob-containers-list`.
pub const CONTAINER_LIST: &[OutputSpec] = &[
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
    out("AzureStorage.BlobContainer.properties.lastModifiedTime", "Date", "When the container last changed."),
    out(
        "AzureStorage.BlobContainer.properties.hasImmutabilityPolicy",
        "Boolean",
        "Whether an immutability policy is set.",
    ),
    out("AzureStorage.BlobContainer.properties.hasLegalHold", "Boolean", "Whether a legal hold is set."),
];

/// The outputs of `azure-storage-subscriptions-list`.
pub const SUBSCRIPTIONS: &[OutputSpec] = &[
    out("AzureStorage.Subscription.id", "String", "The subscription's resource ID."),
    out("AzureStorage.Subscription.authorizationSource", "String", "How access to it was granted."),
    out("AzureStorage.Subscription.managedByTenants", "Unknown", "The tenants that manage it."),
    out("AzureStorage.Subscription.subscriptionId", "String", "The subscription ID."),
    out("AzureStorage.Subscription.tenantId", "String", "The tenant ID."),
    out("AzureStorage.Subscription.displayName", "String", "The display name."),
    out("AzureStorage.Subscription.state", "String", "The state, e.g. Enabled."),
    out("AzureStorage.Subscription.subscriptionPolicies.locationPlacementId", "String", "The placement ID."),
    out("AzureStorage.Subscription.subscriptionPolicies.quotaId", "String", "The quota ID."),
    out("AzureStorage.Subscription.subscriptionPolicies.spendingLimit", "String", "The spending limit."),
    out("AzureStorage.Subscription.count.type", "String", "The count type."),
    out("AzureStorage.Subscription.count.value", "Number", "The count value."),
];

/// The outputs of `azure-storage-resource-group-list`.
pub const RESOURCE_GROUPS: &[OutputSpec] = &[
    out("AzureStorage.ResourceGroup.id", "String", "The resource group's ID."),
    out("AzureStorage.ResourceGroup.name", "String", "The resource group name."),
    out("AzureStorage.ResourceGroup.type", "String", "The resource type."),
    out("AzureStorage.ResourceGroup.location", "String", "The region."),
    out("AzureStorage.ResourceGroup.properties.provisioningState", "String", "The provisioning state."),
    out("AzureStorage.ResourceGroup.tags.Owner", "String", "The Owner tag."),
    out("AzureStorage.ResourceGroup.tags", "Unknown", "The tags."),
    out("AzureStorage.ResourceGroup.tags.Name", "String", "The Name tag."),
    out("AzureStorage.ResourceGroup.managedBy", "String", "The resource that manages the group."),
    out("AzureStorage.ResourceGroup.tags.aks-managed-cluster-name", "String", "The AKS cluster name tag."),
    out(
        "AzureStorage.ResourceGroup.tags.aks-managed-cluster-rg",
        "String",
        "The AKS cluster resource group tag.",
    ),
    out("AzureStorage.ResourceGroup.tags.type", "String", "The type tag."),
];

/// The SKU names ARM accepts for a storage account.
pub const SKUS: &[&str] = &[
    "Premium_LRS",
    "Premium_ZRS",
    "Standard_GRS",
    "Standard_GZRS",
    "Standard_LRS",
    "Standard_RAGRS",
    "Standard_RAGZRS",
    "Standard_ZRS",
];

/// The Azure regions the reference offers.
pub const LOCATIONS: &[&str] = &[
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
