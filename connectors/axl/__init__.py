"""Small SOAP/XML helpers shared by the CUCM connector and the AXL simulator (no zeep, no I/O)."""
