"""Hypercare exit per wave: the exit criteria judged over a wave's units, and the "handover to support" decision."""
