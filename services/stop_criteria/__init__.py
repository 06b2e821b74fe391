"""Stop criteria: the coordination group's pre-agreed go/no-go criteria, evaluated from the event store."""
