"""What AWS does and moto 5.2 does not, where the toolkit depends on it. Installed once per process.

- Tags on IAM SAML providers (`install_saml_provider_tags`).
- TagSpecifications of EC2 CreateDhcpOptions (`install_dhcp_options_tag_specifications`).
- S3's SHA-256 additional checksums on PutObject, UploadPart, ListParts, CompleteMultipartUpload
  (`install_s3_sha256_checksums`).
- The session tags of STS AssumeRole (`install_sts_session_tags`).
- SNS e-mail subscriptions pending their confirmation (`install_sns_email_confirmation`).
- Conditions of bucket policies (`install_s3_bucket_policy_conditions`).
- DynamoDB's atomic conditional writes (`install_dynamodb_atomic_writes`).
- Permissions boundaries of IAM users (`install_user_permissions_boundaries`).
- One EC2 resource's tags read by its id, not by a scan of every tag of the region (`install_ec2_tags_by_id`).

Tags on IAM SAML providers: AWS accepts `Tags` on CreateSAMLProvider, returns them from GetSAMLProvider and offers
TagSAMLProvider, UntagSAMLProvider and ListSAMLProviderTags (botocore's iam model has all five).
moto drops the tags of CreateSAMLProvider and answers the three tag operations with "not
implemented", so a toolkit that marks its SAML providers as its own could not be tested. This
adds them to moto's IAM responses, with IAM's tag rules (at most 50, keys unique), once per process.
"""

from __future__ import annotations

from typing import Any

_INSTALLED = "_sandbox_fills_moto_gap"


def _provider(backend: Any, arn: str) -> Any:
    provider = backend.get_saml_provider(arn)  # NoSuchEntity when unknown, as AWS answers
    if not hasattr(provider, "tags"):
        provider.tags = []
    return provider


def install_saml_provider_tags() -> None:
    from moto.core.responses import ActionResult, EmptyResult
    from moto.iam.exceptions import TooManyTags
    from moto.iam.responses import IamResponse

    if getattr(IamResponse, _INSTALLED, False):
        return

    def create_saml_provider(self: Any) -> Any:
        tags = self._get_param("Tags", [])
        self.backend._tag_verification(tags)
        provider = self.backend.create_saml_provider(self._get_param("Name"), self._get_param("SAMLMetadataDocument"))
        provider.tags = list(tags)
        return ActionResult({"SAMLProviderArn": provider.arn, "Tags": provider.tags})

    def tag_saml_provider(self: Any) -> Any:
        tags = self._get_param("Tags", [])
        self.backend._tag_verification(tags)
        provider = _provider(self.backend, self._get_param("SAMLProviderArn"))
        keys = {tag["Key"] for tag in tags}
        merged = [tag for tag in provider.tags if tag["Key"] not in keys] + list(tags)
        if len(merged) > 50:
            raise TooManyTags(merged)
        provider.tags = merged
        return EmptyResult()

    def untag_saml_provider(self: Any) -> Any:
        keys = self._get_param("TagKeys", [])
        provider = _provider(self.backend, self._get_param("SAMLProviderArn"))
        provider.tags = [tag for tag in provider.tags if tag["Key"] not in keys]
        return EmptyResult()

    def list_saml_provider_tags(self: Any) -> Any:
        provider = _provider(self.backend, self._get_param("SAMLProviderArn"))
        return ActionResult({"Tags": sorted(provider.tags, key=lambda tag: tag["Key"]), "IsTruncated": False})

    original_get = IamResponse.get_saml_provider

    def get_saml_provider(self: Any) -> Any:
        _provider(self.backend, self._get_param("SAMLProviderArn"))  # GetSAMLProvider returns Tags
        return original_get(self)

    IamResponse.create_saml_provider = create_saml_provider
    IamResponse.get_saml_provider = get_saml_provider
    IamResponse.tag_saml_provider = tag_saml_provider
    IamResponse.untag_saml_provider = untag_saml_provider
    IamResponse.list_saml_provider_tags = list_saml_provider_tags
    setattr(IamResponse, _INSTALLED, True)


def install_dhcp_options_tag_specifications() -> None:
    """CreateDhcpOptions applies its TagSpecifications in AWS; moto ignores them, so a caller whose IAM
    policy allows ec2:CreateTags only while creating (ec2:CreateAction) could not tag its options."""
    from moto.ec2.responses.dhcp_options import DHCPOptions

    if getattr(DHCPOptions, _INSTALLED, False):
        return
    original = DHCPOptions.create_dhcp_options

    def create_dhcp_options(self: Any) -> Any:
        tags = self._parse_tag_specification("dhcp-options").get("dhcp-options", {})
        result = original(self)
        if tags:
            self.ec2_backend.create_tags([result.result["DhcpOptions"].id], tags)
        return result

    DHCPOptions.create_dhcp_options = create_dhcp_options
    setattr(DHCPOptions, _INSTALLED, True)


