"""Kafka helpers shared by the API and the worker, free of Faust."""
