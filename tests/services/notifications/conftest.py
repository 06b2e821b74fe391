"""The notification tests' real receivers (tests/_support/notification_receivers.py) as fixtures, and a
PostgreSQL database per module: a dispatcher claims every due row of its database, so rows other tests left
pending (for recipients these tests do not know) must not be there."""

from collections.abc import Iterator

import pytest
from notification_receivers import mailbox, receivers
from pg_databases import fresh_pg_database

__all__ = ["mailbox", "pg_url", "receivers"]


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    with fresh_pg_database("hc_notify") as url:
        yield url
