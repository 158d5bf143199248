//! Declaration data: the context outputs of the commands (the reference's paths and types) and
//! the option lists of their arguments.

use soar_integration_kit::{OutputSpec, out};

/// `AzureSentinel.Incident` (get, list, update).
pub const INCIDENT: &[OutputSpec] = &[
    out("AzureSentinel.Incident.ID", "String", "The incident ID."),
    out("AzureSentinel.Incident.Title", "String", "The incident's title."),
    out("AzureSentinel.Incident.Description", "String", "Description of the incident."),
    out("AzureSentinel.Incident.Severity", "String", "The incident severity."),
    out("AzureSentinel.Incident.Status", "String", "The incident status."),
    out("AzureSentinel.Incident.AssigneeName", "String", "The name of the incident assignee."),
    out("AzureSentinel.Incident.AssigneeEmail", "String", "The email address of the incident assignee."),
    out("AzureSentinel.Incident.AssigneeObjectID", "String", "The object ID of the incident assignee."),
    out("AzureSentinel.Incident.AssigneeUPN", "String", "The user principal name of the incident assignee."),
    out("AzureSentinel.Incident.Label.Name", "String", "The name of the incident label."),
    out("AzureSentinel.Incident.Label.Type", "String", "The incident label type."),
    out(
        "AzureSentinel.Incident.FirstActivityTimeUTC",
        "Date",
        "The date and time of the incident's first activity.",
    ),
    out(
        "AzureSentinel.Incident.LastActivityTimeUTC",
        "Date",
        "The date and time of the incident's last activity.",
    ),
    out(
        "AzureSentinel.Incident.LastModifiedTimeUTC",
        "Date",
        "The date and time the incident was last modified.",
    ),
    out("AzureSentinel.Incident.CreatedTimeUTC", "Date", "The date and time the incident was created."),
    out("AzureSentinel.Incident.IncidentNumber", "Number", "The incident number."),
    out("AzureSentinel.Incident.AlertsCount", "Number", "The number of the alerts in the incident."),
    out("AzureSentinel.Incident.BookmarkCount", "Number", "The number of bookmarks in the incident."),
    out("AzureSentinel.Incident.CommentCount", "Number", "The number of comments in the incident."),
    out("AzureSentinel.Incident.AlertProductNames", "String", "The alert product names of the incident."),
    out("AzureSentinel.Incident.Tactics", "String", "The incident's tactics."),
    out(
        "AzureSentinel.Incident.FirstActivityTimeGenerated",
        "Date",
        "The incident's generated first activity time.",
    ),
    out(
        "AzureSentinel.Incident.LastActivityTimeGenerated",
        "Date",
        "The incident's generated last activity time.",
    ),
    out("AzureSentinel.Incident.Etag", "String", "The Etag of the incident."),
    out(
        "AzureSentinel.Incident.IncidentUrl",
        "String",
        "The deep-link URL to the incident in the Azure portal.",
    ),
];

/// `AzureSentinel.NextLink` (list commands).
pub const NEXT_LINK: &[OutputSpec] = &[
    out("AzureSentinel.NextLink.Description", "String", "Description of NextLink."),
    out("AzureSentinel.NextLink.URL", "String", "Used if an additional page is requested (next_link)."),
];

/// `AzureSentinel.Incident` after a delete.
pub const INCIDENT_DELETED: &[OutputSpec] = &[
    out("AzureSentinel.Incident.ID", "String", "The ID of the deleted incident."),
    out("AzureSentinel.Incident.Deleted", "Boolean", "Whether the incident was deleted."),
];

/// `AzureSentinel.IncidentComment`.
pub const COMMENT: &[OutputSpec] = &[
    out("AzureSentinel.IncidentComment.ID", "String", "The ID of the incident comment."),
    out("AzureSentinel.IncidentComment.IncidentID", "String", "The incident ID."),
    out("AzureSentinel.IncidentComment.Message", "String", "The incident's comment content."),
    out("AzureSentinel.IncidentComment.AuthorName", "String", "The name of the comment's author."),
    out("AzureSentinel.IncidentComment.AuthorEmail", "String", "The email address of the comment's author."),
    out("AzureSentinel.IncidentComment.CreatedTimeUTC", "Date", "The date and time the comment was created."),
];

