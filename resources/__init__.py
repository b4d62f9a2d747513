"""Bundled resources (default projects, icons, screenshots), installed as ``studio.resources``."""