# S3 answers a body whose SHA-256 is not the x-amz-checksum-sha256 it came with by 400 BadDigest
# ("The sha256 you specified did not match the calculated checksum.", seen in
# https://github.com/apache/arrow-rs-object-store/issues/709), and refuses to complete an upload created
# with a checksum algorithm when a part comes without its checksum (InvalidRequest, "The upload was created
# using a sha1 checksum. The complete request must include the checksum for each part. It was missing for
# part 1 in the request.", https://github.com/aws/aws-sdk-php/issues/2648).
_SHA256_HEADER = "x-amz-checksum-sha256"
_PART_CHECKSUMS = "_sandbox_part_sha256"  # FakeMultipart attribute: {part number: base64 SHA-256}


def _sha256_b64(body: bytes) -> str:
    import base64
    import hashlib

    return base64.b64encode(hashlib.sha256(body).digest()).decode()


def _checked_sha256(response: Any) -> str | None:
    """The request's x-amz-checksum-sha256 once verified against its body; BadDigest when they differ."""
    from moto.s3.exceptions import S3ClientError

    claimed = response.headers.get(_SHA256_HEADER)
    if not claimed:
        return None
    if str(response.headers.get("x-amz-content-sha256", "")).startswith("STREAMING-"):
        return str(claimed)  # aws-chunked bodies (trailing checksums) are left to moto
    if _sha256_b64(response.body or b"") != claimed:
        raise S3ClientError("BadDigest", "The sha256 you specified did not match the calculated checksum.")
    return str(claimed)


def install_s3_sha256_checksums() -> None:
    """What S3 does with SHA-256 additional checksums and moto 5.2 does not.

    https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity-upload.html: S3 computes
    the checksum of what it receives and rejects the request when it differs from the one sent (moto stores
    the claimed value unchecked). API_Part.html: ListParts returns each part's ChecksumSHA256 for an upload
    created with the SHA256 algorithm (moto returns none, so a client could not check what S3 holds before
    resuming). The whole object's composite checksum moto already computes on completion.
    """
    from moto.s3.exceptions import S3ClientError
    from moto.s3.responses import S3Response

    if getattr(S3Response, _INSTALLED + "_s3", False):
        return
    original_put_object = S3Response.put_object
    original_upload_part = S3Response.upload_part
    original_list_parts = S3Response.list_parts
    original_complete_body = S3Response._complete_multipart_body

    def multipart_of(self: Any) -> Any:
        upload_id = self._get_param("uploadId")
        return self.backend.get_bucket(self.bucket_name).multiparts.get(upload_id)

    def put_object(self: Any) -> Any:
        _checked_sha256(self)
        return original_put_object(self)

    def upload_part(self: Any) -> Any:
        claimed = _checked_sha256(self)
        result = original_upload_part(self)
        multipart = multipart_of(self)
        if claimed and multipart is not None:
            checksums = multipart.__dict__.setdefault(_PART_CHECKSUMS, {})
            checksums[self._get_int_param("partNumber")] = claimed
        return result

    def list_parts(self: Any) -> Any:
        multipart = multipart_of(self)
        checksums = getattr(multipart, _PART_CHECKSUMS, {}) if multipart is not None else {}
        algorithm = multipart.metadata.get("x-amz-checksum-algorithm") if multipart is not None else None
        serialized = self.serialized

        def with_checksums(action_result: Any) -> Any:
            result = action_result.result
            if isinstance(result, dict):
                for part in result.get("Parts", []):
                    if part["PartNumber"] in checksums:
                        part["ChecksumSHA256"] = checksums[part["PartNumber"]]
                if algorithm:
                    result["ChecksumAlgorithm"] = algorithm
            return serialized(action_result)

        self.serialized = with_checksums
        try:
            return original_list_parts(self)
        finally:
            del self.serialized

    def complete_multipart_body(self: Any, body: bytes) -> Any:
        from xml.dom import minidom

        multipart = multipart_of(self)
        algorithm = multipart.metadata.get("x-amz-checksum-algorithm") if multipart is not None else None
        if algorithm and str(algorithm).upper() == "SHA256":
            # The parse moto's own _complete_multipart_body makes of the same body, on the loopback sandbox.
            for part in minidom.parseString(body).getElementsByTagName("Part"):  # noqa: S318
                number = part.getElementsByTagName("PartNumber")[0].firstChild.wholeText
                if not part.getElementsByTagName("ChecksumSHA256"):
                    raise S3ClientError(
                        "InvalidRequest",
                        "The upload was created using a sha256 checksum. The complete request must include "
                        f"the checksum for each part. It was missing for part {number} in the request.",
                    )
        return original_complete_body(self, body)

    S3Response.put_object = put_object
    S3Response.upload_part = upload_part
    S3Response.list_parts = list_parts
    S3Response._complete_multipart_body = complete_multipart_body
    setattr(S3Response, _INSTALLED + "_s3", True)


