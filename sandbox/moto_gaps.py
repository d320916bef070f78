"""What AWS does and moto 5.2 does not, where the toolkit depends on it. Installed once per process.

- Tags on IAM SAML providers (`install_saml_provider_tags`).
- TagSpecifications of EC2 CreateDhcpOptions (`install_dhcp_options_tag_specifications`).

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


def install() -> None:
    install_saml_provider_tags()
    install_dhcp_options_tag_specifications()
