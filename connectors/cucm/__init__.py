"""CUCM AXL connector (source type ``cucm``): see :class:`CucmConnector` and :class:`CucmOptions`."""

from .client import AxlError
from .connector import CucmConnector
from .options import CucmOptions

__all__ = ["AxlError", "CucmConnector", "CucmOptions"]
