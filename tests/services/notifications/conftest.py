"""The notification tests' real receivers (tests/_support/notification_receivers.py) as fixtures."""

from notification_receivers import mailbox, receivers

__all__ = ["mailbox", "receivers"]