/// `AzureSentinel.IncidentRelatedResource`.
pub const RELATION: &[OutputSpec] = &[
    out("AzureSentinel.IncidentRelatedResource.ID", "String", "The ID of the incident's related resource."),
    out(
        "AzureSentinel.IncidentRelatedResource.Kind",
        "String",
        "The kind of the incident's related resource.",
    ),
    out("AzureSentinel.IncidentRelatedResource.IncidentID", "String", "The incident ID."),
];

/// `AzureSentinel.IncidentEntity`.
pub const ENTITY: &[OutputSpec] = &[
    out("AzureSentinel.IncidentEntity.ID", "String", "The ID of the entity."),
    out("AzureSentinel.IncidentEntity.IncidentId", "String", "The ID of the incident."),
    out("AzureSentinel.IncidentEntity.Kind", "String", "The kind of the entity."),
    out("AzureSentinel.IncidentEntity.Properties", "Unknown", "The properties of the entity."),
];

/// `AzureSentinel.IncidentAlert`.
pub const ALERT: &[OutputSpec] = &[
    out("AzureSentinel.IncidentAlert.ID", "String", "The ID of the alert."),
    out("AzureSentinel.IncidentAlert.IncidentId", "String", "The ID of the incident."),
    out("AzureSentinel.IncidentAlert.Kind", "String", "The kind of the alert."),
    out("AzureSentinel.IncidentAlert.Tactic", "Unknown", "The tactics of the alert."),
    out("AzureSentinel.IncidentAlert.Technique", "Unknown", "The techniques of the alert."),
    out("AzureSentinel.IncidentAlert.DisplayName", "String", "The display name of the alert."),
    out("AzureSentinel.IncidentAlert.Description", "String", "The description of the alert."),
    out("AzureSentinel.IncidentAlert.ConfidenceLevel", "String", "The confidence level of this alert."),
    out("AzureSentinel.IncidentAlert.Severity", "String", "The severity of the alert."),
    out("AzureSentinel.IncidentAlert.VendorName", "String", "The name of the vendor that raised the alert."),
    out(
        "AzureSentinel.IncidentAlert.ProductName",
        "String",
        "The name of the product that published this alert.",
    ),
    out(
        "AzureSentinel.IncidentAlert.ProductComponentName",
        "String",
        "The name of the product component that published this alert.",
    ),
];

/// `AzureSentinel.Watchlist`.
pub const WATCHLIST: &[OutputSpec] = &[
    out("AzureSentinel.Watchlist.Name", "String", "The name of the watchlist."),
    out("AzureSentinel.Watchlist.ID", "String", "The ID (GUID) of the watchlist."),
    out("AzureSentinel.Watchlist.Description", "String", "A description of the watchlist."),
    out("AzureSentinel.Watchlist.DisplayName", "String", "The display name of the watchlist."),
    out("AzureSentinel.Watchlist.Provider", "String", "The provider of the watchlist."),
    out("AzureSentinel.Watchlist.Source", "String", "The source of the watchlist."),
    out("AzureSentinel.Watchlist.Created", "Date", "The time the watchlist was created."),
    out("AzureSentinel.Watchlist.Updated", "Date", "The last time the watchlist was updated."),
    out("AzureSentinel.Watchlist.CreatedBy", "String", "The name of the user who created the watchlist."),
    out("AzureSentinel.Watchlist.UpdatedBy", "String", "The user who last updated the watchlist."),
    out("AzureSentinel.Watchlist.Alias", "String", "The alias of the watchlist."),
    out("AzureSentinel.Watchlist.Label", "Unknown", "Labels of the watchlist."),
    out(
        "AzureSentinel.Watchlist.ItemsSearchKey",
        "String",
        "The search key used to optimize the watchlist items' query performance.",
    ),
];