SESSION_TAGS = "_sandbox_session_tags"  # AssumedRole attribute: {key: value} of the session's tags


def install_sts_session_tags() -> None:
    """Keep the `Tags` of an AssumeRole request on the session moto creates (moto 5.2 drops them).

    IAM User Guide, "Pass session tags in AWS STS": a session's tags are its aws:PrincipalTag in every
    request it makes (sandbox/iam_enforce.py reads them from here), and at most 50 may be passed.
    """
    from moto.sts.exceptions import STSValidationError
    from moto.sts.models import STSBackend
    from moto.sts.responses import TokenResponse

    if getattr(TokenResponse, _INSTALLED + "_sts", False):
        return
    original_assume_role = TokenResponse.assume_role
    original_backend_assume_role = STSBackend.assume_role
    pending: dict[str, Any] = {}  # the tags of the request being answered (moto serves one at a time)

    def assume_role(self: Any) -> Any:
        tags = self._get_param("Tags", []) or []
        if len(tags) > 50:
            raise STSValidationError("1 validation error detected: Value at 'tags' failed to satisfy constraint")
        pending["tags"] = {str(tag["Key"]): str(tag.get("Value", "")) for tag in tags}
        try:
            return original_assume_role(self)
        finally:
            pending.pop("tags", None)

    def backend_assume_role(self: Any, *args: Any, **kwargs: Any) -> Any:
        role = original_backend_assume_role(self, *args, **kwargs)
        setattr(role, SESSION_TAGS, dict(pending.get("tags", {})))
        return role

    TokenResponse.assume_role = assume_role
    STSBackend.assume_role = backend_assume_role
    setattr(TokenResponse, _INSTALLED + "_sts", True)


# SNS sends an e-mail endpoint a confirmation message; until its owner follows the link, the subscription
# is pending: ListSubscriptions(ByTopic) shows "PendingConfirmation" in place of its ARN, Subscribe answers
# "pending confirmation" unless ReturnSubscriptionArn is true, and it "can't be deleted: Amazon SNS
# automatically deletes unconfirmed subscriptions after 48 hours" (SNS developer guide, "Deleting an Amazon
# SNS subscription and topic"). moto confirms every subscription at once. The sandbox keeps e-mail
# subscriptions pending until `POST /_sandbox/sns/confirm-subscriptions` (confirm_email_subscriptions).
_PENDING_PROTOCOLS = frozenset({"email", "email-json"})
_PENDING = "_sandbox_pending_confirmation"


def _pending(subscription: Any) -> bool:
    return bool(getattr(subscription, _PENDING, False))


def install_sns_email_confirmation() -> None:
    from moto.sns.responses import SNSResponse

    if getattr(SNSResponse, _INSTALLED + "_sns", False):
        return
    original_subscribe = SNSResponse.subscribe
    original_by_topic = SNSResponse.list_subscriptions_by_topic
    original_list = SNSResponse.list_subscriptions

    def subscribe(self: Any) -> Any:
        protocol = self._get_param("Protocol")
        known = set(self.backend.subscriptions)
        result = original_subscribe(self)
        arn = result.result["SubscriptionArn"]
        subscription = self.backend.subscriptions.get(arn)
        if protocol in _PENDING_PROTOCOLS and subscription is not None:
            if arn not in known:
                setattr(subscription, _PENDING, True)
            if _pending(subscription):
                subscription.attributes["PendingConfirmation"] = "true"
                if str(self._get_param("ReturnSubscriptionArn", "false")).lower() != "true":
                    result.result["SubscriptionArn"] = "pending confirmation"
        return result

    def shown(subscription: Any) -> Any:
        if not _pending(subscription):
            return subscription
        return {
            "SubscriptionArn": "PendingConfirmation",
            "Owner": subscription.owner,
            "Protocol": subscription.protocol,
            "Endpoint": subscription.endpoint,
            "TopicArn": subscription.topic.arn,
        }

    def listing(original: Any) -> Any:
        def answer(self: Any) -> Any:
            result = original(self)
            result.result["Subscriptions"] = [shown(item) for item in result.result.get("Subscriptions") or []]
            return result

        return answer

    SNSResponse.subscribe = subscribe
    SNSResponse.list_subscriptions_by_topic = listing(original_by_topic)
    SNSResponse.list_subscriptions = listing(original_list)
    setattr(SNSResponse, _INSTALLED + "_sns", True)


