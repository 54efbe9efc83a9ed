"""CUCM source (type ``cucm``, AXL): options.py is its configuration schema, connector.py reads it, fact.py is
what syncd keeps of each user. The package imports nothing, so loading the configuration does not load zeep."""
