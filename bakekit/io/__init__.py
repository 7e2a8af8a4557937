"""Import, export and reconciliation: bake-tracker files (``bake_tracker``), views and
bt_mobile files (``bt_views``, ``bt_view_stock``), bakekit's own JSON (``export``), history
(``history``), spreadsheets (``reconcile``, ``reconcile_prices``, ``tabular``).

The ``ws.io`` area over them is ``bakekit.areas.io.IO``.
"""
