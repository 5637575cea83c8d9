"""Permissions of identities on Documents, Maps and Lists, and the ACL check they drive.

A Permission binds an identity to one object with ``read``, ``write`` and ``manage`` flags;
the REST ``POST .../Permissions/{Identity}`` is an upsert (all three flags required).
Permissions only matter when the Service has ``AclEnabled``; then a client may read an object
with ``read`` or ``manage`` and write it (or its items) with ``write`` or ``manage``.
Deleting a Permission is the same as setting every flag to false.
"""

from __future__ import annotations

from ...core.errors import TwilioError, not_found
from ...core.segments import resource_path
from .base import BackendBase
from .common import FORBIDDEN_STATUS, STREAM, check_identity
from .entities import Permission, SyncObject

READ = "read"
WRITE = "write"


def allows(permission: Permission | None, access: str) -> bool:
    """Whether ``permission`` grants ``access`` (``"read"`` or ``"write"``); manage grants both."""
    if permission is None:
        return False
    if permission.manage:
        return True
    return permission.read if access == READ else permission.write


class PermissionsMixin(BackendBase):
    """Per-object, per-identity permissions (``kind`` is ``"document"``, ``"map"``, ``"list"``)."""

    def set_permission(
        self,
        kind: str,
        service_sid: str,
        ref: str,
        identity: str,
        *,
        read: bool,
        write: bool,
        manage: bool,
    ) -> Permission:
        """Create or replace ``identity``'s Permission on the object (54351 bad identity)."""
        target = self._permission_target(kind, service_sid, ref)
        check_identity(identity)
        permission = target.permissions.get(identity)
        if permission is None:
            permission = Permission(target, identity, read, write, manage)
            target.permissions[identity] = permission
        else:
            permission.read, permission.write, permission.manage = read, write, manage
        return permission

    def get_permission(self, kind: str, service_sid: str, ref: str, identity: str) -> Permission:
        """``identity``'s Permission on the object (20404 when it has none)."""
        target = self._permission_target(kind, service_sid, ref)
        permission = target.permissions.get(identity)
        if permission is None:
            raise not_found(target.path + resource_path("Permissions", identity))
        return permission

    def list_permissions(self, kind: str, service_sid: str, ref: str) -> list[Permission]:
        """Every Permission on the object, in creation order."""
        return list(self._permission_target(kind, service_sid, ref).permissions.values())

    def delete_permission(self, kind: str, service_sid: str, ref: str, identity: str) -> None:
        """Remove ``identity``'s Permission (20404 when it has none)."""
        target = self._permission_target(kind, service_sid, ref)
        if target.permissions.pop(identity, None) is None:
            raise not_found(target.path + resource_path("Permissions", identity))

    def check_access(self, target: SyncObject, identity: str, access: str) -> None:
        """Raise 54007 (HTTP 403) unless ``identity`` may ``access`` ``target``.

        Always allowed when the Service has ACL disabled.
        """
        if not target.service.acl_enabled:
            return
        if not allows(target.permissions.get(identity), access):
            raise TwilioError(
                54007,
                f"Access forbidden for identity {identity!r}: no {access} permission on "
                f"{target.spec.label} {target.sid}",
                FORBIDDEN_STATUS,
            )

    def _permission_target(self, kind: str, service_sid: str, ref: str) -> SyncObject:
        if kind == STREAM:
            raise TwilioError(20001, "Streams have no Permissions", 400)
        return self._object(kind, service_sid, ref)