/// `AzureSentinel.WatchlistItem`.
pub const WATCHLIST_ITEM: &[OutputSpec] = &[
    out("AzureSentinel.WatchlistItem.WatchlistAlias", "String", "The alias of the watchlist."),
    out("AzureSentinel.WatchlistItem.ID", "String", "The ID (GUID) of the watchlist item."),
    out("AzureSentinel.WatchlistItem.Created", "Date", "The time the watchlist item was created."),
    out("AzureSentinel.WatchlistItem.Updated", "Date", "The last time the watchlist item was updated."),
    out(
        "AzureSentinel.WatchlistItem.CreatedBy",
        "String",
        "The name of the user who created the watchlist item.",
    ),
    out(
        "AzureSentinel.WatchlistItem.UpdatedBy",
        "String",
        "The name of the user who updated the watchlist item.",
    ),
    out("AzureSentinel.WatchlistItem.ItemsKeyValue", "Unknown", "The key-value pairs of the watchlist item."),
];

/// `AzureSentinel.ThreatIndicator`.
pub const INDICATOR: &[OutputSpec] = &[
    out("AzureSentinel.ThreatIndicator.ID", "String", "The ID of the indicator."),
    out("AzureSentinel.ThreatIndicator.Name", "String", "The name of the indicator."),
    out("AzureSentinel.ThreatIndicator.ETag", "String", "The ETag of the indicator."),
    out("AzureSentinel.ThreatIndicator.Type", "String", "The type of the indicator."),
    out("AzureSentinel.ThreatIndicator.Kind", "String", "The kind of the indicator."),
    out(
        "AzureSentinel.ThreatIndicators.Confidence",
        "Number",
        "The confidence of the threat indicator (a number between 0-100).",
    ),
    out("AzureSentinel.ThreatIndicator.Created", "Date", "When the threat indicator was created."),
    out("AzureSentinel.ThreatIndicator.CreatedByRef", "String", "The creator of the indicator."),
    out("AzureSentinel.ThreatIndicator.ExternalID", "String", "The external ID of the indicator."),
    out(
        "AzureSentinel.ThreatIndicator.LastUpdatedTimeUtc",
        "Date",
        "The last updated time of the indicator.",
    ),
    out("AzureSentinel.ThreatIndicator.Revoked", "Boolean", "Whether the threat indicator is revoked."),
    out("AzureSentinel.ThreatIndicator.Source", "String", "The source of the indicator."),
    out("AzureSentinel.ThreatIndicator.ETags", "String", "The ETags of the indicator."),
    out("AzureSentinel.ThreatIndicator.Tags", "Unknown", "The tags of the indicator."),
    out("AzureSentinel.ThreatIndicator.DisplayName", "String", "The display name of the indicator."),
    out("AzureSentinel.ThreatIndicator.Description", "String", "The description of the indicator."),
    out("AzureSentinel.ThreatIndicator.ThreatTypes", "Unknown", "The threat types of the indicator."),
    out("AzureSentinel.ThreatIndicator.KillChainPhases.KillChainName", "String", "The kill chain's name."),
    out("AzureSentinel.ThreatIndicator.KillChainPhases.PhaseName", "String", "The phase name."),
    out(
        "AzureSentinel.ThreatIndicator.ParsedPattern.PatternTypeKey",
        "Unknown",
        "The pattern type key of the indicator.",
    ),
    out(
        "AzureSentinel.ThreatIndicator.ParsedPattern.PatternTypeValues.Value",
        "String",
        "The value of the indicator.",
    ),
    out(
        "AzureSentinel.ThreatIndicator.ParsedPattern.PatternTypeValues.ValueType",
        "String",
        "The value type of the indicator.",
    ),
    out("AzureSentinel.ThreatIndicator.Pattern", "String", "The pattern of the indicator."),
    out("AzureSentinel.ThreatIndicator.PatternType", "String", "The pattern type of the indicator."),
    out("AzureSentinel.ThreatIndicator.ValidFrom", "Date", "The date from which the indicator is valid."),
    out("AzureSentinel.ThreatIndicator.ValidUntil", "Date", "The date until which the indicator is valid."),
    out("AzureSentinel.ThreatIndicator.Types", "Unknown", "The threat types of the indicator."),
];

/// `AzureSentinel.ThreatIndicator` after a delete.
pub const INDICATOR_DELETED: &[OutputSpec] = &[
    out("AzureSentinel.ThreatIndicator.Name", "String", "The name of the deleted indicator."),
    out("AzureSentinel.ThreatIndicator.Deleted", "Boolean", "Whether the indicator was deleted."),
];

