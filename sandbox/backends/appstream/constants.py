"""The AppStream backend's tables: modelled durations, page sizes, seeded images and update rules.

Everything the backend decides from data lives here, so that a module which has to
predict the service's behaviour (which UpdateFleet fields need a stopped fleet, which
attributes AttributesToDelete clears) can mirror one table instead of reading code.
"""

from __future__ import annotations

# -- modelled durations (real AWS seconds; the sandbox multiplies them by its time scale) ---
DURATIONS: dict[str, float] = {
    "fleet_start": 15 * 60,  # STARTING -> RUNNING; AWS: 10-20 minutes
    "fleet_start_domain_joined": 20 * 60,  # domain-joined instances: up to 25 minutes
    "fleet_stop": 5 * 60,  # STOPPING -> STOPPED
    "fleet_errors_appear": 5 * 60,  # a fleet that cannot start shows FleetErrors after this, stays STARTING
    "builder_start": 10 * 60,  # PENDING -> RUNNING
    "builder_start_domain_joined": 15 * 60,
    "builder_stop": 5 * 60,  # STOPPING -> STOPPED
    "builder_snapshot": 25 * 60,  # SNAPSHOTTING -> STOPPED after Image Assistant's create-image
    "builder_delete": 3 * 60,  # DELETING -> gone
    "image_create": 30 * 60,  # PENDING -> AVAILABLE
    "image_copy": 30 * 60,  # COPYING -> AVAILABLE (in the destination region)
    "image_delete": 60,  # DELETING -> gone
}

# -- default page sizes of the paginated operations (the model gives no defaults) -------------
PAGE_SIZES: dict[str, int] = {
    "DescribeFleets": 25,
    "DescribeStacks": 25,
    "DescribeImages": 25,  # the model caps MaxResults at 25
    "DescribeImageBuilders": 25,
    "DescribeDirectoryConfigs": 25,
    "DescribeUsers": 50,
    "DescribeUserStackAssociations": 50,
    "DescribeSessions": 20,  # documented: default 20, maximum 50
    "DescribeImagePermissions": 50,
    "ListAssociatedStacks": 25,
    "ListAssociatedFleets": 25,
    "DescribeUsageReportSubscriptions": 25,
}

GONE = "__GONE__"  # lifecycle state of a resource whose deletion has completed

MAX_TAGS = 50
MAX_IMAGE_APPLICATIONS = 50
DEFAULT_AGENT_VERSION = "1.1.1360"  # the "latest" agent of the seeded catalogue

# -- AWS-published base images seeded in every region on first use --------------------------
# (name, platform, release date, agent version, image builder supported)
PUBLIC_IMAGES: tuple[tuple[str, str, str, str, bool], ...] = (
    ("AppStream-WinServer2019-07-16-2024", "WINDOWS_SERVER_2019", "2024-07-16", "1.1.1338", True),
    ("AppStream-WinServer2019-10-08-2024", "WINDOWS_SERVER_2019", "2024-10-08", DEFAULT_AGENT_VERSION, True),
    ("AppStream-WinServer2022-07-16-2024", "WINDOWS_SERVER_2022", "2024-07-16", "1.1.1338", True),
    ("AppStream-WinServer2022-10-08-2024", "WINDOWS_SERVER_2022", "2024-10-08", DEFAULT_AGENT_VERSION, True),
    ("AppStream-AmazonLinux2-09-21-2023", "AMAZON_LINUX2", "2023-09-21", "1.0.1096", True),
)

WINDOWS_PLATFORMS = frozenset(
    {
        "WINDOWS",
        "WINDOWS_SERVER_2016",
        "WINDOWS_SERVER_2019",
        "WINDOWS_SERVER_2022",
        "WINDOWS_SERVER_2025",
        "WINDOWS_11",
    }
)
ELASTIC_PLATFORMS = frozenset({"WINDOWS_SERVER_2019", "AMAZON_LINUX2", "UBUNTU_PRO_2404"})

