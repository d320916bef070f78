"""Sends instrument acquisitions to the tenant's S3 landing bucket, resumably, manifest last."""

__version__ = "0.1.0"