/// `AzureSentinel.AlertRule`.
pub const ALERT_RULE: &[OutputSpec] = &[
    out("AzureSentinel.AlertRule.id", "String", "The ID of the alert rule."),
    out("AzureSentinel.AlertRule.name", "String", "The name of the alert rule."),
    out("AzureSentinel.AlertRule.type", "String", "The type of the alert rule."),
    out("AzureSentinel.AlertRule.kind", "String", "The kind of the alert rule."),
    out("AzureSentinel.AlertRule.etag", "String", "The ETag of the alert rule."),
    out("AzureSentinel.AlertRule.properties.displayName", "String", "The display name of the alert rule."),
    out("AzureSentinel.AlertRule.properties.description", "String", "The description of the alert rule."),
    out("AzureSentinel.AlertRule.properties.severity", "String", "The severity of the alert rule."),
    out("AzureSentinel.AlertRule.properties.enabled", "Boolean", "Whether the alert rule is enabled."),
    out("AzureSentinel.AlertRule.properties.tactics", "String", "The tactics of the alert rule."),
    out("AzureSentinel.AlertRule.properties.query", "String", "The query of the alert rule."),
    out(
        "AzureSentinel.AlertRule.properties.queryFrequency",
        "String",
        "The frequency of the alert rule's query.",
    ),
    out("AzureSentinel.AlertRule.properties.queryPeriod", "String", "The period of the alert rule's query."),
    out(
        "AzureSentinel.AlertRule.properties.triggerOperator",
        "String",
        "The trigger operator of the alert rule.",
    ),
    out(
        "AzureSentinel.AlertRule.properties.triggerThreshold",
        "Number",
        "The trigger threshold of the alert rule.",
    ),
    out(
        "AzureSentinel.AlertRule.properties.suppressionDuration",
        "String",
        "The suppression duration of the alert rule.",
    ),
    out(
        "AzureSentinel.AlertRule.properties.suppressionEnabled",
        "Boolean",
        "Whether suppression is enabled for the alert rule.",
    ),
    out(
        "AzureSentinel.AlertRule.properties.productFilter",
        "String",
        "The product filter of the alert rule.",
    ),
    out(
        "AzureSentinel.AlertRule.properties.lastModifiedUtc",
        "Date",
        "When the alert rule was last modified.",
    ),
    out(
        "AzureSentinel.AlertRule.properties.alertRuleTemplateName",
        "Unknown",
        "The template the alert rule was created from.",
    ),
    out(
        "AzureSentinel.AlertRule.properties.severitiesFilter",
        "Unknown",
        "The severities filter of the alert rule.",
    ),
    out(
        "AzureSentinel.AlertRule.properties.displayNamesFilter",
        "Unknown",
        "The display names filter of the alert rule.",
    ),
    out(
        "AzureSentinel.AlertRule.properties.incidentConfiguration.createIncident",
        "Boolean",
        "Whether the alert rule creates incidents.",
    ),
];

