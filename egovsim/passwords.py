"""Password hashing: argon2id, at the cost ``settings.password_hashing`` chooses.

``standard`` (the default) is argon2-cffi's RFC 9106 low-memory profile, about 0.1 s a hash on a
laptop: what a service holding people's passwords should spend. ``fast`` (t=1, 1 MiB) is for
throw-away test simulators only, the QA replay's and test suites', where hundreds of accounts are
made and logged into per run; it is never the default. A hash carries its own parameters, so
either profile verifies hashes made by the other.
"""

from __future__ import annotations

from functools import cache
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

Profile = Literal["standard", "fast"]
_PARAMETERS: dict[str, dict[str, int]] = {
    "standard": {},  # argon2-cffi's defaults: RFC 9106 low-memory (t=3, m=64 MiB, p=4)
    "fast": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1},
}


@cache
def hasher(profile: Profile = "standard") -> PasswordHasher:
    return PasswordHasher(**_PARAMETERS[profile])


@cache
def dummy_hash(profile: Profile = "standard") -> str:
    """A hash no password matches, verified when there is no account, so that an unknown login
    costs as much as a wrong password."""
    return hasher(profile).hash("egovsim-no-such-account-0")


def verify(profile: Profile, password_hash: str, password: str) -> bool:
    try:
        return hasher(profile).verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