def confirm_email_subscriptions(region: str, payload: dict[str, Any]) -> dict[str, Any]:
    """What the owner of an address does by following the confirmation link (admin hook
    `sns/confirm-subscriptions`): confirm the pending subscriptions of `topic_arn`, of `endpoint`, or all."""
    from moto.sns.models import sns_backends

    from sandbox.jsonproto import ACCOUNT_ID

    backend = sns_backends[ACCOUNT_ID][region]
    confirmed = []
    for subscription in list(backend.subscriptions.values()):
        if not _pending(subscription):
            continue
        if payload.get("topic_arn") and subscription.topic.arn != payload["topic_arn"]:
            continue
        if payload.get("endpoint") and subscription.endpoint != payload["endpoint"]:
            continue
        setattr(subscription, _PENDING, False)
        subscription.attributes["PendingConfirmation"] = "false"
        confirmed.append({"endpoint": subscription.endpoint, "subscription_arn": subscription.arn})
    return {"confirmed": confirmed}


# The condition keys a bucket policy of the toolkit uses, as the sandbox's requests have them: the loopback
# HTTP endpoint stands for AWS's HTTPS one (boto3 and the uploader speak TLS to AWS), so every request is
# taken as having come over TLS.
BUCKET_POLICY_CONTEXT = {"aws:securetransport": ["true"]}  # keys lower-cased, as iam_enforce looks them up


def bucket_policy_permission(policy: dict[str, Any], action: str, resource: str) -> str:
    """DENIED, PERMITTED or NEUTRAL: a bucket policy's statements for anyone (Principal "*") on one request.

    What moto 5.2 gets wrong: it ignores a statement's conditions, and a statement whose conditions do not
    hold counts as a Deny there, so a Deny of requests without TLS (aws:SecureTransport false) refuses every
    request. Here a statement applies only when its action, resource and conditions all match (IAM policy
    evaluation logic: an explicit Deny wins, then an Allow); statements for named principals are left out, as
    moto leaves them (it only evaluates Principal "*")."""
    from sandbox.iam_enforce import UnknownOperator, action_matches, arn_matches, conditions_hold

    statements = policy.get("Statement", [])
    statements = [statements] if isinstance(statements, dict) else statements
    verdict = "NEUTRAL"
    for statement in statements:
        principal = statement.get("Principal")
        if principal not in ("*", {"AWS": "*"}):
            continue
        actions = statement.get("Action", [])
        resources = statement.get("Resource", [])
        actions = [actions] if isinstance(actions, str) else actions
        resources = [resources] if isinstance(resources, str) else resources
        if not any(action_matches(pattern, action) for pattern in actions):
            continue
        if not any(arn_matches(pattern, resource) for pattern in resources):
            continue
        try:
            holds = conditions_hold(statement.get("Condition") or {}, BUCKET_POLICY_CONTEXT)
        except UnknownOperator:
            holds = statement.get("Effect") == "Deny"  # fails closed: such a Deny applies, such an Allow never
        if not holds:
            continue
        if statement.get("Effect") == "Deny":
            return "DENIED"
        verdict = "PERMITTED"
    return verdict


def install_s3_bucket_policy_conditions() -> None:
    import json

    from moto.iam.access_control import PermissionResult
    from moto.s3.models import FakeBucket

    if getattr(FakeBucket, _INSTALLED + "_policy", False):
        return

    def get_permission(self: Any, action: str, resource: str) -> Any:
        if self.policy is None:
            return PermissionResult.NEUTRAL
        verdict = bucket_policy_permission(json.loads(self.policy), action, resource)
        return getattr(PermissionResult, verdict)

    FakeBucket.get_permission = get_permission
    setattr(FakeBucket, _INSTALLED + "_policy", True)


# DynamoDB evaluates a write's ConditionExpression and applies the write as one atomic step: of two
# PutItem calls conditioned on attribute_not_exists(pk), exactly one succeeds ("Condition expressions",
# DynamoDB developer guide: conditional writes are atomic). moto checks and writes in plain Python with
# no lock, and the sandbox serves requests on threads, so two simultaneous requests could both pass
# the check. The toolkit's tenant locks (plugins/module_utils/state/lock.py) rest on that atomicity.
_DYNAMODB_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item")


