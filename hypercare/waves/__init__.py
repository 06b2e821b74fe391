"""Waves side by side: figures aligned on the hours since each unit's go-live (:mod:`hypercare.waves.compare`)."""
