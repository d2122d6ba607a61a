"""bace-opt's version, in one place: the wheel's metadata is read from here
(``[tool.hatch.version]``) and every output's ``provenance`` names it."""

__version__ = "0.6.0"
