"""The CWMS XML API connector: client, records and the ``[cwms]`` options (DESIGN.md section 12)."""