# -- fleets -----------------------------------------------------------------------------------
FLEET_DEFAULTS: dict[str, object] = {
    "FleetType": "ON_DEMAND",
    "MaxUserDurationInSeconds": 57600,
    "DisconnectTimeoutInSeconds": 900,
    "IdleDisconnectTimeoutInSeconds": 0,
    "EnableDefaultInternetAccess": False,
    "StreamView": "APP",
    "DisableIMDSV1": False,
}

# (member, minimum, maximum); IdleDisconnectTimeoutInSeconds also accepts 0 (disabled).
FLEET_TIMEOUT_RANGES: tuple[tuple[str, int, int], ...] = (
    ("MaxUserDurationInSeconds", 600, 432000),
    ("DisconnectTimeoutInSeconds", 60, 360000),
    ("IdleDisconnectTimeoutInSeconds", 60, 360000),
)

_LIVE_ALWAYS_ON_ON_DEMAND = frozenset({"ALWAYS_ON", "ON_DEMAND"})
_LIVE_ELASTIC = frozenset({"ELASTIC"})
_LIVE_EVERY_TYPE = _LIVE_ALWAYS_ON_ON_DEMAND | _LIVE_ELASTIC
_NEEDS_STOP: frozenset[str] = frozenset()

# UpdateFleet request members -> the fleet types that accept them while the fleet is RUNNING.
# An empty set means the change needs a STOPPED fleet whatever the type. A STOPPED fleet accepts
# every member; a STARTING or STOPPING fleet accepts none. `Name` identifies the fleet and is
# not a change. Source: the UpdateFleet documentation in the botocore model.
UPDATE_FLEET_LIVE_FIELDS: dict[str, frozenset[str]] = {
    "DisplayName": _LIVE_EVERY_TYPE,
    "ComputeCapacity": _LIVE_ALWAYS_ON_ON_DEMAND,
    "ImageName": _LIVE_ALWAYS_ON_ON_DEMAND,
    "ImageArn": _LIVE_ALWAYS_ON_ON_DEMAND,
    "IdleDisconnectTimeoutInSeconds": _LIVE_EVERY_TYPE,
    "DisconnectTimeoutInSeconds": _LIVE_EVERY_TYPE,
    "MaxConcurrentSessions": _LIVE_ELASTIC,
    "SessionScriptS3Location": _LIVE_ELASTIC,
    "UsbDeviceFilterStrings": _LIVE_ELASTIC,
    "InstanceType": _NEEDS_STOP,
    "VpcConfig": _NEEDS_STOP,
    "DeleteVpcConfig": _NEEDS_STOP,
    "MaxUserDurationInSeconds": _NEEDS_STOP,
    "Description": _NEEDS_STOP,
    "EnableDefaultInternetAccess": _NEEDS_STOP,
    "DomainJoinInfo": _NEEDS_STOP,
    "AttributesToDelete": _NEEDS_STOP,
    "IamRoleArn": _NEEDS_STOP,
    "StreamView": _NEEDS_STOP,
    "Platform": _NEEDS_STOP,
    "MaxSessionsPerInstance": _NEEDS_STOP,
    "RootVolumeConfig": _NEEDS_STOP,
    "DisableIMDSV1": _NEEDS_STOP,
}

# UpdateFleet AttributesToDelete -> (member, key inside it or None for the whole member)
FLEET_ATTRIBUTES: dict[str, tuple[str, str | None]] = {
    "VPC_CONFIGURATION": ("VpcConfig", None),
    "VPC_CONFIGURATION_SECURITY_GROUP_IDS": ("VpcConfig", "SecurityGroupIds"),
    "DOMAIN_JOIN_INFO": ("DomainJoinInfo", None),
    "IAM_ROLE_ARN": ("IamRoleArn", None),
    "USB_DEVICE_FILTER_STRINGS": ("UsbDeviceFilterStrings", None),
    "SESSION_SCRIPT_S3_LOCATION": ("SessionScriptS3Location", None),
    "MAX_SESSIONS_PER_INSTANCE": ("MaxSessionsPerInstance", None),
    "VOLUME_CONFIGURATION": ("RootVolumeConfig", None),
}

# Members of CreateFleet/UpdateFleet that are requests, not settings a fleet keeps.
FLEET_REQUEST_ONLY = frozenset({"Name", "Tags", "AttributesToDelete", "DeleteVpcConfig"})

