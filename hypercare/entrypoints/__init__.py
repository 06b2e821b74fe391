"""Entry points: the ``hypercare`` CLI, ``hypercare up`` (embedded broker, worker, API) and the traffic simulator.

The only part of ``hypercare`` that may import ``services`` and ``streams``; it wires them together.
"""
