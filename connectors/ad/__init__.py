"""Active Directory source (type ``ad``, ldap3): options.py is its configuration schema, connector.py reads it,
fact.py is what syncd keeps of each account. The package imports nothing, so loading the configuration does not
load ldap3's connection machinery."""