# -- stacks -----------------------------------------------------------------------------------
# Actions DescribeStacks reports when the stack does not set them, and their default.
USER_SETTING_DEFAULTS: dict[str, str] = {
    "CLIPBOARD_COPY_FROM_LOCAL_DEVICE": "ENABLED",
    "CLIPBOARD_COPY_TO_LOCAL_DEVICE": "ENABLED",
    "FILE_UPLOAD": "ENABLED",
    "FILE_DOWNLOAD": "ENABLED",
    "PRINTING_TO_LOCAL_DEVICE": "ENABLED",
    "DOMAIN_PASSWORD_SIGNIN": "ENABLED",
    "DOMAIN_SMART_CARD_SIGNIN": "ENABLED",
    "AUTO_TIME_ZONE_REDIRECTION": "ENABLED",
}

# UpdateStack AttributesToDelete -> (member, key inside it, connector type) ; empty member: no-op
STACK_ATTRIBUTES: dict[str, tuple[str, str | None, str | None]] = {
    "STORAGE_CONNECTORS": ("StorageConnectors", None, None),
    "STORAGE_CONNECTOR_HOMEFOLDERS": ("StorageConnectors", None, "HOMEFOLDERS"),
    "STORAGE_CONNECTOR_GOOGLE_DRIVE": ("StorageConnectors", None, "GOOGLE_DRIVE"),
    "STORAGE_CONNECTOR_ONE_DRIVE": ("StorageConnectors", None, "ONE_DRIVE"),
    "REDIRECT_URL": ("RedirectURL", None, None),
    "FEEDBACK_URL": ("FeedbackURL", None, None),
    "THEME_NAME": ("", None, None),  # themes are not modelled
    "USER_SETTINGS": ("UserSettings", None, None),
    "EMBED_HOST_DOMAINS": ("EmbedHostDomains", None, None),
    "IAM_ROLE_ARN": ("", None, None),  # stacks keep no IAM role in this API version
    "ACCESS_ENDPOINTS": ("AccessEndpoints", None, None),
    "STREAMING_EXPERIENCE_SETTINGS": ("StreamingExperienceSettings", None, None),
    "CONTENT_REDIRECTION": ("ContentRedirection", None, None),
    "WEB_AUTHN_REDIRECTION": ("WebAuthnRedirection", None, None),
    "AGENT_ACCESS_CONFIG": ("AgentAccessConfig", None, None),
    "STORAGE_CONNECTOR_AUTHENTICATION": ("StorageConnectorAuthentication", None, None),
    "AGENT_ACCESS_CONFIG_KMS_KEY_ARN": ("AgentAccessConfig", "KmsKeyArn", None),
}

STACK_REQUEST_ONLY = frozenset({"Name", "Tags", "AttributesToDelete", "DeleteStorageConnectors"})

# -- image builders ---------------------------------------------------------------------------
# Builder actions and the states they need. Transitional states answer
# ConcurrentModificationException ("wait and retry"); settled but wrong states answer the code
# given here. Codes are taken from each operation's error list in the model.
BUILDER_TRANSITIONAL = frozenset(
    {
        "PENDING",
        "UPDATING_AGENT",
        "STOPPING",
        "REBOOTING",
        "SNAPSHOTTING",
        "DELETING",
        "UPDATING",
        "PENDING_QUALIFICATION",
        "PENDING_SYNCING_APPS",
        "SYNCING_APPS",
        "PENDING_IMAGE_IMPORT",
    }
)
BUILDER_ACTIONS: dict[str, tuple[frozenset[str], str]] = {
    "start": (frozenset({"STOPPED"}), "ResourceNotAvailableException"),
    "stop": (frozenset({"RUNNING"}), "OperationNotPermittedException"),
    "delete": (frozenset({"STOPPED", "FAILED"}), "OperationNotPermittedException"),
    "update": (frozenset({"STOPPED"}), "OperationNotPermittedException"),
    "connect": (frozenset({"RUNNING"}), "OperationNotPermittedException"),
    "create_image": (frozenset({"RUNNING"}), "OperationNotPermittedException"),
}

RESERVED_IMAGE_PREFIXES = ("aws", "appstream", "amazon")
