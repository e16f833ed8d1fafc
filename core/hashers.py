"""Concord's password hasher: Argon2id at OWASP's first recommended setting.

Django's default Argon2 (100 MiB, 2 passes, 8 lanes) costs each sign-in far more memory and CPU
than the guidance asks; on a small clinic server a rush of sign-ins queues behind it. OWASP's
Password Storage Cheat Sheet lists equivalent Argon2id minimums (19 MiB / 2 passes / 1 lane is
the first); we take that one:
- 19 MiB (19,456 KiB) per check still forces an offline attacker to spend memory per guess,
  which is what defeats GPU and ASIC cracking;
- 2 passes over that memory; 1 lane, because a sign-in is one request on one gunicorn worker
  and the other cores serve the other requests.

The algorithm name stays "argon2": hashes made with Django's defaults still verify, and
must_update() (parameters differ) makes Django re-hash them with these at the next successful
sign-in. Raise these, never lower them, and keep the old hasher listed after this one.
"""

from django.contrib.auth.hashers import Argon2PasswordHasher


class ConcordArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2id (Django's Argon2 type), m=19456 KiB, t=2, p=1."""

    memory_cost = 19456  # KiB = 19 MiB
    time_cost = 2
    parallelism = 1