/// `AzureSentinel.AlertRuleTemplate`.
pub const ALERT_RULE_TEMPLATE: &[OutputSpec] = &[
    out("AzureSentinel.AlertRuleTemplate.id", "String", "The ID of the alert rule template."),
    out("AzureSentinel.AlertRuleTemplate.name", "String", "The name of the alert rule template."),
    out("AzureSentinel.AlertRuleTemplate.type", "String", "The type of the alert rule template."),
    out("AzureSentinel.AlertRuleTemplate.kind", "String", "The kind of the alert rule template."),
    out("AzureSentinel.AlertRuleTemplate.properties.severity", "String", "The severity of the template."),
    out("AzureSentinel.AlertRuleTemplate.properties.query", "String", "The query of the template."),
    out(
        "AzureSentinel.AlertRuleTemplate.properties.queryFrequency",
        "String",
        "The frequency of the template's query.",
    ),
    out(
        "AzureSentinel.AlertRuleTemplate.properties.queryPeriod",
        "String",
        "The period of the template's query.",
    ),
    out(
        "AzureSentinel.AlertRuleTemplate.properties.triggerOperator",
        "String",
        "The trigger operator of the template.",
    ),
    out(
        "AzureSentinel.AlertRuleTemplate.properties.triggerThreshold",
        "Number",
        "The trigger threshold of the template.",
    ),
    out(
        "AzureSentinel.AlertRuleTemplate.properties.displayName",
        "String",
        "The display name of the template.",
    ),
    out(
        "AzureSentinel.AlertRuleTemplate.properties.description",
        "String",
        "The description of the template.",
    ),
    out("AzureSentinel.AlertRuleTemplate.properties.tactics", "String", "The tactics of the template."),
    out(
        "AzureSentinel.AlertRuleTemplate.properties.lastUpdatedDateUTC",
        "Date",
        "When the template was last updated.",
    ),
    out(
        "AzureSentinel.AlertRuleTemplate.properties.createdDateUTC",
        "Date",
        "When the template was created.",
    ),
    out("AzureSentinel.AlertRuleTemplate.properties.status", "String", "The status of the template."),
    out("AzureSentinel.AlertRuleTemplate.properties.version", "String", "The version of the template."),
    out(
        "AzureSentinel.AlertRuleTemplate.properties.alertRulesCreatedByTemplateCount",
        "Number",
        "How many alert rules were created from the template.",
    ),
    out(
        "AzureSentinel.AlertRuleTemplate.properties.requiredDataConnectors.connectorId",
        "String",
        "The connector ID of the required data connectors.",
    ),
    out(
        "AzureSentinel.AlertRuleTemplate.properties.requiredDataConnectors.dataTypes",
        "String",
        "The data types of the required data connectors.",
    ),
    out(
        "AzureSentinel.AlertRuleTemplate.properties.productFilter",
        "String",
        "The product filter of the template.",
    ),
];

/// `AzureSentinel.Subscription`.
pub const SUBSCRIPTION: &[OutputSpec] = &[
    out("AzureSentinel.Subscription.id", "String", "The ID of the subscription."),
    out("AzureSentinel.Subscription.subscriptionId", "String", "The subscription ID."),
    out("AzureSentinel.Subscription.tenantId", "String", "The tenant ID of the subscription."),
    out("AzureSentinel.Subscription.displayName", "String", "The display name of the subscription."),
    out("AzureSentinel.Subscription.state", "String", "The state of the subscription."),
    out(
        "AzureSentinel.Subscription.authorizationSource",
        "String",
        "The authorization source of the subscription.",
    ),
    out(
        "AzureSentinel.Subscription.managedByTenants",
        "Unknown",
        "The tenants that manage the subscription.",
    ),
    out("AzureSentinel.Subscription.subscriptionPolicies", "Unknown", "The policies of the subscription."),
];

/// `AzureSentinel.ResourceGroup`.
pub const RESOURCE_GROUP: &[OutputSpec] = &[
    out("AzureSentinel.ResourceGroup.id", "String", "The ID of the resource group."),
    out("AzureSentinel.ResourceGroup.name", "String", "The name of the resource group."),
    out("AzureSentinel.ResourceGroup.type", "String", "The type of the resource group."),
    out("AzureSentinel.ResourceGroup.location", "String", "The location of the resource group."),
    out(
        "AzureSentinel.ResourceGroup.properties.provisioningState",
        "String",
        "The provisioning state of the resource group.",
    ),
    out("AzureSentinel.ResourceGroup.tags", "Unknown", "The tags of the resource group."),
    out("AzureSentinel.ResourceGroup.managedBy", "String", "The entity that manages the resource group."),
];

/// The entity kinds a relation list can be filtered by.
pub const ENTITY_KINDS: &[&str] = &[
    "Account",
    "Host",
    "File",
    "AzureResource",
    "CloudApplication",
    "DnsResolution",
    "FileHash",
    "Ip",
    "Malware",
    "Process",
    "RegistryKey",
    "RegistryValue",
    "SecurityGroup",
    "Url",
    "IoTDevice",
    "SecurityAlert",
    "Bookmark",
];

/// The indicator types of the threat-intelligence commands.
pub const INDICATOR_TYPES: &[&str] = &["ipv4", "ipv6", "file", "url", "domain"];

/// The threat types a query can filter by.
pub const THREAT_TYPES: &[&str] = &[
    "anomalous-activity",
    "attribution",
    "anonymization",
    "benign",
    "malicious-activity",
    "compromised",
    "unknown",
];
