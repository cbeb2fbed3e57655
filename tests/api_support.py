"""Helpers of the API tests: an HTTP client speaking JSON with a caller's token, users with
real tokens, and the common error shape."""

from __future__ import annotations

import json

from django.contrib.auth.models import Group, User
from django.test import Client

from system import policy
from system.identity import AGENT_GROUP
from system.models import ApiToken


class ApiClient:
    """Django's test client with a caller's token, sending and reading JSON."""

    def __init__(self, identity: str, token: str | None, user: User | None = None):
        self.identity = identity
        self.user = user
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
        self.client = Client(**headers)

    def _send(self, method, path, body=None, **headers):
        data = json.dumps(body) if body is not None else None
        kwargs = {"content_type": "application/json"} if data is not None else {}
        return getattr(self.client, method)(path, data, **kwargs, **headers)

    def get(self, path, params=None):
        return self.client.get(path, params or {})

    def post(self, path, body=None, **headers):
        return self._send("post", path, {} if body is None else body, **headers)

    def patch(self, path, body, **headers):
        return self._send("patch", path, body, **headers)

    def put(self, path, body, **headers):
        return self._send("put", path, body, **headers)

    def delete(self, path):
        return self.client.delete(path)


def make_user(
    username: str, *, agent: bool, staff: bool = False, role: str | None = None
) -> tuple[User, str]:
    """A user with a token, in a role group (by default: agents are ``agent``, staff are
    ``lead``, other people ``viewer``); ``role=""`` for no role at all."""
    if role is None:
        role = policy.Role.AGENT if agent else policy.Role.LEAD if staff else policy.Role.VIEWER
    user = User.objects.create_user(username=username, is_staff=staff)
    if agent:
        user.groups.add(Group.objects.get_or_create(name=AGENT_GROUP)[0])
    if role:
        user.groups.add(Group.objects.get(name=policy.group_name(role)))
    _, token = ApiToken.issue(user)
    return user, token


def error_of(response) -> dict:
    """The body's error object, after checking the common shape."""
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert error["status"] == response.status_code
    assert {"status", "code", "message"} <= set(error)
    return error
