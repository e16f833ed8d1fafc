"""Passwords: Argon2id at the parameters the README states; old Argon2 hashes are re-hashed
with them at the next successful sign-in, and only then."""

import argon2
import pytest
from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher, check_password

from core.hashers import ConcordArgon2PasswordHasher
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
# What the test profile uses outside this file (MD5 first, for speed) minus MD5: the
# production and embedded profiles' list.
PRODUCTION_HASHERS = [h for h in settings.PASSWORD_HASHERS if "MD5" not in h]


def params_of(encoded: str) -> argon2.Parameters:
    algorithm, rest = encoded.split("$", 1)
    assert algorithm == "argon2"
    return argon2.extract_parameters("$" + rest)


def django_default_hash(password: str) -> str:
    return Argon2PasswordHasher().encode(password, Argon2PasswordHasher().salt())


@pytest.fixture
def production_hashers(settings):
    settings.PASSWORD_HASHERS = PRODUCTION_HASHERS


def test_chosen_parameters_are_the_ones_the_readme_states():
    # README, "Passwords": Argon2id, 19 MiB (19,456 KiB), 2 iterations, parallelism 1.
    params = params_of(ConcordArgon2PasswordHasher().encode("x" * 12, "saltsaltsalt"))
    assert params.type is argon2.Type.ID
    assert (params.memory_cost, params.time_cost, params.parallelism) == (19456, 2, 1)


def test_concord_hasher_comes_first_and_django_default_argon2_still_verifies():
    assert PRODUCTION_HASHERS[:2] == [
        "core.hashers.ConcordArgon2PasswordHasher",
        "django.contrib.auth.hashers.Argon2PasswordHasher",
    ]
    # The test profile only adds a fast hasher in front of the same list.
    assert settings.PASSWORD_HASHERS == [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        *PRODUCTION_HASHERS,
    ]


def test_new_password_is_hashed_with_the_chosen_parameters(production_hashers, patient_user):
    patient_user.set_password(PASSWORD)
    params = params_of(patient_user.password)
    assert (params.memory_cost, params.time_cost, params.parallelism) == (19456, 2, 1)


def test_old_argon2_hash_signs_in_and_is_rewritten_with_the_chosen_parameters(
    client, production_hashers, patient_user
):
    old = django_default_hash(PASSWORD)
    old_params = params_of(old)
    assert (old_params.memory_cost, old_params.time_cost, old_params.parallelism) == (102400, 2, 8)
    patient_user.password = old
    patient_user.save(update_fields=["password"])

    response = client.post(LOGIN, {"login": patient_user.email, "password": PASSWORD})

    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == patient_user.pk
    patient_user.refresh_from_db()
    assert patient_user.password != old
    new_params = params_of(patient_user.password)
    assert new_params.type is argon2.Type.ID
    assert (new_params.memory_cost, new_params.time_cost, new_params.parallelism) == (19456, 2, 1)
    assert check_password(PASSWORD, patient_user.password)
    # Signed in again, the new hash is kept as it is.
    client.logout()
    rewritten = patient_user.password
    assert (
        client.post(LOGIN, {"login": patient_user.email, "password": PASSWORD}).status_code == 302
    )
    patient_user.refresh_from_db()
    assert patient_user.password == rewritten


def test_wrong_password_does_not_rewrite_an_old_hash(client, production_hashers, patient_user):
    old = django_default_hash(PASSWORD)
    patient_user.password = old
    patient_user.save(update_fields=["password"])

    response = client.post(LOGIN, {"login": patient_user.email, "password": "not-the-password"})

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    patient_user.refresh_from_db()
    assert patient_user.password == old
