import pytest

from alliance import selectors, services


@pytest.fixture
def instruments(db):
    """The shipped instruments (the migration loads them; transactional tests flush them)."""
    services.install_shipped()
    return {i.key: i for i in selectors.instruments_offered()}


def answer_all(instrument, value):
    return {item["id"]: value for item in instrument.definition["items"]}
