"""Active Directory connector (source type ``ad``, ldap3): see :mod:`connectors.ad.connector`."""

from connectors.ad.connector import AdConnector
from connectors.ad.options import AdOptions, validate_dn, validate_filter

__all__ = ["AdConnector", "AdOptions", "validate_dn", "validate_filter"]
