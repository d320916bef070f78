"""User-pool users, user/stack associations, streaming URLs and sessions."""

from __future__ import annotations

from typing import Any

from sandbox.backends.appstream.base import AppStreamBase
from sandbox.backends.appstream.images import streaming_url
from sandbox.backends.appstream.resources import RegionState, User, arn
from sandbox.errors import AwsError, already_exists, invalid_combination, not_found, not_permitted
from sandbox.jsonproto import Context


class UsersMixin(AppStreamBase):
    # -- users --------------------------------------------------------------------------------
    @staticmethod
    def require_user_pool(authentication_type: str) -> None:
        if authentication_type != "USERPOOL":
            raise invalid_combination(f"Only USERPOOL users are managed by this API, not {authentication_type}.")

    def user(self, rs: RegionState, name: str, authentication_type: str) -> User:
        found = rs.users.get((name, authentication_type))
        if found is None:
            raise not_found(f"User {name} ({authentication_type}) does not exist.")
        return found

    def create_user(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        rs = self.rs(ctx)
        name, kind = params["UserName"], params["AuthenticationType"]
        self.require_user_pool(kind)
        if params.get("MessageAction") == "RESEND":
            if params.get("FirstName") or params.get("LastName"):
                raise invalid_combination("With MessageAction RESEND, do not give FirstName or LastName.")
            self.user(rs, name, kind)  # the invitation is sent again to an existing user
            return {}
        if (name, kind) in rs.users:
            raise already_exists(f"User {name} already exists.")
        rs.users[(name, kind)] = User(
            name=name,
            authentication_type=kind,
            arn=arn(ctx.region, ctx.account_id, "user/userpool", name),
            first_name=params.get("FirstName"),
            last_name=params.get("LastName"),
        )
        return {}

    def describe_users(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        rs = self.rs(ctx)
        self.require_user_pool(params["AuthenticationType"])
        users = [u for u in rs.users.values() if u.authentication_type == params["AuthenticationType"]]
        page, token = self.page("DescribeUsers", users, params)
        return self.with_token({"Users": [self.shaped("User", u.describe()) for u in page]}, token)

    def delete_user(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        rs = self.rs(ctx)
        user = self.user(rs, params["UserName"], params["AuthenticationType"])
        del rs.users[(user.name, user.authentication_type)]
        for key in [k for k in rs.user_stacks if k[1:] == (user.name, user.authentication_type)]:
            del rs.user_stacks[key]
        return {}

    def enable_user(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        self.user(self.rs(ctx), params["UserName"], params["AuthenticationType"]).enabled = True
        return {}

    def disable_user(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        self.user(self.rs(ctx), params["UserName"], params["AuthenticationType"]).enabled = False
        return {}

    # -- user/stack associations --------------------------------------------------------------
    def association_error(self, rs: RegionState, association: dict[str, Any]) -> dict[str, Any] | None:
        """The per-item error BatchAssociateUserStack reports for one association, if any."""
        stack_name, user_name, kind = (
            association["StackName"],
            association["UserName"],
            association["AuthenticationType"],
        )
        if stack_name not in rs.stacks:
            return _item_error(association, "STACK_NOT_FOUND", f"Stack {stack_name} does not exist.")
        if (user_name, kind) not in rs.users:
            return _item_error(association, "USER_NAME_NOT_FOUND", f"User {user_name} does not exist.")
        joined = [f for f in rs.fleets_of(stack_name) if rs.fleets[f].domain_joined]
        if kind == "USERPOOL" and joined:
            return _item_error(
                association,
                "DIRECTORY_NOT_FOUND",
                f"User pool users cannot be assigned to stack {stack_name}: its fleet {joined[0]} is joined to an "
                "Active Directory domain.",
            )
        return None

    def batch_associate_user_stack(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        rs = self.rs(ctx)
        errors = []
        for association in params["UserStackAssociations"]:
            self.require_user_pool(association["AuthenticationType"])
            error = self.association_error(rs, association)
            if error:
                errors.append(error)
                continue
            key = (association["StackName"], association["UserName"], association["AuthenticationType"])
            rs.user_stacks[key] = bool(association.get("SendEmailNotification", False))
        return {"errors": errors}

    def batch_disassociate_user_stack(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        rs = self.rs(ctx)
        errors = []
        for association in params["UserStackAssociations"]:
            key = (association["StackName"], association["UserName"], association["AuthenticationType"])
            if association["StackName"] not in rs.stacks:
                errors.append(_item_error(association, "STACK_NOT_FOUND", f"Stack {key[0]} does not exist."))
            elif key[1:] not in rs.users:
                errors.append(_item_error(association, "USER_NAME_NOT_FOUND", f"User {key[1]} does not exist."))
            else:
                rs.user_stacks.pop(key, None)
        return {"errors": errors}

    def describe_user_stack_associations(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        rs = self.rs(ctx)
        stack_name, user_name, kind = params.get("StackName"), params.get("UserName"), params.get("AuthenticationType")
        if not stack_name and not user_name:
            raise invalid_combination("Specify StackName, or UserName with AuthenticationType, or both.")
        if bool(user_name) != bool(kind):
            raise invalid_combination("UserName and AuthenticationType go together.")
        found = [
            {"StackName": s, "UserName": u, "AuthenticationType": k}
            for (s, u, k) in rs.user_stacks
            if (not stack_name or s == stack_name) and (not user_name or (u, k) == (user_name, kind))
        ]
        page, token = self.page("DescribeUserStackAssociations", found, params)
        return self.with_token({"UserStackAssociations": page}, token)

    # -- streaming and sessions ---------------------------------------------------------------
    def create_streaming_url(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        rs = self.rs(ctx)
        stack = self.stack(rs, params["StackName"])
        fleet = self.fleet(rs, params["FleetName"])
        if (fleet.name, stack.name) not in rs.fleet_stacks:
            raise invalid_combination(f"Fleet {fleet.name} is not associated with stack {stack.name}.")
        if fleet.domain_joined and fleet.fleet_type in ("ALWAYS_ON", "ON_DEMAND"):
            raise not_permitted(
                f"Fleet {fleet.name} is joined to an Active Directory domain: streaming URLs cannot be used; "
                "users sign in through SAML 2.0 federation."
            )
        if fleet.state != "RUNNING":
            raise AwsError("ResourceNotAvailableException", f"Fleet {fleet.name} is {fleet.state}, not RUNNING.")
        validity = params.get("Validity", 60)
        if not 1 <= validity <= 604800:
            raise invalid_combination("Validity must be between 1 and 604800 seconds.")
        url, expires = streaming_url(ctx.region, "stack", f"{stack.name}/{fleet.name}/{params['UserId']}", validity)
        return {"StreamingURL": url, "Expires": expires}

    def describe_sessions(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        rs = self.rs(ctx)
        if params.get("UserId") and not params.get("AuthenticationType"):
            raise invalid_combination("UserId requires AuthenticationType.")
        limit = params.get("Limit")
        if limit is not None and not 1 <= limit <= 50:
            raise invalid_combination("Limit must be between 1 and 50.")
        kind = params.get("AuthenticationType") or "API"  # documented default: streaming-URL users
        sessions = [
            s
            for s in rs.sessions.values()
            if s.stack == params["StackName"]
            and s.fleet == params["FleetName"]
            and s.authentication_type == kind
            and (not params.get("UserId") or s.user_id == params["UserId"])
            and (not params.get("InstanceId") or s.instance_id == params["InstanceId"])
        ]
        page, token = self.page("DescribeSessions", sessions, params, limit_key="Limit")
        return self.with_token({"Sessions": [self.shaped("Session", s.describe()) for s in page]}, token)

    def expire_session(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        rs = self.rs(ctx)
        session = rs.sessions.get(params["SessionId"])
        if session is not None:
            self.session_ended(rs, session)
        return {}


def _item_error(association: dict[str, Any], code: str, message: str) -> dict[str, Any]:
    return {"UserStackAssociation": dict(association), "ErrorCode": code, "ErrorMessage": message}
