"""The read side, shared by the stream worker and the gateway: pure per-family folds (:mod:`.state`),
the roll-up of units into sites, administrations and the region (:mod:`.rollup`), and the
green/yellow/red health evaluation (:mod:`.health`). Nothing here touches a broker or a database.
"""