def install_dynamodb_atomic_writes() -> None:
    """Serialise moto's DynamoDB writes (check and write under one lock), as AWS makes each atomic."""
    import functools
    import threading

    from moto.dynamodb.models import DynamoDBBackend

    if getattr(DynamoDBBackend, _INSTALLED + "_dynamodb", False):
        return
    writes = threading.RLock()

    def atomic(method: Any) -> Any:
        @functools.wraps(method)
        def write(self: Any, *args: Any, **kwargs: Any) -> Any:
            with writes:
                return method(self, *args, **kwargs)

        return write

    for name in _DYNAMODB_WRITES:
        if hasattr(DynamoDBBackend, name):
            setattr(DynamoDBBackend, name, atomic(getattr(DynamoDBBackend, name)))
    setattr(DynamoDBBackend, _INSTALLED + "_dynamodb", True)


# IAM users take a permissions boundary as roles do: CreateUser's PermissionsBoundary, PutUserPermissionsBoundary,
# DeleteUserPermissionsBoundary, and GetUser returns it (IAM API reference; "Permissions boundaries for IAM
# entities"). moto 5.2 keeps boundaries of roles only: it drops CreateUser's and answers the two others with "not
# implemented", so a policy that holds users within a boundary could not be tested.
def install_user_permissions_boundaries() -> None:
    from moto.core.responses import EmptyResult
    from moto.iam.models import User
    from moto.iam.responses import IamResponse

    if getattr(User, _INSTALLED + "_boundary", False):
        return

    def boundary(self: Any) -> dict[str, str] | None:
        arn = getattr(self, "permissions_boundary_arn", None)
        return {"PermissionsBoundaryType": "PermissionsBoundaryPolicy", "PermissionsBoundaryArn": arn} if arn else None

    original_create = IamResponse.create_user

    def create_user(self: Any) -> Any:
        result = original_create(self)
        arn = self._get_param("PermissionsBoundary")
        if arn:
            self.backend.get_user(self._get_param("UserName")).permissions_boundary_arn = arn
        return result

    def put_user_permissions_boundary(self: Any) -> Any:
        user = self.backend.get_user(self._get_param("UserName"))  # NoSuchEntity when unknown
        user.permissions_boundary_arn = self._get_param("PermissionsBoundary")
        return EmptyResult()

    def delete_user_permissions_boundary(self: Any) -> Any:
        self.backend.get_user(self._get_param("UserName")).permissions_boundary_arn = None
        return EmptyResult()

    User.permissions_boundary_arn = None
    User.permissions_boundary = property(boundary)
    IamResponse.create_user = create_user
    IamResponse.put_user_permissions_boundary = put_user_permissions_boundary
    IamResponse.delete_user_permissions_boundary = delete_user_permissions_boundary
    setattr(User, _INSTALLED + "_boundary", True)


# moto reads one EC2 resource's tags (TaggedEC2Resource.get_tags, which every Describe* call's tag filters and
# responses use for each resource they look at) through describe_tags with a resource-id filter: a copy of the
# region's whole tag table, and a regular expression matched against every tag of every resource. A Describe*
# over the region's resources cost resources x tags, and grew with the square of the tenants in the sandbox:
# with fifty tenants' networks, the sandbox spent 15 s of CPU in their no-op (the controller, 141 s), on the
# same two cores as the controller. The resource's own entry of the tag table is read instead: the same tags,
# in the same order and form as describe_tags gives them.
def install_ec2_tags_by_id() -> None:
    from moto.ec2.models.core import TaggedEC2Resource
    from moto.ec2.utils import EC2_PREFIX_TO_RESOURCE, get_prefix

    if getattr(TaggedEC2Resource, _INSTALLED + "_tags", False):
        return

    def get_tags(self: Any) -> list[dict[str, str]]:
        resource_id = getattr(self, "id", None)
        if not resource_id:
            return []
        tags = self.ec2_backend.tags.get(resource_id) or {}
        resource_type = EC2_PREFIX_TO_RESOURCE.get(get_prefix(resource_id), "")
        return [
            {"resource_id": resource_id, "key": key, "value": value, "resource_type": resource_type}
            for key, value in list(tags.items())
        ]

    TaggedEC2Resource.get_tags = get_tags
    setattr(TaggedEC2Resource, _INSTALLED + "_tags", True)


def install() -> None:
    install_saml_provider_tags()
    install_dhcp_options_tag_specifications()
    install_s3_sha256_checksums()
    install_sts_session_tags()
    install_sns_email_confirmation()
    install_s3_bucket_policy_conditions()
    install_dynamodb_atomic_writes()
    install_user_permissions_boundaries()
    install_ec2_tags_by_id()
